"""Repository functions for dispatch alerts: one open alert per plate per passage window.

``join_hits`` runs inside the writer's transaction (``store.hits.write_reads``):
each new hit joins the plate's alert that is still open (open or acknowledged)
and whose sightings lie within the passage window of the hit's read, or opens a
new one. A read counts once as a sighting however many lists it matched; every
list that matched is kept (``alert_lists``). On PostgreSQL the plate is locked
for the transaction, so two nodes writing the same plate at once make one alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, and_, delete, exists, func, select, text, update

from controller.errors import NotFound
from controller.store.locks import lock_key
from controller.store.records import AlertRow
from controller.store.schema import alert_lists, alerts, cameras, hits, reads, sites

OPEN_STATES = ("open", "acknowledged")


@dataclass(frozen=True)
class NewHit:
    """A hit just inserted, with what grouping needs of its read."""

    hit_id: int
    read_id: int
    plate: str
    seen_at: datetime
    list_name: str


def _lock_plate(conn: Connection, plate: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(f"alert:{plate}")})


def _open_alert(conn: Connection, hit: NewHit, window: timedelta) -> Any:
    return conn.execute(
        select(alerts.c.id, alerts.c.first_seen_at, alerts.c.last_seen_at)
        .where(alerts.c.plate == hit.plate, alerts.c.state.in_(OPEN_STATES),
               alerts.c.last_seen_at >= hit.seen_at - window,
               alerts.c.first_seen_at <= hit.seen_at + window)
        .order_by(alerts.c.last_seen_at.desc(), alerts.c.id.desc()).limit(1)).first()


def join_hits(conn: Connection, new: Sequence[NewHit], *, window: timedelta,
              now: datetime) -> None:
    """Give each new hit its alert (joined or opened) inside ``conn``'s transaction."""
    counted: set[tuple[int, int]] = set()  # (alert, read): a read is one sighting
    for plate in sorted({h.plate for h in new}):
        _lock_plate(conn, plate)  # in plate order: two writers never wait on each other
    for hit in sorted(new, key=lambda h: (h.plate, h.seen_at, h.hit_id)):
        found = _open_alert(conn, hit, window)
        if found is None:
            alert_id = int(conn.execute(alerts.insert().values(
                plate=hit.plate, state="open", first_seen_at=hit.seen_at,
                last_seen_at=hit.seen_at, created_at=now, sightings=0,
                last_read_id=hit.read_id).returning(alerts.c.id)).scalar_one())
            first, last = hit.seen_at, hit.seen_at
        else:
            alert_id, first, last = int(found.id), found.first_seen_at, found.last_seen_at
        values: dict[str, Any] = {"first_seen_at": min(first, hit.seen_at)}
        if hit.seen_at >= last:
            values.update(last_seen_at=hit.seen_at, last_read_id=hit.read_id)
        if (alert_id, hit.read_id) not in counted:
            counted.add((alert_id, hit.read_id))
            values["sightings"] = alerts.c.sightings + 1
        conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
        listed = conn.execute(select(alert_lists.c.list_name).where(
            alert_lists.c.alert_id == alert_id,
            alert_lists.c.list_name == hit.list_name)).first()
        if listed is None:
            conn.execute(alert_lists.insert().values(alert_id=alert_id,
                                                     list_name=hit.list_name))
        conn.execute(update(hits).where(hits.c.id == hit.hit_id).values(alert_id=alert_id))


# --- reading -------------------------------------------------------------------------------

_COLUMNS = (alerts.c.id, alerts.c.plate, alerts.c.state, alerts.c.outcome,
            alerts.c.first_seen_at, alerts.c.last_seen_at, alerts.c.created_at,
            alerts.c.sightings, alerts.c.acknowledged_by, alerts.c.acknowledged_at,
            alerts.c.closed_by, alerts.c.closed_at, alerts.c.close_note,
            reads.c.id.label("read_id"), reads.c.uuid.label("read_uuid"),
            reads.c.plate_state, reads.c.direction, cameras.c.id.label("camera_id"),
            cameras.c.name.label("camera"), sites.c.name.label("site_name"))


