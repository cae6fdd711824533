"""Hits as dispatch and officers see them (462.5, 462.7(7)): the queue, history, one hit, CLETS.

Each function takes the ``Caller`` and checks role and training first. Showing
hits needs the caller's open purpose window (``controller.accounts.purpose``) and is
audited with its purpose and case number: the queue (``hit.queue``, once per window
and content, not on every refresh), the history with its filter (``hit.history``)
and one hit (``hit.view``). Recording the verification outcome is audited by
``dispatch.record_verification`` (``hit.verify``).
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.accounts import Caller, authorize, purpose
from controller.alerts import dispatch
from controller.errors import ValidationError
from controller.store import Engine
from controller.store import hits as hit_repo
from controller.store.records import HitRow
from controller.validation import day_window, optional_text, parse_day
from inference.plates import normalise

# HitRow is re-exported: the web names the rows it shows without importing the store.
__all__ = ["HISTORY_LIMIT", "NOTE_LIMIT", "OUTCOME_LABELS", "QUEUE_LIMIT", "VERIFY", "VIEW",
           "HitFilters", "HitRow", "history", "unverified", "verify_hit", "view_hit"]

VIEW = "hits.view"
VERIFY = "hits.verify"
OUTCOME_LABELS = {
    "pending": "Unverified",
    "confirmed": "Confirmed through CLETS",
    "not_confirmed": "Not confirmed",
    "not_practicable": "Verification not practicable",
}
QUEUE_LIMIT = 100
HISTORY_LIMIT = 200
NOTE_LIMIT = 500
PLATE_LIMIT = 16


@dataclass(frozen=True)
class HitFilters:
    """The history filter as typed: outcome, plate, first and last day (YYYY-MM-DD)."""

    verification: str = ""
    plate: str = ""
    since: str = ""
    until: str = ""


def unverified(engine: Engine, caller: Caller) -> list[HitRow]:
    """The queue of hits not yet verified through CLETS, newest first (``hits.view``)."""
    authorize(engine, caller, VIEW, "hit.queue")
    window = purpose.require(engine, caller)
    rows = hit_repo.list_hits(engine, verification="pending", limit=QUEUE_LIMIT)
    purpose.record_shown(engine, caller, window, "hit.queue",
                         shown=[str(h["uuid"]) for h in rows],
                         plates=[str(h["plate"]) for h in rows])
    return rows


def history(engine: Engine, caller: Caller, filters: HitFilters) -> list[HitRow]:
    """Hits matching the filter, newest first (``hits.view``); a bad field is named."""
    authorize(engine, caller, VIEW, "hit.history")
    window = purpose.require(engine, caller)
    outcome = filters.verification.strip()
    if outcome and outcome not in OUTCOME_LABELS:
        raise ValidationError("verification", "not a verification outcome")
    since, until = day_window(parse_day("since", filters.since),
                              parse_day("until", filters.until))
    plate = normalise(filters.plate, typed=True) or None
    if plate and len(plate) > PLATE_LIMIT:
        raise ValidationError("plate", f"a plate is at most {PLATE_LIMIT} letters and digits")
    rows = hit_repo.list_hits(engine, verification=outcome or None, since=since, until=until,
                              plate=plate, limit=HISTORY_LIMIT)
    purpose.record_view(engine, caller, window, "hit.history", plate=plate, results=len(rows),
                        data={"verification": outcome or None, "since": since, "until": until,
                              "plates": sorted({str(h["plate"]) for h in rows})})
    return rows


def view_hit(engine: Engine, caller: Caller, hit_uuid: str) -> HitRow:
    """One hit with its read and the hotlist entry as matched (``hits.view``); audited."""
    authorize(engine, caller, VIEW, "hit.view", data={"hit": hit_uuid})
    window = purpose.require(engine, caller)
    hit = hit_repo.get_hit(engine, hit_uuid)
    purpose.record_view(engine, caller, window, "hit.view", plate=str(hit["plate"]), results=1,
                        data={"hit": hit_uuid, "read": hit["read_uuid"]})
    return hit


def verify_hit(engine: Engine, caller: Caller, hit_uuid: str, outcome: str,
               note: str = "") -> str:
    """Record dispatch's CLETS outcome for a hit (``hits.verify``); audited. Return its label."""
    authorize(engine, caller, VERIFY, "hit.verify", data={"hit": hit_uuid})
    hit_repo.get_hit(engine, hit_uuid)  # NotFound before anything is checked or written
    dispatch.record_verification(engine, hit_uuid, outcome,
                                 note=optional_text("note", note, NOTE_LIMIT), **caller.who())
    return OUTCOME_LABELS[outcome]
