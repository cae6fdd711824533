"""Evidence and sharing packages (462.10, 462.12): owner, reads copied, downloads, purge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Engine, exists, select, update

from controller.store.rows import one
from controller.store.schema import (
    evidence_holds,
    export_package_reads,
    export_packages,
    reads,
)


class PackageRow(TypedDict):
    """One row of ``export_packages``."""

    id: int
    kind: str
    name: str
    path: str
    owner: str
    hold_id: int | None
    sharing_request_id: int | None
    case_number: str | None
    manifest_sha256: str
    read_count: int
    created_at: datetime
    downloads: int
    purged_at: datetime | None
    purged_by: str | None


def insert_package(engine: Engine, values: dict[str, Any], read_uuids: Sequence[str]) -> int:
    """Record a package and the reads it copies; return its id."""
    with engine.begin() as conn:
        package_id = int(conn.execute(export_packages.insert().values(
            **values, read_count=len(set(read_uuids)), downloads=0)
            .returning(export_packages.c.id)).scalar_one())
        if read_uuids:
            conn.execute(export_package_reads.insert(),
                         [{"package_id": package_id, "read_uuid": u}
                          for u in sorted(set(read_uuids))])
    return package_id


def get_package(engine: Engine, package_id: int) -> PackageRow:
    """One package (NotFound if there is none)."""
    return cast("PackageRow", one(engine, select(export_packages).where(
        export_packages.c.id == package_id), f"no package {package_id}"))


def packages_of(engine: Engine, owner: str, kind: str, limit: int = 200) -> list[PackageRow]:
    """A user's packages of one kind that are not purged, newest first."""
    with engine.connect() as conn:
        return [cast("PackageRow", dict(r)) for r in conn.execute(
            select(export_packages).where(
                export_packages.c.owner == owner, export_packages.c.kind == kind,
                export_packages.c.purged_at.is_(None))
            .order_by(export_packages.c.id.desc()).limit(limit)).mappings().all()]


def count_download(engine: Engine, package_id: int) -> None:
    """Count one download of a package."""
    with engine.begin() as conn:
        conn.execute(update(export_packages).where(export_packages.c.id == package_id)
                     .values(downloads=export_packages.c.downloads + 1))


def packages_losing_reads(engine: Engine) -> list[PackageRow]:
    """Live packages that copy a read no longer stored (purged), unless their hold is open.

    A package is purged with the data it holds: once one of its reads is gone
    from the store, the copy in the package goes too. An evidence package of a
    hold that is still open is kept whatever happens (its reads are never purged).
    """
    gone = exists().where(
        export_package_reads.c.package_id == export_packages.c.id,
        ~exists().where(reads.c.uuid == export_package_reads.c.read_uuid))
    open_hold = exists().where(evidence_holds.c.id == export_packages.c.hold_id,
                               evidence_holds.c.released_at.is_(None))
    with engine.connect() as conn:
        return [cast("PackageRow", dict(r)) for r in conn.execute(
            select(export_packages).where(export_packages.c.purged_at.is_(None), gone,
                                          ~open_hold)
            .order_by(export_packages.c.id)).mappings().all()]


def mark_purged(engine: Engine, package_id: int, *, actor: str, now: datetime) -> None:
    """Record that a package's files were removed."""
    with engine.begin() as conn:
        conn.execute(update(export_packages).where(export_packages.c.id == package_id)
                     .values(purged_at=now, purged_by=actor))
