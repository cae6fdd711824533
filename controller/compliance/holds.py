"""Evidence holds (policy 462.8, 462.10): reads kept for a case, never purged, exportable.

"Export evidence" writes a package for booking into evidence: the images, the
reads and their hits as JSON, the related access-log lines and a SHA-256
manifest over every file.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from controller import audit
from controller.accounts import Caller, authorize, purpose, record
from controller.compliance import exports, packages
from controller.errors import AccessDenied, NotFound, ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import holds as hold_repo
from controller.store import reads as read_repo
from controller.store.images import ImageStore
from controller.store.records import HoldRow
from controller.validation import record_id, required_text

MAX_READS = 10_000


READ_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")


def _read_ids(engine: Engine, read_uuids: Sequence[str]) -> list[int]:
    wanted = [u.strip() for u in read_uuids if u.strip()]
    if not wanted:
        raise ValidationError("reads", "choose at least one read")
    if len(wanted) > MAX_READS:
        raise ValidationError("reads", f"at most {MAX_READS} reads per request")
    malformed = next((u for u in wanted if not READ_UUID.match(u)), None)
    if malformed is not None:
        # Checked before the query: a pasted control character never reaches the database.
        raise ValidationError("reads", f"not a read's id: {malformed[:40]!r}")
    found = hold_repo.read_ids_for_uuids(engine, wanted)
    unknown = [u for u in wanted if u not in found]
    if unknown:
        raise ValidationError("reads", f"no read {unknown[0]}")
    return sorted(set(found.values()))


def reads_of_search(engine: Engine, search_event_id: int, username: str) -> list[str]:
    """The read uuids a user's own search returned (from its access-log entry)."""
    event = audit_repo.audit_event(engine, search_event_id)
    if event is None or event["actor"] != username or event["outcome"] != "allowed" or \
            not str(event["action"]).startswith("search."):
        raise ValidationError("search_id", f"no search {search_event_id} of yours")
    ids = [int(i) for i in event["data"].get("read_ids", [])]
    read_rows = read_repo.reads_by_ids(engine, ids) if ids else []
    return [str(r["uuid"]) for r in read_rows]


def create_hold(engine: Engine, *, case_number: str, reason: str, read_uuids: Sequence[str],
                actor: str, client_addr: str | None = None) -> int:
    """Place reads under an evidence hold for a case; audited."""
    case_number = required_text("case_number", case_number, 64)
    reason = required_text("reason", reason, 500)
    read_ids = _read_ids(engine, read_uuids)
    hold_id = hold_repo.create_hold(engine, case_number=case_number, reason=reason, actor=actor,
                               now=datetime.now(UTC))
    hold_repo.add_hold_reads(engine, hold_id, read_ids)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="hold.create", client_addr=client_addr, case_number=case_number,
        data={"hold_id": hold_id, "reason": reason, "reads": len(read_ids),
              "read_uuids": sorted(u.strip() for u in read_uuids if u.strip())[:200]}))
    return hold_id


def add_reads(engine: Engine, hold_id: int, read_uuids: Sequence[str], *, actor: str,
              client_addr: str | None = None) -> int:
    """Attach more reads to an open hold; audited; return how many were new."""
    hold = hold_repo.get_hold(engine, hold_id)
    if hold["released_at"] is not None:
        raise ValidationError("hold", f"hold {hold_id} was released")
    added = hold_repo.add_hold_reads(engine, hold_id, _read_ids(engine, read_uuids))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="hold.add_reads", client_addr=client_addr,
        case_number=hold["case_number"], data={"hold_id": hold_id, "added": added}))
    return added


def release_hold(engine: Engine, hold_id: int, *, actor: str,
                 client_addr: str | None = None) -> None:
    """Release a hold: its reads fall back under the retention schedule; audited."""
    hold = hold_repo.get_hold(engine, hold_id)
    if not hold_repo.release_hold(engine, hold_id, actor, datetime.now(UTC)):
        raise ValidationError("hold", f"hold {hold_id} was already released")
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="hold.release", client_addr=client_addr,
        case_number=hold["case_number"], data={"hold_id": hold_id}))


