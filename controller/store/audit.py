"""Repository functions for the audit log: chained append under a lock, ordered scans."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Engine, and_, func, or_, select, update

from controller.store.engine import reading
from controller.store.records import AuditReview, AuditRow
from controller.store.schema import (
    audit_events,
    audit_head,
    audit_reviews,
)

RowBuilder = Callable[[int, str, datetime | None], Mapping[str, Any]]


def append(engine: Engine, build_row: RowBuilder) -> Mapping[str, Any]:
    """Append one chained row; ``build_row(seq, prev_hash, prev_at)`` returns its columns.

    ``prev_at`` is the time of the row before (None for the first), read under
    the same lock, so the builder can keep the log's times in order.

    The chain head is locked for the whole transaction (``SELECT ... FOR UPDATE``
    on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so concurrent writers in any
    number of threads or processes line up and can never fork the chain. The
    unique ``prev_hash`` column is the database's own second guard.
    """
    with engine.begin() as conn:
        head = conn.execute(
            select(audit_head.c.last_id, audit_head.c.last_hash)
            .where(audit_head.c.id == 1)
            .with_for_update()
        ).one()
        prev_at = conn.execute(select(audit_events.c.at).where(
            audit_events.c.id == head.last_id)).scalar_one_or_none()
        row = dict(build_row(head.last_id + 1, head.last_hash, prev_at))
        conn.execute(audit_events.insert().values(**row))
        conn.execute(
            update(audit_head)
            .where(audit_head.c.id == 1)
            .values(last_id=row["id"], last_hash=row["hash"])
        )
    return row


def head(engine: Engine) -> tuple[int, str]:
    """Return the sequence number and hash the chain head records."""
    with engine.connect() as conn:
        row = conn.execute(
            select(audit_head.c.last_id, audit_head.c.last_hash).where(audit_head.c.id == 1)
        ).one()
    return int(row.last_id), str(row.last_hash)


def keyed_from(engine: Engine) -> int:
    """The first sequence number chained with the keyed hash (earlier rows: plain SHA-256)."""
    with engine.connect() as conn:
        return int(conn.execute(
            select(audit_head.c.keyed_from).where(audit_head.c.id == 1)).scalar_one())


def scan(engine: Engine, batch: int = 5000) -> Iterator[AuditRow]:
    """Yield every audit row in sequence order, reading in batches."""
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(audit_events).where(audit_events.c.id > last)
                .order_by(audit_events.c.id).limit(batch)
            ).mappings().all()
        if not rows:
            return
        for row in rows:
            yield cast("AuditRow", dict(row))
        last = int(rows[-1]["id"])


def search(
    engine: Engine,
    *,
    actor: str | None = None,
    action: str | None = None,
    plate: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    before: int | None = None,
    after: int | None = None,
) -> list[AuditRow]:
    """Return the newest audit rows matching the filters (all optional), newest first.

    ``before``/``after`` page by entry number (keyset): the rows older than ``before``,
    or the oldest ``limit`` rows newer than ``after`` (still returned newest first).
    """
    conditions = []
    if before is not None:
        conditions.append(audit_events.c.id < before)
    if after is not None:
        conditions.append(audit_events.c.id > after)
    if actor:
        conditions.append(audit_events.c.actor == actor)
    if action:
        conditions.append(audit_events.c.action == action)
    if plate:
        conditions.append(audit_events.c.plate == plate)
    if since:
        conditions.append(audit_events.c.at >= since)
    if until:
        conditions.append(audit_events.c.at < until)
    order = audit_events.c.id.asc() if after is not None else audit_events.c.id.desc()
    query = select(audit_events).order_by(order).limit(limit)
    if conditions:
        query = query.where(and_(*conditions))
    with engine.connect() as conn:
        rows = [cast("AuditRow", dict(r)) for r in conn.execute(query).mappings().all()]
    return rows[::-1] if after is not None else rows


def actions(engine: Engine) -> list[str]:
    """Every action name the log holds, sorted."""
    query = select(audit_events.c.action).distinct().order_by(audit_events.c.action)
    with engine.connect() as conn:
        return [str(a) for a in conn.execute(query).scalars()]


def count(engine: Engine) -> int:
    """Return how many audit rows exist."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def record_review(engine: Engine, *, quarter: str, reviewed_on: date, findings: str,
                  actions: str, actor: str, now: datetime) -> int:
    """Store the administrator's review of a quarter; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(audit_reviews.insert().values(
            quarter=quarter, reviewed_on=reviewed_on, findings=findings, actions=actions,
            reviewed_by=actor, recorded_at=now).returning(audit_reviews.c.id)).scalar_one())


def list_reviews(engine: Engine) -> list[AuditReview]:
    """Recorded reviews, the most recently reviewed first."""
    with engine.connect() as conn:
        return [cast("AuditReview", dict(r)) for r in conn.execute(select(audit_reviews).order_by(
            audit_reviews.c.reviewed_on.desc(), audit_reviews.c.id.desc())).mappings().all()]


def audit_lines_about(engine: Engine, *, plates: Sequence[str], read_uuids: Sequence[str],
                      case_number: str, limit: int = 10_000) -> list[AuditRow]:
    """Access-log rows about these plates, reads (by uuid) or this case number."""
    conditions = [audit_events.c.case_number == case_number]
    if plates:
        conditions.append(audit_events.c.plate.in_(list(plates)))
    conditions.extend(audit_events.c.data.like(f"%{u}%") for u in read_uuids[:500])
    with engine.connect() as conn:
        return [cast("AuditRow", dict(r)) for r in conn.execute(
            select(audit_events).where(or_(*conditions))
            .order_by(audit_events.c.id).limit(limit)).mappings().all()]


def audit_between(engine: Engine, since: datetime, until: datetime,
                  batch: int = 5000) -> Iterator[AuditRow]:
    """Every access-log row in ``[since, until)`` in sequence order, read in batches."""
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(audit_events).where(
                audit_events.c.id > last, audit_events.c.at >= since, audit_events.c.at < until)
                .order_by(audit_events.c.id).limit(batch)).mappings().all()
        if not rows:
            return
        yield from (cast("AuditRow", dict(r)) for r in rows)
        last = int(rows[-1]["id"])


def audit_event(engine: Engine, event_id: int) -> AuditRow | None:
    """One access-log row by sequence number, or None."""
    with reading(engine) as conn:
        row = conn.execute(select(audit_events).where(
            audit_events.c.id == event_id)).mappings().first()
    return cast("AuditRow", dict(row)) if row else None
