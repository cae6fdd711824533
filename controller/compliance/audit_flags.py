"""Review flags and figures for the quarterly audit (policy 462.6, 462.7.1(2)(3)).

Pure functions over access-log rows: no I/O. Each flag names the rule, the
user, the time and the log entry, so the administrator can look each one up.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from controller import policy

# Purposes that say nothing about why (462.7.1(2)(3)): the purpose alone is one of these.
VAGUE_PURPOSES = frozenset({
    "investigation", "investigations", "inv", "investigate", "police business", "official",
    "official business", "work", "law enforcement", "other", "misc", "general", "test",
    "testing", "check", "query", "lookup", "look up", "n/a", "na", "none", "-", ".",
})
# Actions that touch ALPR data; a vendor is never allowed any of them (462.4).
DATA_ACTIONS = ("search.", "read.", "image.", "hit.", "hit", "hotlist", "export.", "audit.",
                "hold.", "sharing.")
REPEAT_THRESHOLD = 5
BURST_SIZE = 5
BURST_WINDOW = timedelta(hours=1)
USUAL_HOUR_MIN_DAYS = 3

FLAG_KINDS = {
    "no_case_number": "Search without a case number",
    "vague_purpose": "Vague search purpose",
    "repeated_plate": "One user querying one plate repeatedly",
    "off_hours_burst": "Burst of searches outside the user's usual hours",
    "denied": "Denied attempt",
    "vendor_data": "Vendor attempt at ALPR data",
    "lapsed_training": "Search while the user's training had lapsed",
    "hand_list_entry": "Hotlist entry entered by hand (not an official feed)",
    "hand_list_hit": "Hit raised by a hotlist entered by hand",
}


@dataclass(frozen=True)
class Flag:
    """One item for the administrator to review."""

    kind: str
    actor: str
    at: datetime
    event_id: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The flag as a JSON-ready mapping."""
        return {"kind": self.kind, "title": FLAG_KINDS[self.kind], "actor": self.actor,
                "at": self.at.isoformat(), "event_id": self.event_id, "detail": self.detail}


def is_search(event: Mapping[str, Any]) -> bool:
    """Tell whether the access-log row is a search that ran."""
    return str(event["action"]).startswith("search.") and event["outcome"] == "allowed"


def vague(purpose: str | None) -> bool:
    """Tell whether a stated purpose is too vague to audit ("investigation" alone)."""
    words = re.sub(r"[^a-z0-9/ -]", " ", (purpose or "").lower()).split()
    text = " ".join(words)
    return not text or text in VAGUE_PURPOSES


def _flag(kind: str, event: Mapping[str, Any], detail: str) -> Flag:
    return Flag(kind, str(event["actor"]), event["at"], int(event["id"]), detail)


def _per_event(event: Mapping[str, Any], roles: Mapping[str, tuple[str, list[date]]],
               valid_days: int) -> list[Flag]:
    flags = []
    action = str(event["action"])
    role, trainings = roles.get(str(event["actor"]), ("", []))
    if event["outcome"] == "denied":
        reason = (event["data"] or {}).get("reason", "")
        flags.append(_flag("denied", event, f"{action}: {reason}".rstrip(": ")))
    if role == "vendor" and (action.startswith(DATA_ACTIONS) or action == "access.denied"):
        flags.append(_flag("vendor_data", event, f"vendor account: {action} "
                                                 f"({event['outcome']})"))
    if is_search(event):
        if not (event["case_number"] or "").strip():
            flags.append(_flag("no_case_number", event, f"{action} {event['plate'] or ''}"))
        if vague(event["purpose"]):
            flags.append(_flag("vague_purpose", event, f"purpose: {event['purpose']!r}"))
        day = event["at"].date()
        done = next((d for d in trainings if d <= day), None)
        if not policy.training_current(done, day, valid_days):
            flags.append(_flag("lapsed_training", event, "training on record: "
                               + (done.isoformat() if done else "none")))
    return flags


def _repeats(searches: Sequence[Mapping[str, Any]]) -> list[Flag]:
    by_pair: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for event in searches:
        if event["plate"] and "*" not in event["plate"] and "?" not in event["plate"]:
            by_pair[(str(event["actor"]), str(event["plate"]))].append(event)
    return [_flag("repeated_plate", events[0],
                  f"{plate} searched {len(events)} times ({events[0]['at']:%Y-%m-%d} to "
                  f"{events[-1]['at']:%Y-%m-%d})")
            for (_actor, plate), events in sorted(by_pair.items())
            if len(events) >= REPEAT_THRESHOLD]