def list_holds(engine: Engine) -> list[HoldRow]:
    """Every hold with its read count, newest first."""
    return hold_repo.list_holds(engine)


def get_hold(engine: Engine, hold_id: int) -> HoldRow:
    """One hold; a missing one is a ValidationError naming the hold."""
    try:
        return hold_repo.get_hold(engine, hold_id)
    except NotFound:
        raise ValidationError("hold", f"no evidence hold {hold_id}") from None


def _dump(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=exports.json_default)


def write_reads_package(engine: Engine, settings: Settings, folder: Path,
                        read_ids: Sequence[int]) -> dict[str, Any]:
    """Write reads.json, hits.json and the images of ``read_ids`` into ``folder``."""
    rows = read_repo.reads_by_ids(engine, read_ids)
    hits = hit_repo.hits_for_reads(engine, read_ids)
    images = read_repo.images_for_reads(engine, read_ids)
    store = ImageStore(settings.data_dir)
    copied, mismatched = [], []
    for image in images:
        source = store.resolve(settings.data_dir, str(image["path"]))
        if not source.is_file():
            mismatched.append({"path": image["path"], "problem": "file missing"})
            continue
        target = folder / "images" / Path(str(image["path"])).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        digest = exports.sha256_file(target)
        if digest != image["sha256"]:
            mismatched.append({"path": image["path"], "problem": "SHA-256 differs from the "
                               "one recorded at capture", "recorded": image["sha256"],
                               "actual": digest})
        copied.append({**image, "file": f"images/{target.name}"})
    (folder / "reads.json").write_text(_dump(rows), encoding="utf-8")
    (folder / "hits.json").write_text(_dump(hits), encoding="utf-8")
    (folder / "images.json").write_text(_dump({"images": copied, "problems": mismatched}),
                                        encoding="utf-8")
    return {"reads": rows, "hits": len(hits), "images": len(copied),
            "image_problems": len(mismatched)}


def export_evidence(engine: Engine, settings: Settings, hold_id: int, out_dir: Path, *,
                    actor: str, client_addr: str | None = None,
                    window: purpose.Window | None = None) -> Path:
    """Build the evidence package of a hold under ``out_dir``; audited.

    ``window`` is the exporting user's purpose window, named in the audit entry
    (purpose, and its case number beside the hold's).
    """
    hold = get_hold(engine, hold_id)
    name = f"evidence-hold-{hold_id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    folder = exports.new_package(out_dir, name)
    read_ids = hold_repo.hold_read_ids(engine, hold_id)
    written = write_reads_package(engine, settings, folder, read_ids)
    lines = audit_repo.audit_lines_about(
        engine, plates=sorted({str(r["plate"]) for r in written["reads"]}),
        read_uuids=[str(r["uuid"]) for r in written["reads"]],
        case_number=str(hold["case_number"]))
    with (folder / "access-log.jsonl").open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, sort_keys=True, default=exports.json_default) + "\n")
    (folder / "hold.json").write_text(json.dumps(
        {**hold, "exported_by": actor, "exported_at": datetime.now(UTC)}, indent=1,
        default=exports.json_default), encoding="utf-8")
    final, manifest_hash = exports.seal_package(folder, name)
    # Recorded with its owner: downloaded by them, purged with its reads (462.10).
    package_id = packages.register(
        engine, kind="evidence", folder=final, owner=actor, manifest_sha256=manifest_hash,
        read_uuids=[str(r["uuid"]) for r in written["reads"]], hold_id=hold_id,
        case_number=str(hold["case_number"]))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="export.evidence", client_addr=client_addr,
        case_number=hold["case_number"], purpose=window.purpose if window else None,
        data={"hold_id": hold_id, "package_id": package_id, "path": str(final),
              **({"window": window.id, "window_case_number": window.case_number}
                 if window else {}),
              "reads": len(read_ids),
              "hits": written["hits"], "images": written["images"],
              "image_problems": written["image_problems"], "access_log_lines": len(lines),
              "manifest_sha256": manifest_hash}))
    return final


