"""Retention (policy 462.8, 462.10): propose purges, record approvals, purge in batches.

Nothing is deleted automatically. A daily job records what is eligible (reads
older than the retention period and not under an evidence hold); a purge runs
only after the City Council approval and the City Attorney permission are both
on record, deletes in short batches so ingest never waits long, and checks that
every image file it removed is gone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any, cast

from controller import audit, policy
from controller.compliance import packages
from controller.errors import PolicyViolation, StoreError, ValidationError
from controller.settings import POLICY_MINIMUM_DAYS, Settings
from controller.store import Engine
from controller.store import hotlists as hotlist_repo
from controller.store import retention as retention_repo
from controller.store.images import ImageStore
from controller.store.records import PurgeProposal

log = logging.getLogger("sightline.retention")

SCHEDULER_ACTOR = "system:scheduler"
PURGE_BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    """What one purge removed and how long it took."""

    proposal_id: int
    reads: int
    hits: int
    files: int
    seconds: float
    hotlist_versions: int = 0
    hotlist_entries: int = 0
    # PostgreSQL: the monthly partitions dropped whole, and the reads that went with them
    # (included in ``reads``); the rest were deleted row by row.
    partitions_dropped: tuple[str, ...] = ()
    reads_in_dropped_partitions: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping."""
        return {"proposal_id": self.proposal_id, "reads": self.reads, "hits": self.hits,
                "files": self.files, "seconds": round(self.seconds, 3),
                "hotlist_versions": self.hotlist_versions,
                "hotlist_entries": self.hotlist_entries,
                "partitions_dropped": list(self.partitions_dropped),
                "reads_in_dropped_partitions": self.reads_in_dropped_partitions}


@dataclass(frozen=True)
class MonthsDropped:
    """What dropping whole months took away (totals over the partitions dropped)."""

    dropped: tuple[str, ...]
    reads: int
    hits: int
    files: int


def cutoff_for(settings: Settings, today: date) -> datetime:
    """Midnight UTC of the first day still inside retention."""
    first_kept = policy.retention_cutoff(today, settings.retention.days, POLICY_MINIMUM_DAYS)
    return datetime.combine(first_kept, dtime(), UTC)


def propose(engine: Engine, settings: Settings, *, actor: str = SCHEDULER_ACTOR,
            today: date | None = None, client_addr: str | None = None,
            skip_empty: bool = False) -> PurgeProposal | None:
    """Record a purge proposal for what is eligible today; return it (audited).

    With ``skip_empty`` (the daily job) nothing is recorded when no read is eligible.
    """
    today = today or datetime.now(UTC).date()
    cutoff = cutoff_for(settings, today)
    count, oldest, newest = retention_repo.eligible_summary(engine, cutoff)
    # Replaced hotlist versions are kept under the same retention as reads (462.8).
    versions = hotlist_repo.expired_version_count(engine, cutoff)
    if skip_empty and count == 0 and versions == 0:
        return None
    proposal_id = retention_repo.create_proposal(engine, cutoff=cutoff, count=count, oldest=oldest,
                                       newest=newest, now=datetime.now(UTC))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="retention.propose", client_addr=client_addr,
        data={"proposal_id": proposal_id, "cutoff": cutoff.isoformat(), "reads": count,
              "oldest": oldest, "newest": newest, "retention_days": settings.retention.days,
              "hotlist_versions": versions}))
    return retention_repo.get_proposal(engine, proposal_id)


def _open(engine: Engine, proposal_id: int) -> PurgeProposal:
    proposal = retention_repo.get_proposal(engine, proposal_id)
    if proposal["status"] == "purged":
        raise ValidationError("proposal", f"proposal {proposal_id} was already purged")
    return proposal


def _status_after(proposal: PurgeProposal) -> str:
    both = proposal["council_resolution"] and proposal["attorney_name"]
    return "approved" if both else "proposed"


