"""Alerts for dispatch (462.7(7)): the queue, one alert, acknowledge, verify, dismiss.

Every hit is stored and forwarded as before; dispatch works from alerts, one per
plate per passage window (``alerts.join_minutes``), which repeat sightings and
further lists join (``controller.store.alerts``). Showing alerts is a view of plate
data: it needs ``hits.view`` and the caller's open purpose window, and is audited
with its purpose and case number (the queue once per window and content, as the
hit queue was; one alert each time it is opened). The queue's and an alert's
audit entries list the reads they show, so the result-list thumbnail route
(``controller.search.views.thumbnail``) serves their images against that entry.

Acknowledging, verifying and dismissing need ``hits.verify`` and an open purpose
window, and are audited. Verifying records the CLETS outcome on every unverified
hit of the alert (the hits' own outcomes, as ``controller.alerts.hits`` records
them); dismissing needs a reason. Each is one conditional write, so two
dispatchers cannot both close an alert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from controller.accounts import Caller, authorize, purpose, record
from controller.accounts.purpose import Window
from controller.alerts import dispatch
from controller.alerts.hits import NOTE_LIMIT, OUTCOME_LABELS, PLATE_LIMIT
from controller.errors import ValidationError
from controller.store import Engine
from controller.store import alerts as alert_repo
from controller.store import audit as audit_repo
from controller.store import corrections as correction_repo
from controller.store import hits as hit_repo
from controller.store import sites as site_repo
from controller.store.records import AlertRow, CameraChoice, HitRow
from controller.validation import day_window, optional_text, parse_day, record_id, required_text
from inference.plates import normalise

# AlertRow is re-exported: the web names the rows it shows without importing the store.
__all__ = [
    "GRANTING_ACTIONS",
    "STATE_LABELS",
    "AlertDetail",
    "AlertFilters",
    "AlertPage",
    "AlertRow",
    "acknowledge",
    "alert_queue",
    "dismiss",
    "verify",
    "view_alert",
]

VIEW = "hits.view"
ACT = "hits.verify"
QUEUE = "alert.queue"
VIEWED = "alert.view"
# The audit entries whose listed reads the thumbnail route serves to their own user.
GRANTING_ACTIONS = (QUEUE, VIEWED)
STATE_LABELS = {"open": "New", "acknowledged": "Acknowledged", "verified": "Verified",
                "dismissed": "Dismissed"}
ACTIVE = ("open", "acknowledged")
LIST_LIMIT = 128


@dataclass(frozen=True)
class AlertFilters:
    """The queue's filter as typed: state ("active", "all" or one state), plate, list,
    camera id, first and last day (YYYY-MM-DD) of ``zone`` (the agency's, from the web;
    UTC by default) and page number."""

    state: str = "active"
    plate: str = ""
    list_name: str = ""
    camera: str = ""
    since: str = ""
    until: str = ""
    page: str = "1"
    zone: tzinfo = UTC


@dataclass(frozen=True)
class AlertPage:
    """One page of the queue, its audit entry (which authorises its thumbnails), the
    filter's choices and where the page stands."""

    alerts: list[AlertRow]
    total: int
    page: int
    pages: int
    grant: int | None
    lists: list[str]
    cameras: list[CameraChoice]


@dataclass(frozen=True)
class AlertDetail:
    """One alert with its hits (every sighting on every list) and its audit entry."""

    alert: AlertRow
    hits: list[HitRow]
    grant: int


def _page_number(text: str) -> int:
    try:
        page = int(text.strip() or "1")
    except ValueError:
        raise ValidationError("page", "enter a page number") from None
    if not 1 <= page <= 100_000:
        raise ValidationError("page", "enter a page number from 1")
    return page


def _query(filters: AlertFilters) -> alert_repo.AlertQuery:
    state = filters.state.strip() or "active"
    if state not in (*STATE_LABELS, "active", "all"):
        raise ValidationError("state", "choose new, acknowledged, verified, dismissed, active "
                                       "or all")
    states = ACTIVE if state == "active" else () if state == "all" else (state,)
    plate = normalise(filters.plate, typed=True) or None
    if plate and len(plate) > PLATE_LIMIT:
        raise ValidationError("plate", f"a plate is at most {PLATE_LIMIT} letters and digits")
    camera = record_id("camera", filters.camera) if filters.camera.strip() else None
    first, last = parse_day("since", filters.since), parse_day("until", filters.until)
    if first and last and last < first:
        raise ValidationError("until", "the last day is before the first")
    since, until = day_window(first, last, filters.zone)
    return alert_repo.AlertQuery(states=states, plate=plate, camera_id=camera,
                                 list_name=filters.list_name.strip()[:LIST_LIMIT] or None,
                                 since=since, until=until)


def _queue_grant(engine: Engine, caller: Caller, window: Window, logged: int | None) -> int | None:
    """The audit entry that records this page: the one just written, or the window's
    earlier entry for the same page (``record_shown`` writes none when nothing changed)."""
    if logged is not None:
        return logged
    for event in audit_repo.search(engine, actor=caller.username, action=QUEUE, limit=1):
        if (event["data"] or {}).get("window") == window.id:
            return int(event["id"])
    return None