@dataclass(frozen=True)
class AlertQuery:
    """What to list: states, plate, list, camera and a time window (all optional)."""

    states: tuple[str, ...] = ()
    plate: str | None = None
    list_name: str | None = None
    camera_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _where(query: AlertQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.states:
        conditions.append(alerts.c.state.in_(query.states))
    if query.plate:
        conditions.append(alerts.c.plate == query.plate)
    if query.list_name:
        conditions.append(exists().where(alert_lists.c.alert_id == alerts.c.id,
                                         alert_lists.c.list_name == query.list_name))
    if query.camera_id is not None:
        conditions.append(exists().where(hits.c.alert_id == alerts.c.id,
                                         reads.c.id == hits.c.read_id,
                                         reads.c.camera_id == query.camera_id))
    if query.since:
        conditions.append(alerts.c.last_seen_at >= query.since)
    if query.until:
        conditions.append(alerts.c.first_seen_at < query.until)
    return conditions


def _select() -> Any:
    return (select(*_COLUMNS).outerjoin(reads, reads.c.id == alerts.c.last_read_id)
            .outerjoin(cameras, cameras.c.id == reads.c.camera_id)
            .outerjoin(sites, sites.c.id == reads.c.site_id))


def _with_lists(conn: Connection, rows: list[Any]) -> list[AlertRow]:
    ids = [int(r["id"]) for r in rows]
    names: dict[int, list[str]] = {i: [] for i in ids}
    hit_counts: dict[int, int] = dict.fromkeys(ids, 0)
    if ids:
        for alert_id, name in conn.execute(
                select(alert_lists.c.alert_id, alert_lists.c.list_name)
                .where(alert_lists.c.alert_id.in_(ids)).order_by(alert_lists.c.list_name)):
            names[int(alert_id)].append(str(name))
        for alert_id, count in conn.execute(
                select(hits.c.alert_id, func.count()).where(hits.c.alert_id.in_(ids))
                .group_by(hits.c.alert_id)):
            hit_counts[int(alert_id)] = int(count)
    return [cast("AlertRow", {**dict(r), "lists": names[int(r["id"])],
                              "hits": hit_counts[int(r["id"])]}) for r in rows]


def list_alerts(engine: Engine, query: AlertQuery, *, offset: int = 0,
                limit: int = 25) -> tuple[list[AlertRow], int]:
    """One page of alerts matching ``query``, newest sighting first, and how many match."""
    conditions = _where(query)
    page = (_select().where(and_(True, *conditions))
            .order_by(alerts.c.last_seen_at.desc(), alerts.c.id.desc())
            .offset(offset).limit(limit))
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(alerts)
                                 .where(and_(True, *conditions))).scalar_one())
        rows = list(conn.execute(page).mappings().all())
        return _with_lists(conn, rows), total


def get_alert(engine: Engine, alert_id: int) -> AlertRow:
    """One alert with its lists and latest sighting, or NotFound."""
    with engine.connect() as conn:
        row = conn.execute(_select().where(alerts.c.id == alert_id)).mappings().first()
        if row is None:
            raise NotFound(f"no alert {alert_id}")
        return _with_lists(conn, [row])[0]


def hit_uuids(engine: Engine, alert_id: int) -> list[str]:
    """The uuids of an alert's hits, oldest sighting first."""
    with engine.connect() as conn:
        return [str(u) for u in conn.execute(
            select(hits.c.uuid).join(reads, reads.c.id == hits.c.read_id)
            .where(hits.c.alert_id == alert_id).order_by(reads.c.seen_at, hits.c.id)).scalars()]


def list_names(engine: Engine) -> list[str]:
    """Every list an alert has matched, for the filter."""
    with engine.connect() as conn:
        return [str(n) for n in conn.execute(select(alert_lists.c.list_name).distinct()
                                             .order_by(alert_lists.c.list_name)).scalars()]


# --- changing ------------------------------------------------------------------------------

def acknowledge(engine: Engine, alert_id: int, *, actor: str, now: datetime) -> bool:
    """Mark an open alert acknowledged; False when it is not open (one conditional write)."""
    with engine.begin() as conn:
        return bool(conn.execute(update(alerts).where(
            alerts.c.id == alert_id, alerts.c.state == "open").values(
            state="acknowledged", acknowledged_by=actor, acknowledged_at=now)).rowcount)


def close(engine: Engine, alert_id: int, *, state: str, outcome: str | None, note: str | None,
          actor: str, now: datetime) -> bool:
    """Close an open or acknowledged alert as verified or dismissed; False when it is
    closed already (the check and the write are one statement)."""
    with engine.begin() as conn:
        return bool(conn.execute(update(alerts).where(
            alerts.c.id == alert_id, alerts.c.state.in_(OPEN_STATES)).values(
            state=state, outcome=outcome, close_note=note, closed_by=actor,
            closed_at=now)).rowcount)


def close_if_settled(engine: Engine, alert_id: int, *, outcome: str, note: str | None,
                     actor: str, now: datetime) -> bool:
    """Close an open alert as verified once none of its hits is unverified (its hits were
    verified one by one on their own pages); False when it stays as it is."""
    with engine.begin() as conn:
        return bool(conn.execute(update(alerts).where(
            alerts.c.id == alert_id, alerts.c.state.in_(OPEN_STATES),
            ~exists().where(hits.c.alert_id == alerts.c.id, hits.c.verification == "pending"))
            .values(state="verified", outcome=outcome, close_note=note, closed_by=actor,
                    closed_at=now)).rowcount)


def purge_orphans(conn: Connection, alert_ids: Sequence[int]) -> None:
    """Delete the alerts among ``alert_ids`` that no hit belongs to any more (retention)."""
    if alert_ids:
        conn.execute(delete(alerts).where(alerts.c.id.in_(list(alert_ids)),
                                          ~exists().where(hits.c.alert_id == alerts.c.id)))
