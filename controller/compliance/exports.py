"""Export packages: the quarterly audit (policy 462.6) and the manifest every package carries.

A package is a folder written under a temporary name and renamed when complete,
with ``MANIFEST.sha256`` in ``sha256sum`` format covering every other file, so
``sha256sum -c MANIFEST.sha256`` run inside it verifies it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from controller import audit, csvsafe
from controller.compliance import audit_flags, audit_render, audit_sample
from controller.errors import ValidationError
from controller.permissions import private_dir, private_tree
from controller.settings import Settings
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import hits as hit_repo
from controller.store import hotlists as hotlist_repo

log = logging.getLogger("sightline.exports")

MANIFEST = "MANIFEST.sha256"
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
LOG_FIELDS = ("id", "at", "actor", "action", "outcome", "plate", "purpose", "case_number",
              "client_addr", "data", "prev_hash", "hash")


# --- manifests ---------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path) -> str:
    """Write ``MANIFEST.sha256`` over every file in ``folder``; return the manifest's hash."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        lines.append(f"{sha256_file(path)}  {path.relative_to(folder).as_posix()}\n")
    (folder / MANIFEST).write_text("".join(lines), encoding="utf-8")
    return sha256_file(folder / MANIFEST)


def verify_manifest(folder: Path) -> list[str]:
    """Re-hash every file the manifest lists; return the problems (empty when it verifies)."""
    problems = []
    listed = set()
    for line in (folder / MANIFEST).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: content does not match")
    for path in folder.rglob("*"):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and path.name != MANIFEST and name not in listed:
            problems.append(f"{name}: not in the manifest")
    return problems


def new_package(parent: Path, name: str) -> Path:
    """A fresh temporary folder for a package named ``name`` under ``parent``."""
    final = parent / name
    if final.exists():
        raise ValidationError("out", f"{final} already exists; choose another folder")
    temporary = parent / f".{name}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    private_dir(temporary)
    return temporary


def seal_package(temporary: Path, name: str) -> tuple[Path, str]:
    """Write the manifest and give the package its final name; return (path, manifest hash)."""
    manifest_hash = write_manifest(temporary)
    # A package holds the access log or evidence: owner-only, whoever copies it on.
    private_tree(temporary)
    final = temporary.parent / name
    temporary.rename(final)
    return final, manifest_hash


def json_default(value: Any) -> Any:
    """JSON for datetimes, dates and bytes in exported rows."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot export {type(value).__name__}")


# --- quarters ---------------------------------------------------------------------------------

def parse_quarter(text: str) -> tuple[str, datetime, datetime]:
    """``2026Q3`` -> (label, first moment, first moment of the next quarter), in UTC."""
    match = QUARTER.match(text.strip().upper())
    if not match:
        raise ValidationError("quarter", f"{text!r} is not a quarter; write it as 2026Q3")
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, 3 * number - 2, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) if number == 4 else \
        datetime(year, 3 * number + 1, 1, tzinfo=UTC)
    return f"{year}Q{number}", start, end


def previous_quarter(today: date) -> str:
    """The label of the quarter that ended most recently before ``today``'s quarter."""
    number = (today.month - 1) // 3 + 1
    return f"{today.year - 1}Q4" if number == 1 else f"{today.year}Q{number - 1}"


# --- the quarterly audit package ------------------------------------------------------------------

def _write_log(folder: Path, events: Sequence[Mapping[str, Any]]) -> None:
    with (folder / "access-log.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csvsafe.writer(handle)
        writer.writerow(LOG_FIELDS)
        for event in events:
            writer.writerow([
                json.dumps(event[f], sort_keys=True, default=json_default) if f == "data" else
                event[f].isoformat() if f == "at" else
                "" if event[f] is None else event[f] for f in LOG_FIELDS])
    with (folder / "access-log.jsonl").open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps({f: event[f] for f in LOG_FIELDS}, sort_keys=True,
                                    default=json_default) + "\n")