def _record_approval(engine: Engine, proposal_id: int, values: dict[str, Any], *, action: str,
                     actor: str, client_addr: str | None,
                     data: dict[str, Any]) -> PurgeProposal:
    """Store one of the two approvals on an open proposal, move its status, audit it."""
    proposal = _open(engine, proposal_id)
    status = _status_after(cast(PurgeProposal, {**proposal, **values}))
    retention_repo.update_proposal(engine, proposal_id, **values, status=status)
    audit.record(engine, audit.AuditEvent(actor=actor, action=action, client_addr=client_addr,
                                          data={"proposal_id": proposal_id, **data}))
    return retention_repo.get_proposal(engine, proposal_id)


def _past(field: str, value: date, today: date) -> date:
    if value > today:
        raise ValidationError(field, "the date is in the future")
    return value


def _not_before_proposal(engine: Engine, proposal_id: int, field: str, value: date) -> None:
    # An approval predating the proposal cannot have approved what the proposal lists (462.8).
    proposed_on = retention_repo.get_proposal(engine, proposal_id)["created_at"].date()
    if value < proposed_on:
        raise ValidationError(field, f"the date {value.isoformat()} is before proposal "
                                     f"{proposal_id} was made ({proposed_on.isoformat()})")


def record_council(engine: Engine, proposal_id: int, *, meeting_on: date, resolution: str,
                   actor: str, client_addr: str | None = None,
                   today: date | None = None) -> PurgeProposal:
    """Record the City Council's approval (meeting date, resolution number); audited."""
    resolution = resolution.strip()
    if not resolution or len(resolution) > 64:
        raise ValidationError("council_resolution", "the resolution number (1-64 characters) "
                                                    "is required")
    _past("council_meeting_on", meeting_on, today or datetime.now(UTC).date())
    _not_before_proposal(engine, proposal_id, "council_meeting_on", meeting_on)
    return _record_approval(
        engine, proposal_id, {"council_meeting_on": meeting_on, "council_resolution": resolution,
                              "council_recorded_by": actor},
        action="retention.council", actor=actor, client_addr=client_addr,
        data={"meeting_on": meeting_on.isoformat(), "resolution": resolution})