# --- use cases: what the web, the API and the CLI offer, role and training checked ---

PERMISSION = "holds.manage"


def holds_on_file(engine: Engine, caller: Caller) -> list[HoldRow]:
    """Every hold with its read count, newest first (``holds.manage``)."""
    authorize(engine, caller, PERMISSION, "hold.list")
    return list_holds(engine)


def own_holds(engine: Engine, caller: Caller) -> list[HoldRow]:
    """The holds the caller placed, newest first (``holds.manage``): an API client's own."""
    authorize(engine, caller, PERMISSION, "hold.list")
    return [hold for hold in list_holds(engine) if hold["created_by"] == caller.username]


def _chosen(engine: Engine, caller: Caller, read_uuids: Sequence[str],
            search_id: str) -> list[str]:
    # Reads are chosen one by one, pasted, or taken whole from one of the caller's searches.
    uuids = list(read_uuids)
    if search_id.strip():
        uuids += reads_of_search(engine, record_id("search_id", search_id), caller.username)
    return uuids


def place_hold(engine: Engine, caller: Caller, *, case_number: str, reason: str,
               read_uuids: Sequence[str], search_id: str = "") -> int:
    """Place reads (chosen, pasted, or all results of one's search) under a new hold."""
    authorize(engine, caller, PERMISSION, "hold.create")
    uuids = _chosen(engine, caller, read_uuids, search_id)
    return create_hold(engine, case_number=case_number, reason=reason, read_uuids=uuids,
                       **caller.who())


def attach_reads(engine: Engine, caller: Caller, hold_id: int, *, read_uuids: Sequence[str],
                 search_id: str = "") -> int:
    """Attach more reads to an open hold; return how many were new."""
    authorize(engine, caller, PERMISSION, "hold.add_reads", data={"hold_id": hold_id})
    return add_reads(engine, hold_id, _chosen(engine, caller, read_uuids, search_id),
                     **caller.who())


def release(engine: Engine, caller: Caller, hold_id: int) -> None:
    """Release a hold (its reads return to the retention schedule).

    Only the user who placed the hold, or an administrator (462.3.1), may release
    it: a hold keeps evidence for someone's case. Other refusals are audited as
    ``hold.release`` denied.
    """
    authorize(engine, caller, PERMISSION, "hold.release", data={"hold_id": hold_id})
    hold = get_hold(engine, hold_id)
    if caller.role != "administrator" and hold["created_by"] != caller.username:
        reason = (f"hold {hold_id} was placed by {hold['created_by']}; only they or an "
                  "administrator may release it (policy 462.3.1, 462.10)")
        record(engine, caller, "hold.release", outcome="denied",
               case_number=str(hold["case_number"]), data={"hold_id": hold_id,
                                                          "reason": reason})
        raise AccessDenied(reason)
    release_hold(engine, hold_id, **caller.who())


def export_hold(engine: Engine, settings: Settings, caller: Caller, hold_id: int,
                out_dir: Path | None = None) -> Path:
    """Write the evidence package of a hold for booking into evidence; return its folder.

    The package holds the reads' plates and images: the caller's purpose window
    must be open (462.5) and is named in the ``export.evidence`` entry. It is
    written under ``out_dir`` (the CLI's ``--out``), else the data directory.
    """
    authorize(engine, caller, PERMISSION, "export.evidence", data={"hold_id": hold_id})
    get_hold(engine, hold_id)  # a hold not on file is named before the purpose is asked
    window = purpose.require(engine, caller)
    out = out_dir or settings.data_dir / "exports" / "evidence"
    out.mkdir(parents=True, exist_ok=True)
    return export_evidence(engine, settings, hold_id, out, **caller.who(), window=window)