def _write_flags(folder: Path, flags: list[audit_flags.Flag]) -> None:
    rows = [f.as_dict() for f in flags]
    (folder / "flags.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    with (folder / "flags.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csvsafe.dict_writer(handle, ["event_id", "at", "actor", "kind", "title",
                                             "detail"])
        writer.writeheader()
        writer.writerows(rows)


def _hand_list_flags(engine: Engine, start: datetime, end: datetime) -> list[audit_flags.Flag]:
    """The entries and hits of hand-entered hotlists of the quarter (462.7.1(2)(3))."""
    versions = [(v, hotlist_repo.version_entries(engine, v["hotlist_id"], v["version"], None))
                for v in hotlist_repo.hand_versions_between(engine, start, end)]
    return audit_flags.hand_list_flags(versions, hotlist_repo.hand_hits_between(engine, start,
                                                                                 end))


def build_audit_package(engine: Engine, settings: Settings, quarter: str, out_dir: Path, *,
                        actor: str, client_addr: str | None = None) -> Path:
    """Build the audit package of ``quarter`` under ``out_dir``; return its folder (audited)."""
    label, start, end = parse_quarter(quarter)
    name = f"audit-{label}"
    folder = new_package(out_dir, name)
    events = list(audit_repo.audit_between(engine, start, end))
    roles = account_repo.user_roles_and_training(engine)
    flags = audit_flags.review_flags(events, roles, settings.security.training_valid_days)
    flags = sorted(flags + _hand_list_flags(engine, start, end),
                   key=lambda f: (f.at, f.event_id, f.kind))
    hit_times = hit_repo.hit_times(engine, start, end)
    charts = audit_flags.figures(events, hit_times, start.date(), end.date())
    # Anchor the chain head outside the database, and carry the anchor in the package.
    anchor = audit.write_anchor(engine, settings, actor=actor, client_addr=client_addr)
    chain = audit.verify(engine, audit.anchor_dir(settings)).as_dict()
    sample = audit_sample.package_record(engine, audit_sample.draw(
        engine, quarter=label, events=events, anchor=anchor,
        size=settings.audit.sample_size, actor=actor))
    meta = {
        "quarter": label, "start": start.date().isoformat(), "end": end.date().isoformat(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"), "built_by": actor,
        "events": len(events), "searches": sum(1 for e in events if audit_flags.is_search(e)),
        "hits": len(hit_times), "denied": sum(1 for e in events if e["outcome"] == "denied"),
        "flags": len(flags), "chain": chain, "sample": sample,
    }
    _write_log(folder, events)
    _write_flags(folder, flags)
    (folder / "chain-verification.json").write_text(json.dumps(chain, indent=1),
                                                    encoding="utf-8")
    (folder / "sample.json").write_text(json.dumps(sample, indent=1), encoding="utf-8")
    (folder / "audit-anchor.json").write_text(json.dumps(anchor, indent=1, sort_keys=True),
                                              encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({**meta, "charts": charts}, indent=1),
                                         encoding="utf-8")
    (folder / "summary.html").write_text(audit_render.summary_html(meta, charts, flags),
                                         encoding="utf-8")
    (folder / "summary.pdf").write_bytes(audit_render.summary_pdf(meta, charts, flags))
    final, manifest_hash = seal_package(folder, name)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="export.audit", client_addr=client_addr,
        data={"quarter": label, "path": str(final), "events": len(events),
              "flags": len(flags), "chain_ok": chain["ok"], "manifest_sha256": manifest_hash}))
    return final


def audit_export_dir(settings: Settings) -> Path:
    """Where scheduled audit packages are written."""
    return settings.data_dir / "exports" / "audit"


# --- the administrator's review -------------------------------------------------------------

def record_review(engine: Engine, *, quarter: str, reviewed_on: date, findings: str,
                  actions: str, actor: str, client_addr: str | None = None,
                  today: date | None = None) -> int:
    """Record the administrator's review of a quarter's audit (462.6); audited."""
    label, _start, end = parse_quarter(quarter)
    if reviewed_on > (today or datetime.now(UTC).date()):
        raise ValidationError("reviewed_on", "the review date is in the future")
    if reviewed_on < end.date():
        raise ValidationError("reviewed_on", f"{label} is reviewed after it ends "
                                             f"({end.date().isoformat()})")
    findings, actions = findings.strip(), actions.strip()
    if not findings:
        raise ValidationError("findings", "record the findings (write 'none' if none)")
    if not actions:
        raise ValidationError("actions", "record the actions taken (write 'none' if none)")
    if any(r["quarter"] == label for r in audit_repo.list_reviews(engine)):
        raise ValidationError("quarter", f"the review of {label} is already recorded")
    unmarked = audit_sample.pending_items(engine, label)
    if unmarked:
        raise ValidationError("quarter", f"{unmarked} sampled searches of {label} are not "
                                         "marked justified or not yet (policy 462.6)")
    review_id = audit_repo.record_review(engine, quarter=label, reviewed_on=reviewed_on,
                                   findings=findings, actions=actions, actor=actor,
                                   now=datetime.now(UTC))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="audit.review", client_addr=client_addr,
        data={"quarter": label, "reviewed_on": reviewed_on.isoformat(),
              "findings": findings[:500], "actions": actions[:500]}))
    return review_id


def last_review_date(engine: Engine) -> date | None:
    """The date of the most recent completed review (for the transparency page)."""
    reviews = audit_repo.list_reviews(engine)
    return reviews[0]["reviewed_on"] if reviews else None
