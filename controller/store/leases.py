"""Camera leases on PostgreSQL: which node runs each camera, arbitrated by the database.

A lease is a row of ``camera_leases``. Every decision is one conditional statement,
so PostgreSQL's row locking is the arbiter and there is no cluster code of our own:

- acquire: ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the lease is free or expired.
  Two nodes trying at once both reach the row; the second waits for the first's row
  lock, re-checks the condition against the row the first wrote, and gets nothing.
- renew: an ``UPDATE`` that names the node and the epoch it acquired; a lease taken
  over (a new epoch) or expired is not renewed, and the node learns it lost it.
- release and ask back: plain conditional ``UPDATE`` s.

Every time is the database's (``now()`` in UTC), so the nodes' clocks never decide
whether a lease has expired. The times are stored as naive UTC, like every other
timestamp of the schema (``controller.store.types.UTCDateTime``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, literal_column, select, text

from controller.store.schema import camera_leases

# Every time below is ``now() AT TIME ZONE 'UTC'``: the database's clock as naive UTC,
# the columns' representation; ``AT TIME ZONE`` binds tighter than ``+``, ``-`` and ``<=``.


@dataclass(frozen=True)
class Acquired:
    """A lease just acquired: its epoch and expiry, and the node that held it before
    (``None`` when it was free or never held) with that lease's expiry."""

    camera_id: int
    epoch: int
    expires_at: datetime
    previous: str | None
    previous_expired_at: datetime | None


@dataclass(frozen=True)
class Renewed:
    """A lease renewed, and whether its camera's own node has asked for it back lately."""

    camera_id: int
    epoch: int
    expires_at: datetime
    wanted_by: str | None


@dataclass(frozen=True)
class Lease:
    """One lease row as health shows it; ``live`` by the database's clock."""

    camera_id: int
    holder: str | None
    epoch: int
    acquired_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime | None
    wanted_by: str | None
    live: bool


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def acquire(engine: Engine, camera_id: int, node: str, ttl: float, *,
            own: bool) -> Acquired | None:
    """Take the camera's lease if it is free or expired; ``None`` if another node holds it.

    A stand-in (``own`` false) also leaves alone a lease the camera's own node has
    asked back within the last ``ttl`` seconds, so a hand-back is not snatched."""
    statement = text("""
        WITH t AS (SELECT now() AT TIME ZONE 'UTC' AS now, make_interval(secs => :ttl) AS ttl),
             prev AS (SELECT holder, expires_at FROM camera_leases WHERE camera_id = :camera)
        INSERT INTO camera_leases AS l
            (camera_id, holder, epoch, acquired_at, renewed_at, expires_at)
        SELECT :camera, :node, 1, t.now, t.now, t.now + t.ttl FROM t
        ON CONFLICT (camera_id) DO UPDATE SET
            holder = :node, epoch = l.epoch + 1, acquired_at = EXCLUDED.acquired_at,
            renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at,
            wanted_by = NULL, wanted_at = NULL
        WHERE (l.holder IS NULL OR l.expires_at <= EXCLUDED.acquired_at)
          AND (:own OR l.wanted_by IS NULL OR l.wanted_by = :node
               OR l.wanted_at <= EXCLUDED.acquired_at - make_interval(secs => :ttl))
        RETURNING l.epoch, l.expires_at, (SELECT holder FROM prev) AS previous,
                  (SELECT expires_at FROM prev) AS previous_expired_at""")
    with engine.begin() as conn:
        row = conn.execute(statement, {"camera": camera_id, "node": node, "ttl": ttl,
                                       "own": own}).mappings().first()
    if row is None:
        return None
    expires = _utc(row["expires_at"])
    assert expires is not None
    return Acquired(camera_id, int(row["epoch"]), expires, row["previous"],
                    _utc(row["previous_expired_at"]))


