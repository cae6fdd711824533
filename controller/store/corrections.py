"""Repository functions for corrections and annotations of reads (Civil Code 1798.90.51)
and the history of a hit's verification outcomes (462.7(7))."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Connection, Engine, Select, String, func, literal, select, update

from controller.errors import Conflict, NotFound
from controller.store.schema import hit_verifications, hits, read_corrections, reads
from controller.store.types import UTCDateTime


class CorrectionRow(TypedDict):
    """One correction (corrected plate and reason) or annotation of a read."""

    id: int
    kind: str
    plate: str | None
    note: str
    recorded_by: str
    recorded_at: datetime


class VerificationRow(TypedDict):
    """One verification outcome of a hit, oldest first."""

    id: int
    outcome: str
    note: str | None
    recorded_by: str
    recorded_at: datetime


def add_correction(engine: Engine, read_uuid: str, *, kind: str, plate: str | None, note: str,
                   actor: str, now: datetime) -> int:
    """Record a correction or an annotation of a read (the read itself is unchanged)."""
    # One statement finds the read and writes the row: PostgreSQL's partitioned reads
    # have no foreign key (migration 0019), and a purged read must not get a correction.
    source = select(reads.c.id, literal(kind), literal(plate, String), literal(note),
                    literal(actor), literal(now, UTCDateTime())).where(reads.c.uuid == read_uuid)
    with engine.begin() as conn:
        found = conn.execute(read_corrections.insert().from_select(
            ["read_id", "kind", "plate", "note", "recorded_by", "recorded_at"], source)
            .returning(read_corrections.c.id)).scalar()
    if found is None:
        raise NotFound(f"no read {read_uuid}")
    return int(found)


def corrections_of(engine: Engine, read_uuid: str) -> list[CorrectionRow]:
    """Every correction and annotation of a read, oldest first."""
    query = (select(read_corrections.c.id, read_corrections.c.kind, read_corrections.c.plate,
                    read_corrections.c.note, read_corrections.c.recorded_by,
                    read_corrections.c.recorded_at)
             .join(reads, reads.c.id == read_corrections.c.read_id)
             .where(reads.c.uuid == read_uuid).order_by(read_corrections.c.id))
    with engine.connect() as conn:
        return [cast("CorrectionRow", dict(r)) for r in conn.execute(query).mappings().all()]


def latest_correction_ids() -> Select[Any]:
    """A subquery: the id of each corrected read's current (latest) correction."""
    return (select(func.max(read_corrections.c.id))
            .where(read_corrections.c.kind == "correction")
            .group_by(read_corrections.c.read_id))


def corrected_read_ids(plate: str) -> Select[Any]:
    """A subquery: the reads whose current correction names ``plate``."""
    return select(read_corrections.c.read_id).where(
        read_corrections.c.plate == plate,
        read_corrections.c.id.in_(latest_correction_ids()))


def _hit_id(conn: Connection, hit_uuid: str) -> dict[str, Any]:
    row = conn.execute(select(
        hits.c.id, hits.c.verification, hits.c.verified_by, hits.c.verified_at,
        hits.c.verification_note).where(hits.c.uuid == hit_uuid)).mappings().first()
    if row is None:
        raise NotFound(f"no hit {hit_uuid}")
    return dict(row)


def first_verification(engine: Engine, hit_uuid: str, *, outcome: str, note: str | None,
                       actor: str, now: datetime) -> bool:
    """Record a hit's first verification outcome; False when it is verified already (the
    check and the write are one statement, so two dispatchers cannot both be first)."""
    with engine.begin() as conn:
        return bool(conn.execute(update(hits).where(
            hits.c.uuid == hit_uuid, hits.c.verification == "pending").values(
            verification=outcome, verified_by=actor, verified_at=now,
            verification_note=note)).rowcount)


def reverify(engine: Engine, hit_uuid: str, *, outcome: str, reason: str, actor: str,
             now: datetime) -> str:
    """Record another verification outcome of a verified hit; return the previous one.

    In one transaction: the first outcome (kept on the hit's row until now) is
    copied into the history if the history is empty, the new outcome is appended,
    and the hit's row shows the new outcome. ``Conflict`` if the hit is unverified.
    """
    with engine.begin() as conn:
        hit = _hit_id(conn, hit_uuid)
        if hit["verification"] == "pending":
            raise Conflict(f"hit {hit_uuid} is not verified yet")
        have = conn.execute(select(func.count()).where(
            hit_verifications.c.hit_id == hit["id"])).scalar_one()
        if not have:
            conn.execute(hit_verifications.insert().values(
                hit_id=hit["id"], outcome=hit["verification"], note=hit["verification_note"],
                recorded_by=hit["verified_by"] or "unknown",
                recorded_at=hit["verified_at"] or now))
        conn.execute(hit_verifications.insert().values(
            hit_id=hit["id"], outcome=outcome, note=reason, recorded_by=actor, recorded_at=now))
        conn.execute(update(hits).where(hits.c.id == hit["id"]).values(
            verification=outcome, verified_by=actor, verified_at=now,
            verification_note=reason))
    return str(hit["verification"])


def verifications_of(engine: Engine, hit_uuid: str) -> list[VerificationRow]:
    """Every verification outcome of a hit, oldest first; a hit verified once (or not at
    all) has its outcome on its own row and an empty history."""
    query = (select(hit_verifications.c.id, hit_verifications.c.outcome,
                    hit_verifications.c.note, hit_verifications.c.recorded_by,
                    hit_verifications.c.recorded_at)
             .join(hits, hits.c.id == hit_verifications.c.hit_id)
             .where(hits.c.uuid == hit_uuid).order_by(hit_verifications.c.id))
    with engine.connect() as conn:
        return [cast("VerificationRow", dict(r)) for r in conn.execute(query).mappings().all()]


def notes_for_reads(engine: Engine, read_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each read's corrections and annotations as text, oldest first (for exports)."""
    notes: dict[int, list[str]] = {}
    if not read_ids:
        return notes
    query = (select(read_corrections.c.read_id, read_corrections.c.kind,
                    read_corrections.c.plate, read_corrections.c.note)
             .where(read_corrections.c.read_id.in_(list(read_ids)))
             .order_by(read_corrections.c.id))
    with engine.connect() as conn:
        for read_id, kind, plate, note in conn.execute(query):
            text = f"corrected to {plate}: {note}" if kind == "correction" else str(note)
            notes.setdefault(int(read_id), []).append(text)
    return notes
