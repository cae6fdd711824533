"""Hits as dispatch and officers see them (462.5, 462.7(7)): the queue, history, one hit, CLETS.

Each function takes the ``Caller`` and checks role and training first. Showing
hits needs the caller's open purpose window (``controller.accounts.purpose``) and is
audited with its purpose and case number: the queue (``hit.queue``, once per window
and content, not on every refresh), the history with its filter (``hit.history``)
and one hit (``hit.view``). Recording the verification outcome is audited
(``hit.verify``, the first one only, in one conditional write); a verified hit's
outcome changes only by a re-verification with a reason (``hit.reverify``), which
keeps every earlier outcome in the hit's history. Verifying the last unverified hit
of an alert (``controller.alerts.queue``) closes the alert as verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from controller.accounts import Caller, authorize, purpose, record
from controller.alerts import dispatch
from controller.errors import Conflict, ValidationError
from controller.store import Engine
from controller.store import alerts as alert_repo
from controller.store import corrections as correction_repo
from controller.store import hits as hit_repo
from controller.store.corrections import VerificationRow
from controller.store.records import HitRow
from controller.validation import day_window, optional_text, parse_day, required_text
from inference.plates import normalise

# HitRow is re-exported: the web names the rows it shows without importing the store.
__all__ = ["HISTORY_LIMIT", "NOTE_LIMIT", "OUTCOME_LABELS", "QUEUE_LIMIT", "VERIFY", "VIEW",
           "HitFilters", "HitRow", "VerificationRow", "history", "reverify_hit", "unverified",
           "verification_history", "verify_hit", "view_hit"]

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
    # The zone the days are calendar days of (the agency's, from the web; UTC by default).
    zone: tzinfo = UTC


def unverified(engine: Engine, caller: Caller) -> list[HitRow]:
    """The queue of hits not yet verified through CLETS, newest first (``hits.view``)."""
    authorize(engine, caller, VIEW, "hit.queue")
    window = purpose.require(engine, caller)
    rows = hit_repo.list_hits(engine, verification="pending", limit=QUEUE_LIMIT)
    purpose.record_shown(engine, caller, window, "hit.queue",
                         shown=[str(h["uuid"]) for h in rows],
                         plates=[str(h["plate"]) for h in rows])
    return rows


def history(engine: Engine, caller: Caller, filters: HitFilters, *,
            before: tuple[datetime, int] | None = None,
            limit: int = HISTORY_LIMIT) -> list[HitRow]:
    """Hits matching the filter, newest first (``hits.view``); a bad field is named.

    ``before`` and ``limit`` make it one keyset page (the API's cursor): the hits
    after the previous page's last (its created_at and id), at most ``limit``.
    """
    authorize(engine, caller, VIEW, "hit.history")
    window = purpose.require(engine, caller)
    outcome = filters.verification.strip()
    if outcome and outcome not in OUTCOME_LABELS:
        raise ValidationError("verification", "not a verification outcome")
    since, until = day_window(parse_day("since", filters.since),
                              parse_day("until", filters.until), filters.zone)
    plate = normalise(filters.plate, typed=True) or None
    if plate and len(plate) > PLATE_LIMIT:
        raise ValidationError("plate", f"a plate is at most {PLATE_LIMIT} letters and digits")
    rows = hit_repo.list_hits(engine, verification=outcome or None, since=since, until=until,
                              plate=plate, limit=limit, before=before)
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
    """Record dispatch's CLETS outcome for a hit (``hits.verify``); audited. Return its label.

    Only the first outcome is recorded here: once verified, a hit's outcome changes
    only through ``reverify_hit``, with a reason, and its history is kept.
    """
    authorize(engine, caller, VERIFY, "hit.verify", data={"hit": hit_uuid})
    hit = hit_repo.get_hit(engine, hit_uuid)  # NotFound before anything is checked or written
    if outcome not in dispatch.OUTCOMES:
        record(engine, caller, "hit.verify", outcome="denied", plate=str(hit["plate"]),
               data={"hit": hit_uuid, "outcome": outcome, "reason": "unknown outcome"})
        raise ValidationError("outcome", f"must be one of {', '.join(dispatch.OUTCOMES)}")
    text = optional_text("note", note, NOTE_LIMIT)
    if not correction_repo.first_verification(engine, hit_uuid, outcome=outcome, note=text,
                                              actor=caller.username, now=datetime.now(UTC)):
        already = hit_repo.get_hit(engine, hit_uuid)["verification"]
        record(engine, caller, "hit.verify", outcome="denied", plate=str(hit["plate"]),
               data={"hit": hit_uuid, "outcome": outcome,
                     "reason": f"already verified ({already})"})
        raise ValidationError("outcome", f"this hit was already verified as "
                                         f"{OUTCOME_LABELS[already]}; record a "
                                         "re-verification with its reason instead")
    closed = hit["alert_id"] is not None and alert_repo.close_if_settled(
        engine, hit["alert_id"], outcome=outcome, note=text, actor=caller.username,
        now=datetime.now(UTC))
    record(engine, caller, "hit.verify", plate=str(hit["plate"]),
           data={"hit": hit_uuid, "outcome": outcome, "note": text,
                 "alert": hit["alert_id"], "alert_closed": closed})
    return OUTCOME_LABELS[outcome]


def reverify_hit(engine: Engine, caller: Caller, hit_uuid: str, outcome: str,
                 reason: str) -> str:
    """Record a later verification outcome of a verified hit, with its reason
    (``hits.verify``); every earlier outcome stays in its history. Audited as
    ``hit.reverify``. Return the new outcome's label."""
    authorize(engine, caller, VERIFY, "hit.reverify", data={"hit": hit_uuid})
    hit = hit_repo.get_hit(engine, hit_uuid)
    if outcome not in dispatch.OUTCOMES:
        raise ValidationError("outcome", f"must be one of {', '.join(dispatch.OUTCOMES)}")
    why = required_text("reason", reason, NOTE_LIMIT)
    if hit["verification"] == "pending":
        raise ValidationError("outcome", "this hit is not verified yet; record its first "
                                         "outcome")
    try:
        before = correction_repo.reverify(engine, hit_uuid, outcome=outcome, reason=why,
                                          actor=caller.username, now=datetime.now(UTC))
    except Conflict:
        raise ValidationError("outcome", "this hit is not verified yet") from None
    record(engine, caller, "hit.reverify", plate=str(hit["plate"]),
           data={"hit": hit_uuid, "before": before, "outcome": outcome, "reason": why})
    return OUTCOME_LABELS[outcome]


def verification_history(engine: Engine, caller: Caller,
                         hit_uuid: str) -> list[VerificationRow]:
    """Every outcome of a re-verified hit, oldest first (``hits.view``); empty for a hit
    verified once or not at all (its outcome is on the hit)."""
    authorize(engine, caller, VIEW, "hit.verifications", data={"hit": hit_uuid})
    return correction_repo.verifications_of(engine, hit_uuid)