def renew(engine: Engine, node: str, held: Mapping[int, int], ttl: float, *,
          lapsed: bool = False) -> list[Renewed]:
    """Renew the unexpired leases ``held`` (camera id -> epoch) that ``node`` still holds;
    a camera missing from the answer is lost. ``lapsed``: also renew one that expired
    while nobody took it (same holder, same epoch), for a node that has no stand-in."""
    if not held:
        return []
    statement = text("""
        WITH t AS (SELECT now() AT TIME ZONE 'UTC' AS now, make_interval(secs => :ttl) AS ttl),
             h AS (SELECT * FROM unnest(CAST(:cameras AS integer[]), CAST(:epochs AS bigint[]))
                   AS h(camera_id, epoch))
        UPDATE camera_leases AS l SET renewed_at = t.now, expires_at = t.now + t.ttl
        FROM t, h
        WHERE l.camera_id = h.camera_id AND l.epoch = h.epoch AND l.holder = :node
          AND (CAST(:lapsed AS boolean) OR l.expires_at > t.now)
        RETURNING l.camera_id, l.epoch, l.expires_at,
                  CASE WHEN l.wanted_at > t.now - t.ttl THEN l.wanted_by END AS wanted_by""")
    cameras = list(held)
    with engine.begin() as conn:
        rows = conn.execute(statement, {
            "cameras": cameras, "epochs": [held[c] for c in cameras], "node": node,
            "ttl": ttl, "lapsed": lapsed}).mappings().all()
    out = []
    for row in rows:
        expires = _utc(row["expires_at"])
        assert expires is not None
        out.append(Renewed(int(row["camera_id"]), int(row["epoch"]), expires, row["wanted_by"]))
    return out


def release(engine: Engine, camera_id: int, node: str, epoch: int) -> bool:
    """Give the lease up (its camera is stopped); return whether ``node`` still held it.

    ``wanted_by`` stays, so that only the node that asked takes it next."""
    statement = text("""
        UPDATE camera_leases SET holder = NULL, expires_at = now() AT TIME ZONE 'UTC'
        WHERE camera_id = :camera AND holder = :node AND epoch = :epoch""")
    with engine.begin() as conn:
        result = conn.execute(statement, {"camera": camera_id, "node": node, "epoch": epoch})
    return bool(result.rowcount)


def ask_back(engine: Engine, camera_id: int, node: str, ttl: float) -> str | None:
    """As the camera's own node, ask the live holder to hand it back at its next renewal;
    return the holder asked, ``None`` when nobody else holds it live (or another node of
    its own has asked within ``ttl``)."""
    statement = text("""
        WITH t AS (SELECT now() AT TIME ZONE 'UTC' AS now, make_interval(secs => :ttl) AS ttl)
        UPDATE camera_leases SET wanted_by = :node, wanted_at = t.now
        FROM t
        WHERE camera_id = :camera AND holder IS NOT NULL AND holder <> :node
          AND expires_at > t.now
          AND (wanted_by IS NULL OR wanted_by = :node OR wanted_at <= t.now - t.ttl)
        RETURNING holder""")
    with engine.begin() as conn:
        return conn.execute(statement, {"camera": camera_id, "node": node,
                                        "ttl": ttl}).scalar()


def leases(engine: Engine, *, released: bool = False) -> list[Lease]:
    """Every held lease (and with ``released`` the released rows too), by camera, each
    with whether it is live by the database's clock (never live on SQLite, which has
    no leases)."""
    postgres = engine.dialect.name == "postgresql"
    live: Any = literal_column(
        "(holder IS NOT NULL AND expires_at > (now() AT TIME ZONE 'UTC'))" if postgres else "0")
    query = select(camera_leases, live.label("live")).order_by(camera_leases.c.camera_id)
    if not released:
        query = query.where(camera_leases.c.holder.is_not(None))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [Lease(int(r["camera_id"]), r["holder"], int(r["epoch"]), r["acquired_at"],
                  r["renewed_at"], r["expires_at"], r["wanted_by"], bool(r["live"]))
            for r in rows]