def record_attorney(engine: Engine, proposal_id: int, *, name: str, permitted_on: date,
                    actor: str, client_addr: str | None = None,
                    today: date | None = None) -> PurgeProposal:
    """Record the City Attorney's permission (name, date); audited."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("attorney_name", "the City Attorney's name is required")
    _past("attorney_on", permitted_on, today or datetime.now(UTC).date())
    _not_before_proposal(engine, proposal_id, "attorney_on", permitted_on)
    return _record_approval(
        engine, proposal_id, {"attorney_name": name, "attorney_on": permitted_on,
                              "attorney_recorded_by": actor},
        action="retention.attorney", actor=actor, client_addr=client_addr,
        data={"attorney": name, "permitted_on": permitted_on.isoformat()})


def missing_approvals(proposal: PurgeProposal) -> list[str]:
    """The approvals policy 462.8 still needs before this proposal may be purged."""
    missing = []
    if not proposal["council_resolution"]:
        missing.append("City Council approval (meeting date and resolution number)")
    if not proposal["attorney_name"]:
        missing.append("City Attorney permission (name and date)")
    return missing


def _remove_files(images: ImageStore, data_dir: Path, paths: list[str]) -> int:
    # Each path is confined to the image folder once; the same target is then checked gone.
    targets = [images.resolve(data_dir, relative) for relative in paths]
    removed = 0
    for target in targets:
        try:
            target.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    still = [t for t in targets if t.exists()]
    if still:
        raise StoreError(f"purge: {len(still)} image files are still present, e.g. {still[0]}")
    return removed


def _drop_whole_months(engine: Engine, data_dir: Path, images: ImageStore,
                       proposal: PurgeProposal, batch: int, *, actor: str,
                       client_addr: str | None) -> MonthsDropped:
    """PostgreSQL: detach and drop each monthly partition that lies wholly before the
    cutoff, its images first (in batches, each file checked gone), one audit entry per
    month with its counts. A month holding a read under an open hold is kept whole and
    audited as kept; the row-by-row purge that follows takes its other reads."""
    dropped: list[str] = []
    reads = hits = files = 0
    for part in retention_repo.expired_partitions(engine, proposal["cutoff"]):
        month = part.start.strftime("%Y-%m") if part.start else part.name
        held = retention_repo.held_in_partition(engine, part.name)
        month_files = 0
        if not held:
            while paths := retention_repo.purge_partition_images(engine, part.name, batch):
                month_files += _remove_files(images, data_dir, paths)
        outcome = (retention_repo.drop_partition(engine, part.name) if not held else
                   retention_repo.MonthOutcome(part.name, False, kept_because="held",
                                               held_reads=held))
        month_files += _remove_files(images, data_dir, outcome.paths)
        files += month_files
        data: dict[str, Any] = {"proposal_id": proposal["id"], "partition": part.name,
                                "month": month, "files": month_files}
        if outcome.dropped:
            dropped.append(part.name)
            reads += outcome.reads
            hits += outcome.hits
            data.update(outcome="dropped", reads=outcome.reads, hits=outcome.hits)
        else:
            data.update(outcome="kept", reason=outcome.kept_because,
                        held_reads=outcome.held_reads)
        audit.record(engine, audit.AuditEvent(actor=actor, action="retention.partition",
                                              client_addr=client_addr, data=data))
    return MonthsDropped(tuple(dropped), reads, hits, files)


def purge(engine: Engine, settings: Settings, proposal_id: int, *, actor: str,
          client_addr: str | None = None, batch: int = PURGE_BATCH,
          pause_seconds: float = 0.01) -> PurgeReport:
    """Delete what the proposal covers once both approvals are recorded (audited).

    Held reads are excluded at purge time as well, so a hold placed after the
    proposal still protects its reads. On PostgreSQL each month wholly past the
    cutoff is dropped as a partition first (``_drop_whole_months``); what is left
    goes row by row: each batch is its own short transaction and a short pause
    between batches lets the read writer in.
    """
    proposal = _open(engine, proposal_id)
    missing = missing_approvals(proposal)
    if missing:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="retention.purge", outcome="denied", client_addr=client_addr,
            data={"proposal_id": proposal_id, "missing": missing}))
        raise PolicyViolation(f"policy 462.8: purge {proposal_id} refused; still missing: "
                              + "; ".join(missing))
    images = ImageStore(settings.data_dir)
    started = time.monotonic()
    months = _drop_whole_months(engine, settings.data_dir, images, proposal, batch,
                                actor=actor, client_addr=client_addr)
    total_reads, total_hits, total_files = months.reads, months.hits, months.files
    # Row by row: the month at the cutoff, months kept for a hold, and SQLite.
    while True:
        count, hit_count, paths = retention_repo.purge_batch(engine, proposal["cutoff"], batch)
        if count == 0:
            break
        total_reads += count
        total_hits += hit_count
        total_files += _remove_files(images, settings.data_dir, paths)
        if pause_seconds:
            time.sleep(pause_seconds)
    total_versions = total_entries = 0
    while True:
        versions, entries = hotlist_repo.purge_versions(engine, proposal["cutoff"], batch=20)
        if versions == 0:
            break
        total_versions += versions
        total_entries += entries
    seconds = time.monotonic() - started
    retention_repo.update_proposal(engine, proposal_id, status="purged",
                                   purged_at=datetime.now(UTC), purged_reads=total_reads,
                                   purged_files=total_files)
    report = PurgeReport(proposal_id, total_reads, total_hits, total_files, seconds,
                         total_versions, total_entries, months.dropped, months.reads)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="retention.purge", client_addr=client_addr,
        data={**report.as_dict(), "cutoff": proposal["cutoff"].isoformat(),
              "council_resolution": proposal["council_resolution"],
              "attorney": proposal["attorney_name"], "files_verified_gone": True}))
    log.info("purge %d: %d reads, %d hits, %d files in %.1f s", proposal_id, total_reads,
             total_hits, total_files, seconds)
    # Packages go with the reads they copy, unless their hold is open (each one audited).
    packages.purge_with_reads(engine, actor=actor, client_addr=client_addr)
    return report
