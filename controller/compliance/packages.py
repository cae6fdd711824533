"""Evidence and sharing packages leave by download, by their owner, logged (462.10, 462.12).

Each package built (an evidence hold's export, a sharing request's fulfilment)
is recorded with its owner, the person who built it, and the reads it copies.
The owner downloads it from the UI as one zip file (the package folder with its
``MANIFEST.sha256``, checked before it is sent); nobody else may, administrators
included: the policy gives the package to the one who answers for it (the
evidence booker, the releasing administrator). Every download and every refusal
is audited.

A package is purged with the data it holds: once retention purges one of the
reads it copies, its folder is removed too, unless it belongs to an evidence
hold that is still open.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from controller import audit
from controller.accounts import Caller, authorize, record
from controller.compliance import exports
from controller.errors import AccessDenied, NotFound, ValidationError
from controller.store import Engine
from controller.store import packages as package_repo
from controller.store.packages import PackageRow

log = logging.getLogger("sightline.exports")

# The permission of each kind's download route (one per route, as everywhere).
PERMISSIONS = {"evidence": "holds.manage", "sharing": "compliance.manage"}
SPOOL_BYTES = 32 << 20  # zips up to this size stay in memory


@dataclass(frozen=True)
class Download:
    """A package ready to send: its file name and the zip, open at its start."""

    filename: str
    file: IO[bytes]
    size: int


def register(engine: Engine, *, kind: str, folder: Path, owner: str, manifest_sha256: str,
             read_uuids: Sequence[str], hold_id: int | None = None,
             sharing_request_id: int | None = None, case_number: str | None = None) -> int:
    """Record a sealed package, its owner and the reads it copies; return its id."""
    return package_repo.insert_package(engine, {
        "kind": kind, "name": folder.name, "path": str(folder), "owner": owner,
        "hold_id": hold_id, "sharing_request_id": sharing_request_id,
        "case_number": case_number, "manifest_sha256": manifest_sha256,
        "created_at": datetime.now(UTC)}, read_uuids)


def my_packages(engine: Engine, caller: Caller, kind: str) -> list[PackageRow]:
    """The caller's own packages of ``kind`` that are still kept, newest first."""
    authorize(engine, caller, PERMISSIONS[kind], f"export.list_{kind}")
    return package_repo.packages_of(engine, caller.username, kind)


def zip_folder(folder: Path) -> tuple[IO[bytes], int]:
    """The folder as a zip (its name as the top folder), open at its start, and its size."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    size = spool.tell()
    spool.seek(0)
    return spool, size


def download(engine: Engine, caller: Caller, kind: str, package_id: int) -> Download:
    """The owner's package as a zip (the manifest verified first); audited either way."""
    action = f"export.download_{kind}"
    authorize(engine, caller, PERMISSIONS[kind], action, data={"package_id": package_id})
    try:
        package = package_repo.get_package(engine, package_id)
    except NotFound:
        package = None
    if package is None or package["kind"] != kind:
        raise ValidationError("package", f"no {kind} package {package_id}")
    about = {"package_id": package_id, "name": package["name"], "kind": kind,
             "package_owner": package["owner"], "manifest_sha256": package["manifest_sha256"]}
    if package["owner"] != caller.username:
        record(engine, caller, action, outcome="denied", case_number=package["case_number"],
               data={**about, "reason": "not the package's owner"})
        raise AccessDenied(f"package {package_id} belongs to {package['owner']}: only its "
                           "owner downloads it (policy 462.12)")
    if package["purged_at"] is not None:
        raise ValidationError("package", f"package {package_id} was purged with its data on "
                                         f"{package['purged_at']:%Y-%m-%d}")
    folder = Path(package["path"])
    problems = exports.verify_manifest(folder) if folder.is_dir() else ["folder missing"]
    if problems:
        record(engine, caller, action, outcome="denied", case_number=package["case_number"],
               data={**about, "problems": problems[:20]})
        raise ValidationError("package", f"package {package_id} does not verify against its "
                                         f"manifest: {problems[0]}")
    file, size = zip_folder(folder)
    package_repo.count_download(engine, package_id)
    record(engine, caller, action, case_number=package["case_number"],
           data={**about, "bytes": size, "reads": package["read_count"]})
    return Download(f"{package['name']}.zip", file, size)


def purge_with_reads(engine: Engine, *, actor: str, client_addr: str | None = None) -> int:
    """Remove the packages that copy a purged read (open holds' packages kept); audited."""
    purged = 0
    for package in package_repo.packages_losing_reads(engine):
        folder = Path(package["path"])
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            log.error("package %s: folder %s could not be removed", package["id"], folder)
            continue
        package_repo.mark_purged(engine, package["id"], actor=actor, now=datetime.now(UTC))
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="export.purge", client_addr=client_addr,
            case_number=package["case_number"],
            data={"package_id": package["id"], "name": package["name"],
                  "kind": package["kind"], "reads": package["read_count"],
                  "reason": "reads it copies were purged under retention (462.10)"}))
        purged += 1
    return purged
