"""One entry at a time on a hand-entered hotlist (462.7, 462.7.1(2)(3)), by plate: add or
expire it (the JSON API's operations).

Adding a plate widens the list, so it goes the way every hand-entered change goes
(``controller.alerts.hotlists``): a new version is stored (the entries of the newest
version not refused, plus the new one) and it raises hits only once an administrator
other than the person who made it approves it: no plate without a case number, a
reason, an expiry and a second person's word starts raising hits. Taking a plate off
only narrows the approved version in force, so it is the web page's "end entry"
(``controller.alerts.hotlist_edits.change_entry``) and takes effect at once. An
official feed's entries change with the feed only. Both need ``hotlists.manage`` and
are audited with the plate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from controller.accounts import Caller, authorize, record
from controller.alerts import hotlist_edits as edits
from controller.alerts import hotlists as lists
from controller.errors import ValidationError
from controller.settings.hotlists import HotlistSettings
from controller.store import Engine
from controller.store import hotlists as repo
from controller.store.records import HotlistVersionRow
from controller.store.schema import HOTLIST_CATEGORIES
from controller.validation import parse_time, required_text
from inference.plates import normalise

FULL_PLATE = lists.PLATE


@dataclass(frozen=True)
class EntryForm:
    """An entry as typed: plate (``?``/``*`` make it partial), category, why, case, until."""

    plate: str = ""
    category: str = ""
    reason: str = ""
    case_number: str = ""
    expires_at: str = ""
    state: str = ""


def _official_refused(rules: HotlistSettings, name: str) -> None:
    if rules.is_official(name):
        raise ValidationError("list_name", f"'{name}' is an official feed: its entries change "
                                           "with the feed, not by hand")


def _base(engine: Engine, name: str) -> tuple[HotlistVersionRow | None, list[dict[str, Any]]]:
    """The newest version not refused and its entries still in force (nothing waiting lost)."""
    base = next((v for v in repo.list_versions(engine, name=name)
                 if v["status"] != "rejected"), None)
    if base is None:
        return None, []
    now = datetime.now(UTC)
    kept = [{f: e[f] for f in lists.ENTRY_FIELDS}  # type: ignore[literal-required]
            for e in repo.version_entries(engine, base["hotlist_id"], base["version"],
                                          limit=None)
            if e["expires_at"] is None or e["expires_at"] > now]
    return base, kept


def _store(engine: Engine, caller: Caller, name: str, entries: list[dict[str, Any]], *,
           terms: lists.HandList, action: str, plate: str,
           extra: dict[str, Any]) -> HotlistVersionRow:
    version = repo.add_version(
        engine, name, entries, actor=caller.username, now=datetime.now(UTC), official=False,
        digest=lists.entries_digest(entries), case_number=terms.case_number,
        reason=terms.reason, expires_at=terms.expires_at)
    event_id = record(engine, caller, action, plate=plate, purpose=terms.reason,
                      case_number=terms.case_number,
                      data={"list": name, **extra, **lists.version_audit(version, entries)})
    repo.set_import_event(engine, version["id"], event_id)
    return version


def add_entry(engine: Engine, rules: HotlistSettings, caller: Caller, list_name: str,
              form: EntryForm) -> HotlistVersionRow:
    """Put one plate on a hand-entered list, pending approval (``hotlists.manage``).

    A plate with ``?`` or ``*`` is a partial plate from a major incident
    (``hotlists.enter_partial``). A full plate needs a category of 462.3, a reason,
    a case number and an expiry; audited as ``hotlist.entry.add`` with the plate.
    """
    authorize(engine, caller, lists.MANAGE, "hotlist.entry.add", data={"list": list_name})
    if "?" in form.plate or "*" in form.plate:
        return lists.enter_partial(engine, caller, list_name=list_name, pattern=form.plate,
                                   expires_at=form.expires_at, reason=form.reason,
                                   state=form.state, case_number=form.case_number, rules=rules)
    name = lists.check_name(list_name)
    _official_refused(rules, name)
    plate = normalise(form.plate, typed=True)
    if not plate or not FULL_PLATE.match(plate):
        raise ValidationError("plate", "a plate of 1-10 letters and digits")
    if form.category not in HOTLIST_CATEGORIES or form.category == "partial_plate":
        raise ValidationError("category", "one of " + ", ".join(
            c for c in HOTLIST_CATEGORIES if c != "partial_plate"))
    state = form.state.strip().upper() or None
    if state is not None and not lists.STATE.match(state):
        raise ValidationError("state", "a state is a two-letter code")
    expires = parse_time("expires_at", form.expires_at)
    reason = required_text("reason", form.reason, lists.FIELD_LIMITS["reason"])
    lists.hand_list_terms(form.case_number, reason, expires)  # the entry's own terms
    assert expires is not None  # hand_list_terms refused a missing one
    _base_version, kept = _base(engine, name)
    if any(e["plate"] == plate for e in kept):
        raise ValidationError("plate", f"{plate} is already on {name}")
    until = max([expires] + [e["expires_at"] for e in kept if e["expires_at"]])
    terms = lists.hand_list_terms(form.case_number, reason, until)
    entry = {"plate": plate, "is_partial": False, "plate_state": state,
             "category": form.category, "reason": reason, "ncic_number": None, "ori": None,
             "expires_at": expires, "entered_at": datetime.now(UTC), "alert_note": None}
    return _store(engine, caller, name, [*kept, entry], terms=terms,
                  action="hotlist.entry.add", plate=plate,
                  extra={"category": form.category, "expires_at": expires.isoformat()})


def expire_entry(engine: Engine, rules: HotlistSettings, caller: Caller, list_name: str, *,
                 plate: str, reason: str) -> HotlistVersionRow:
    """Take a plate off a hand-entered list (``hotlists.manage``), by plate.

    The same rule as the web page's "end entry" (``hotlist_edits.change_entry``, which
    this calls): the new version only narrows what the approved version in force
    matches, so it takes effect at once; audited as ``hotlist.entry.end`` with the plate.
    """
    authorize(engine, caller, lists.MANAGE, "hotlist.entry.end", data={"list": list_name})
    name = lists.check_name(list_name)
    _official_refused(rules, name)
    why = required_text("reason", reason, lists.FIELD_LIMITS["reason"])
    wanted = normalise(plate, typed=True)
    repo.find_list(engine, name)  # NotFound naming the list
    base = edits.version_in_force(engine, rules, name)
    entry = next((e for e in repo.version_entries(engine, base["hotlist_id"], base["version"],
                                                  limit=None) if e["plate"] == wanted), None)
    if entry is None:
        raise ValidationError("plate", f"{wanted or plate!r} is not on {name}")
    return edits.change_entry(engine, rules, caller, name, str(entry["id"]), expires_at="",
                              reason=why, case_number=base["case_number"] or "")
