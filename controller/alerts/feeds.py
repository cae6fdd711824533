"""Hotlist feeds (462.3, 462.7): official lists fetched on a schedule, checked, swapped in.

Each fetch downloads the feed's file (``feed_fetch``), reads it record by record
(``feed_formats``), and, when it passes, stores it as a new version of the
feed's list, in force at once in the same transaction (an official list needs no
hand-entry approval: 462.7.1(2)(3) governs lists entered by hand). The controller
then rebuilds its matcher in one swap, so a read is matched against the old list
or the new one, never half of either. A fetch that fails (network, TLS or host
key, credentials, a malformed or cut file, more rejected lines than the feed
allows, or a list shrinking past its ceiling) changes nothing: the list in force
stays, and the feed's status and health say what went wrong. Every fetch is in
the audit log (``hotlist.feed``) with what it added, removed and kept and the
first lines it rejected, by number.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from controller import audit
from controller.accounts import Caller, authorize, record
from controller.alerts import hotlists
from controller.alerts.feed_fetch import describe, download
from controller.alerts.feed_formats import FeedParse, parse_feed
from controller.errors import FeedError, NotFound
from controller.settings import HotlistFeed, HotlistSettings
from controller.store import Engine
from controller.store import feeds as repo
from controller.store.feeds import FeedStatusRow

log = logging.getLogger("sightline.feeds")

# Plates named in a fetch's audit entry when it adds or removes at most this many.
AUDIT_PLATES = hotlists.AUDIT_PLATES
# Rejected lines named in a fetch's audit entry (the status keeps more).
AUDIT_REJECTED = 20
Outcome = Literal["loaded", "unchanged", "failed"]
Key = tuple[str, str | None, str | None]


@dataclass(frozen=True)
class FeedReport:
    """What one fetch did: its outcome, the entries it changed, the lines it rejected."""

    feed: str
    outcome: Outcome
    entries: int = 0
    added: int = 0
    removed: int = 0
    kept: int = 0
    rejected: int = 0
    rejected_lines: list[tuple[int, str]] = field(default_factory=list)
    version_id: int | None = None
    error_kind: str | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        """The fetch failed and the list in force was kept."""
        return self.outcome == "failed"


def entry_keys(entries: list[dict[str, Any]]) -> set[Key]:
    """(plate, state, NCIC number) of each entry: what added, removed and kept count."""
    return {(str(e["plate"]), e.get("plate_state"), e.get("ncic_number")) for e in entries}


def _plates(keys: set[Key]) -> list[str] | None:
    return sorted({k[0] for k in keys}) if len(keys) <= AUDIT_PLATES else None


def _check(feed: HotlistFeed, parsed: FeedParse, old: set[Key], new: set[Key]) -> None:
    """Refuse a file that parsed but cannot be right (FeedError says why)."""
    if parsed.records == 0:
        raise FeedError("malformed", "the file holds no records")
    ratio = parsed.rejected_count / parsed.records
    if ratio > feed.max_rejected_ratio:
        raise FeedError("rejected", f"{parsed.rejected_count} of {parsed.records} records "
                                    f"rejected ({ratio:.1%}, the feed allows "
                                    f"{feed.max_rejected_ratio:.1%})")
    if not parsed.entries:
        raise FeedError("malformed", "no record of the file is valid")
    removed = len(old - new)
    if old and removed / len(old) > feed.max_removed_ratio:
        raise FeedError("shrink", f"the file would remove {removed} of the {len(old)} entries "
                                  f"in force (the feed allows {feed.max_removed_ratio:.0%}); "
                                  "taken for a cut file")


def _audit(engine: Engine, feed: HotlistFeed, report: FeedReport, *, actor: str,
           client_addr: str | None, extra: dict[str, Any]) -> int:
    return audit.record(engine, audit.AuditEvent(
        actor=actor, action="hotlist.feed", client_addr=client_addr,
        outcome="denied" if report.failed else "allowed",
        data={"feed": feed.name, "list": feed.name, "source": describe(feed.source),
              "result": report.outcome, "entries": report.entries, "added": report.added,
              "removed": report.removed, "kept": report.kept, "rejected": report.rejected,
              "first_rejected": report.rejected_lines[:AUDIT_REJECTED],
              "error_kind": report.error_kind, "error": report.error, **extra}))


def _save(engine: Engine, feed: HotlistFeed, report: FeedReport, *, now: datetime,
          event_id: int, data: bytes | None) -> None:
    values: dict[str, Any] = {
        "last_attempt_at": now, "last_outcome": report.outcome, "rejected": report.rejected,
        "rejected_lines": [list(r) for r in report.rejected_lines],
        "added": report.added, "removed": report.removed, "kept": report.kept,
        "error_kind": report.error_kind, "error": (report.error or "")[:500] or None,
        "audit_event_id": event_id,
        "size_bytes": len(data) if data is not None else None,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else None}
    if not report.failed:
        values.update(last_success_at=now, version_id=report.version_id,
                      entries=report.entries)
    repo.save_status(engine, feed.name, values, failed=report.failed)


def _failed(feed: HotlistFeed, exc: FeedError, parsed: FeedParse | None) -> FeedReport:
    return FeedReport(feed.name, "failed", error_kind=exc.kind, error=str(exc),
                      rejected=parsed.rejected_count if parsed else 0,
                      rejected_lines=parsed.rejected if parsed else [])


def apply_feed(engine: Engine, feed: HotlistFeed, data: bytes, *, actor: str,
               client_addr: str | None = None, now: datetime | None = None) -> FeedReport:
    """Check a fetched file and, if it passes, put it in force as the list's next version.

    Audited as ``hotlist.feed`` and recorded in the feed's status either way.
    """
    now = now or datetime.now(UTC)
    parsed: FeedParse | None = None
    extra: dict[str, Any] = {}
    try:
        parsed = parse_feed(data, feed, now.date())
        in_force = repo.list_in_force(engine, feed.name)
        old = repo.keys_in_force(engine, feed.name) if in_force else set()
        new = entry_keys(parsed.entries)
        _check(feed, parsed, old, new)
        if in_force and in_force["digest"] == hotlists.entries_digest(parsed.entries):
            # The same entries as in force: no new version to keep for retention.
            outcome: Outcome = "unchanged"
            version_id = in_force["version_id"]
        else:
            version, extra = hotlists.store_official(
                engine, feed.name, parsed.entries, actor=actor,
                source=describe(feed.source)[:500])
            extra.update(added_plates=_plates(new - old), removed_plates=_plates(old - new))
            outcome, version_id = "loaded", version["id"]
        report = FeedReport(feed.name, outcome, entries=len(parsed.entries),
                            added=len(new - old), removed=len(old - new), kept=len(new & old),
                            rejected=parsed.rejected_count, rejected_lines=parsed.rejected,
                            version_id=version_id)
    except FeedError as exc:
        report = _failed(feed, exc, parsed)
    event_id = _audit(engine, feed, report, actor=actor, client_addr=client_addr, extra=extra)
    if report.outcome == "loaded" and report.version_id is not None:
        hotlists.link_audit(engine, report.version_id, event_id)
    _save(engine, feed, report, now=now, event_id=event_id, data=data)
    return report


def record_failure(engine: Engine, feed: HotlistFeed, exc: FeedError, *, actor: str,
                   client_addr: str | None = None, now: datetime | None = None) -> FeedReport:
    """Record a fetch that failed before its file was read (audited, in the status)."""
    report = _failed(feed, exc, None)
    event_id = _audit(engine, feed, report, actor=actor, client_addr=client_addr, extra={})
    _save(engine, feed, report, now=now or datetime.now(UTC), event_id=event_id, data=None)
    return report


async def fetch_feed(engine: Engine, feed: HotlistFeed, *, actor: str,
                     client_addr: str | None = None) -> FeedReport:
    """Download, check and (if it passes) swap in one feed; never raises for a bad feed.

    The database work runs in a thread; the caller reloads the matcher when the
    outcome is ``loaded`` (the controller's job does, other processes poll).
    """
    try:
        data = await download(feed)
    except FeedError as exc:
        report = await asyncio.to_thread(record_failure, engine, feed, exc, actor=actor,
                                         client_addr=client_addr)
    else:
        report = await asyncio.to_thread(apply_feed, engine, feed, data, actor=actor,
                                         client_addr=client_addr)
    if report.failed:
        log.warning("feed %s not loaded (%s: %s); the list in force is kept", feed.name,
                    report.error_kind, report.error)
    else:
        log.info("feed %s %s: %d entries (%d added, %d removed, %d kept), %d lines rejected",
                 feed.name, report.outcome, report.entries, report.added, report.removed,
                 report.kept, report.rejected)
    return report


# --- health: a failed or stale feed is a warning ---------------------------------------------

FeedState = Literal["ok", "failed", "stale", "never"]


@dataclass(frozen=True)
class FeedHealth:
    """A configured feed as health shows it: failing, stale, never fetched, or fine."""

    feed: str
    state: FeedState
    stale: bool
    message: str
    status: FeedStatusRow | None

    @property
    def age_seconds(self) -> float | None:
        """Seconds since the last good fetch (None: never)."""
        done = self.status["last_success_at"] if self.status else None
        return None if done is None else (datetime.now(UTC) - done).total_seconds()


def _health(feed: HotlistFeed, row: FeedStatusRow | None, now: datetime) -> FeedHealth:
    limit = timedelta(minutes=feed.stale_after())
    good = row["last_success_at"] if row else None
    stale = good is None or now - good > limit
    since = f"last good fetch {good:%Y-%m-%d %H:%M} UTC" if good else "never loaded"
    if row is None:
        return FeedHealth(feed.name, "never", True, "never fetched", row)
    if row["last_outcome"] == "failed":
        return FeedHealth(feed.name, "failed", stale,
                          f"last fetch failed ({row['error_kind']}); {since}", row)
    if stale:
        return FeedHealth(feed.name, "stale", True,
                          f"stale: {since}, the schedule allows {feed.stale_after()} min", row)
    return FeedHealth(feed.name, "ok", False, since, row)


def health(engine: Engine, rules: HotlistSettings,
           now: datetime | None = None) -> list[FeedHealth]:
    """Each configured feed's health, for /healthz and /metrics (no plate data)."""
    now = now or datetime.now(UTC)
    rows = {r["feed"]: r for r in repo.list_status(engine)}
    return [_health(feed, rows.get(feed.name), now) for feed in rules.feeds]


def warnings(checks: list[FeedHealth]) -> list[str]:
    """One line per feed that needs attention."""
    return [f"feed {h.feed}: {h.message}" for h in checks if h.state != "ok"]


# --- use cases: what the CLI (and the API) offer, role and training checked -------------------

def configured(engine: Engine, caller: Caller, rules: HotlistSettings) -> list[HotlistFeed]:
    """The configured feeds (``hotlists.view``); credentials are only variable names."""
    authorize(engine, caller, hotlists.VIEW, "hotlist.feed.list")
    return list(rules.feeds)


def statuses(engine: Engine, caller: Caller, rules: HotlistSettings) -> list[FeedHealth]:
    """Each feed's last fetch and health, rejected lines included (``hotlists.view``).

    Rejected lines may quote what a bad record held, so the view is audited as
    ``hotlist.feed.status``.
    """
    authorize(engine, caller, hotlists.VIEW, "hotlist.feed.status")
    checks = health(engine, rules)
    record(engine, caller, "hotlist.feed.status",
           data={"feeds": [h.feed for h in checks], "states": [h.state for h in checks]})
    return checks


async def fetch_now(engine: Engine, caller: Caller, rules: HotlistSettings,
                    name: str) -> FeedReport:
    """Fetch one feed now (``hotlists.manage``), audited under the caller's name."""
    await asyncio.to_thread(authorize, engine, caller, hotlists.MANAGE, "hotlist.feed",
                            data={"feed": name})
    feed = rules.feed(name)
    if feed is None:
        raise NotFound(f"no feed named '{name}' in the settings "
                       f"({', '.join(f.name for f in rules.feeds) or 'none configured'})")
    return await fetch_feed(engine, feed, **caller.who())