def usual_hours(events: Sequence[Mapping[str, Any]]) -> frozenset[int]:
    """Hours of the day (UTC) in which the user searched on several distinct days.

    Empty when the user has no established pattern: then every burst is flagged.
    """
    days: dict[int, set[date]] = defaultdict(set)
    for event in events:
        days[event["at"].hour].add(event["at"].date())
    return frozenset(h for h, seen in days.items() if len(seen) >= USUAL_HOUR_MIN_DAYS)


def _hours(usual: frozenset[int]) -> str:
    return ", ".join(f"{h:02d}h" for h in sorted(usual)) or "none established"


def _bursts(searches: Sequence[Mapping[str, Any]]) -> list[Flag]:
    flags = []
    by_user: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in searches:
        by_user[str(event["actor"])].append(event)
    for events in by_user.values():
        events.sort(key=lambda e: e["at"])
        usual = usual_hours(events)
        start = 0
        while start < len(events):
            end = start
            while end + 1 < len(events) and events[end + 1]["at"] - events[start]["at"] <= \
                    BURST_WINDOW:
                end += 1
            size = end - start + 1
            if size >= BURST_SIZE and events[start]["at"].hour not in usual:
                flags.append(_flag("off_hours_burst", events[start],
                                   f"{size} searches from {events[start]['at']:%H:%M} to "
                                   f"{events[end]['at']:%H:%M} UTC; usual hours (UTC): "
                                   f"{_hours(usual)}"))
                start = end + 1
            else:
                start += 1
    return flags


def review_flags(events: Iterable[Mapping[str, Any]],
                 roles: Mapping[str, tuple[str, list[date]]], valid_days: int) -> list[Flag]:
    """Every review flag of the quarter's access log, in time order."""
    flags: list[Flag] = []
    searches = []
    for event in events:
        flags.extend(_per_event(event, roles, valid_days))
        if is_search(event):
            searches.append(event)
    flags.extend(_repeats(searches))
    flags.extend(_bursts(searches))
    return sorted(flags, key=lambda f: (f.at, f.event_id, f.kind))


def _version_label(version: Mapping[str, Any]) -> str:
    decided = (f"approved by {version['decided_by']}" if version["status"] == "approved"
               else f"rejected by {version['decided_by']}" if version["status"] == "rejected"
               else "not approved")
    expires = version["expires_at"]
    return (f"{version['list_name']} v{version['version']} (case {version['case_number']}, "
            f"{decided}, expires {expires:%Y-%m-%d %H:%M} UTC)" if expires else
            f"{version['list_name']} v{version['version']} (case {version['case_number']}, "
            f"{decided})")


def hand_list_flags(versions: Iterable[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
                    hits: Iterable[Mapping[str, Any]]) -> list[Flag]:
    """Flags for the entries and hits of hotlists entered by hand (462.7.1(2)(3)).

    ``versions`` pairs each hand-entered version of the quarter with its entries;
    ``hits`` are the hits those versions raised. Each flag names the person who
    entered the list (on whose word) and the audit entry of its import.
    """
    flags = []
    for version, entries in versions:
        label = _version_label(version)
        event = {"actor": version["submitted_by"], "at": version["submitted_at"],
                 "id": version["import_event_id"] or 0}
        for entry in entries:
            flags.append(_flag("hand_list_entry", event,
                               f"{entry['plate']} on {label}; reason: {version['reason']}"))
    for hit in hits:
        event = {"actor": hit["submitted_by"], "at": hit["created_at"],
                 "id": hit["import_event_id"] or 0}
        flags.append(_flag("hand_list_hit", event, (
            f"hit {hit['uuid']}: read {hit['plate']} matched {hit['listed_plate']} on "
            f"{hit['list_name']} v{hit['version']} (case {hit['case_number']}, approved by "
            f"{hit['decided_by']})")))
    return sorted(flags, key=lambda f: (f.at, f.event_id, f.kind))


def week_of(moment: datetime) -> str:
    """The ISO week label (``2026-W27``) of a moment."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def figures(events: Sequence[Mapping[str, Any]], hit_times: Sequence[datetime],
            start: date, end: date) -> dict[str, list[tuple[str, int]]]:
    """Chart data: searches per user and per purpose, hits and denied attempts per week."""
    searches = [e for e in events if is_search(e)]
    weeks = []
    day = start
    while day < end:
        label = week_of(datetime(day.year, day.month, day.day))
        if label not in weeks:
            weeks.append(label)
        day += timedelta(days=1)
    hits = Counter(week_of(t) for t in hit_times)
    denied = Counter(week_of(e["at"]) for e in events if e["outcome"] == "denied")
    return {
        "searches_per_user": Counter(str(e["actor"]) for e in searches).most_common(),
        "searches_per_purpose": Counter(str(e["purpose"] or "(none)")
                                        for e in searches).most_common(),
        "hits_per_week": [(w, hits.get(w, 0)) for w in weeks],
        "denied_per_week": [(w, denied.get(w, 0)) for w in weeks],
    }