def alert_queue(engine: Engine, caller: Caller, filters: AlertFilters,
                page_size: int = 25) -> AlertPage:
    """One page of alerts matching the filter, newest sighting first (``hits.view``);
    a bad field is named. Audited as ``alert.queue`` once per window and content."""
    authorize(engine, caller, VIEW, QUEUE)
    window = purpose.require(engine, caller)
    query = _query(filters)
    page = _page_number(filters.page)
    rows, total = alert_repo.list_alerts(engine, query, offset=(page - 1) * page_size,
                                         limit=page_size)
    shown = [f"{a['id']}:{a['state']}:{a['sightings']}:{a['read_uuid']}" for a in rows]
    logged = purpose.record_shown(
        engine, caller, window, QUEUE, shown=shown, plates=[a["plate"] for a in rows],
        data={"alerts": [a["id"] for a in rows], "page": page, "total": total,
              "read_ids": [a["read_id"] for a in rows if a["read_id"] is not None],
              "filter": {"states": list(query.states), "plate": query.plate,
                         "list": query.list_name, "camera": query.camera_id,
                         "since": query.since, "until": query.until}})
    return AlertPage(rows, total, page, max(1, math.ceil(total / page_size)),
                     _queue_grant(engine, caller, window, logged),
                     alert_repo.list_names(engine), site_repo.camera_choices(engine))


def view_alert(engine: Engine, caller: Caller, alert_id: int) -> AlertDetail:
    """One alert with every hit that joined it (``hits.view``); audited as ``alert.view``."""
    authorize(engine, caller, VIEW, VIEWED, data={"alert": alert_id})
    window = purpose.require(engine, caller)
    alert = alert_repo.get_alert(engine, alert_id)
    hits = [hit_repo.get_hit(engine, u) for u in alert_repo.hit_uuids(engine, alert_id)]
    grant = purpose.record_view(
        engine, caller, window, VIEWED, plate=alert["plate"], results=len(hits),
        data={"alert": alert_id, "hits": [h["uuid"] for h in hits],
              "read_ids": [alert["read_id"]] if alert["read_id"] is not None else []})
    return AlertDetail(alert, hits, grant)


def _acting(engine: Engine, caller: Caller, action: str,
            alert_id: int) -> tuple[Window, AlertRow]:
    authorize(engine, caller, ACT, action, data={"alert": alert_id})
    window = purpose.require(engine, caller)
    return window, alert_repo.get_alert(engine, alert_id)  # NotFound before anything else


def _refused(engine: Engine, caller: Caller, window: Window, alert: AlertRow, *, action: str,
             reason: str, field: str, **data: object) -> ValidationError:
    record(engine, caller, action, outcome="denied", plate=alert["plate"],
           purpose=window.purpose, case_number=window.case_number,
           data={"alert": alert["id"], "reason": reason, **data})
    return ValidationError(field, reason)


def _done(engine: Engine, caller: Caller, window: Window, action: str, alert: AlertRow,
          **data: object) -> None:
    record(engine, caller, action, plate=alert["plate"], purpose=window.purpose,
           case_number=window.case_number, data={"alert": alert["id"], **data})


def acknowledge(engine: Engine, caller: Caller, alert_id: int) -> None:
    """Mark a new alert acknowledged: someone in dispatch has it (``hits.verify``)."""
    window, alert = _acting(engine, caller, "alert.acknowledge", alert_id)
    if not alert_repo.acknowledge(engine, alert_id, actor=caller.username,
                                  now=datetime.now(UTC)):
        state = STATE_LABELS[alert_repo.get_alert(engine, alert_id)["state"]].lower()
        raise _refused(engine, caller, window, alert, action="alert.acknowledge",
                       reason=f"this alert is {state} already", field="alert")
    _done(engine, caller, window, "alert.acknowledge", alert)


def verify(engine: Engine, caller: Caller, alert_id: int, outcome: str, note: str = "") -> str:
    """Record the CLETS outcome of an alert and of each of its unverified hits
    (``hits.verify``); audited as ``alert.verify``. Return the outcome's label."""
    window, alert = _acting(engine, caller, "alert.verify", alert_id)
    if outcome not in dispatch.OUTCOMES:
        raise _refused(engine, caller, window, alert, action="alert.verify",
                       reason=f"must be one of {', '.join(dispatch.OUTCOMES)}", field="outcome",
                       outcome=outcome[:32])
    text = optional_text("note", note, NOTE_LIMIT)
    now = datetime.now(UTC)
    if not alert_repo.close(engine, alert_id, state="verified", outcome=outcome, note=text,
                            actor=caller.username, now=now):
        state = STATE_LABELS[alert_repo.get_alert(engine, alert_id)["state"]].lower()
        raise _refused(engine, caller, window, alert, action="alert.verify",
                       reason=f"this alert is {state} already", field="outcome", outcome=outcome)
    verified = [u for u in alert_repo.hit_uuids(engine, alert_id)
                if correction_repo.first_verification(engine, u, outcome=outcome, note=text,
                                                      actor=caller.username, now=now)]
    _done(engine, caller, window, "alert.verify", alert, outcome=outcome, note=text,
          hits=verified)
    return OUTCOME_LABELS[outcome]


def dismiss(engine: Engine, caller: Caller, alert_id: int, reason: str) -> None:
    """Close an alert without a CLETS check, with the reason (``hits.verify``); its hits
    keep their outcomes. Audited as ``alert.dismiss``."""
    window, alert = _acting(engine, caller, "alert.dismiss", alert_id)
    try:
        why = required_text("reason", reason, NOTE_LIMIT)
    except ValidationError as exc:
        raise _refused(engine, caller, window, alert, action="alert.dismiss",
                       reason=exc.reason, field="reason") from None
    if not alert_repo.close(engine, alert_id, state="dismissed", outcome=None, note=why,
                            actor=caller.username, now=datetime.now(UTC)):
        state = STATE_LABELS[alert_repo.get_alert(engine, alert_id)["state"]].lower()
        raise _refused(engine, caller, window, alert, action="alert.dismiss",
                       reason=f"this alert is {state} already", field="reason")
    _done(engine, caller, window, "alert.dismiss", alert, reason=why)
