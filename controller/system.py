"""The front ends' handle on the system of record, and the one question they ask of it.

``Database`` names the handle the web (and later the JSON API) holds and passes
to every use case, so that ``web`` needs neither SQLAlchemy nor the store to
type it (DESIGN.md section 4: ``web`` never imports ``controller.store``).
"""

from __future__ import annotations

from typing import Any, TypeAlias

from controller.metrics import NodeReport
from controller.store import Engine
from controller.store import leases as lease_repo
from controller.store import partitions as partition_repo
from controller.store.engine import ping

Database: TypeAlias = Engine


def database_reachable(database: Database) -> bool:
    """Tell whether the database answers a trivial query (for /healthz)."""
    return ping(database)


def node_health(report: NodeReport, name: str) -> dict[str, Any]:
    """This node's own account of what it runs, for /healthz: the camera ids whose
    pipelines run here and the leases it holds (camera ids, not names: /healthz is public)."""
    return {"name": name, "cameras": list(report.running),
            "leases": [{"camera_id": o.camera_id, "epoch": o.epoch,
                        "expires_at": o.expires_at.isoformat()} for o in report.leases]}


def camera_leases(database: Database) -> list[dict[str, Any]] | None:
    """Which node holds each camera's live lease and until when (PostgreSQL; SQLite has
    one node and no leases), for /healthz; ``None`` when the database does not answer."""
    try:
        rows = lease_repo.leases(database)
    except Exception:  # a health check reports, it does not fail: the database is away
        return None
    return [{"camera_id": lease.camera_id, "node": lease.holder, "epoch": lease.epoch,
             "expires_at": lease.expires_at.isoformat() if lease.expires_at else None}
            for lease in rows if lease.live]


def read_partitions(database: Database) -> dict[str, Any] | None:
    """PostgreSQL's monthly read partitions, for /healthz: how many, the last month made,
    how many closed months are in plate order, and the reads waiting in the default
    partition (counted up to a cap; any at all is a warning: their month had no
    partition). ``None`` on SQLite or when the database
    does not answer."""
    try:
        months = [p for p in partition_repo.partitions(database) if not p.is_default]
        waiting = partition_repo.default_rows(database)
        ordered = partition_repo.plate_ordered(database)
    except Exception:  # a health check reports, it does not fail: the database is away
        return None
    if waiting is None:
        return None
    last = months[-1].start if months else None
    return {"months": len(months), "last_month": last.strftime("%Y-%m") if last else None,
            "in_plate_order": ordered, "default_rows": waiting,
            "default_rows_capped": waiting >= partition_repo.DEFAULT_COUNT_CAP}
