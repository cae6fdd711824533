"""Hotlists and their entries after they are loaded: disable, enable, change or end an
entry (issue 16, point 7), under the governance of ``controller.alerts.hotlists``.

- A list is never deleted: its versions and entries are the record of what was
  matched (462.7.1(2)(3)), so a list no longer wanted is disabled. A disabled list
  raises no hits; enabling it again puts its approved version back in force, which an
  administrator does (``hotlists.approve``), as for any version that raises hits.
- An entry is changed by a new version of its list, entered by hand with a case number
  and a reason. A change that only narrows what is matched (the entry ended, or its
  expiry brought forward) takes effect at once: every entry left was approved already.
  A later expiry makes the list match for longer, so that version waits for an
  administrator's approval like any hand-entered list. Official feeds change at their
  source, with the next import, never by hand here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.accounts import Caller, authorize, record
from controller.alerts.hotlists import (
    APPROVE,
    ENTRY_FIELDS,
    MANAGE,
    entries_digest,
    hand_list_terms,
)
from controller.errors import ValidationError
from controller.settings import HotlistSettings
from controller.store import Engine
from controller.store import hotlists as repo
from controller.store.records import HotlistVersionRow
from controller.validation import parse_time, record_id


def set_list_enabled(engine: Engine, caller: Caller, list_name: str, enabled: bool) -> None:
    """Disable a list (``hotlists.manage``: it raises no hits, nothing is deleted) or
    enable it again (``hotlists.approve``: its approved version raises hits again)."""
    action = "hotlist.enable" if enabled else "hotlist.disable"
    authorize(engine, caller, APPROVE if enabled else MANAGE, action, data={"list": list_name})
    changed = repo.set_enabled(engine, list_name, enabled, actor=caller.username,
                               now=datetime.now(UTC))
    record(engine, caller, action, data={"list": list_name, "changed": changed})


def version_in_force(engine: Engine, rules: HotlistSettings, list_name: str
                     ) -> HotlistVersionRow:
    """The version in force of a hand-entered list, with no other version waiting."""
    if rules.is_official(list_name):
        raise ValidationError("list_name", f"'{list_name}' is an official feed: its entries "
                                           "change with the next import of the feed")
    versions = repo.list_versions(engine, name=list_name)
    if any(v["status"] == "pending" for v in versions):
        raise ValidationError("list_name", f"a version of '{list_name}' waits for approval: "
                                           "have it decided first")
    hotlist = repo.find_list(engine, list_name)
    active = next((v for v in versions if v["version"] == hotlist["active_version"]), None)
    if active is None or active["status"] != "approved":
        raise ValidationError("list_name", f"'{list_name}' has no approved version in force")
    return active


def change_entry(engine: Engine, rules: HotlistSettings, caller: Caller, list_name: str,
                 entry_id: str, *, expires_at: str, reason: str,
                 case_number: str) -> HotlistVersionRow:
    """End an entry of ``list_name`` (``expires_at`` blank) or change its expiry
    (``hotlists.manage``).

    Writes a new version of the entry's list without the entry, or with its new expiry,
    stating ``case_number`` and ``reason``; audited as ``hotlist.entry.end`` or
    ``hotlist.entry.change`` with the plate. Narrowing takes effect at once; a later
    expiry waits for approval.
    """
    ident = record_id("entry_id", entry_id)
    authorize(engine, caller, MANAGE, "hotlist.entry.change", data={"entry_id": ident})
    entry = repo.get_entry(engine, ident)
    if entry["list_name"] != list_name:
        raise ValidationError("entry_id", f"that entry is not on '{list_name}'")
    base = version_in_force(engine, rules, entry["list_name"])
    if entry["version"] != base["version"]:
        raise ValidationError("entry_id", "that entry is not in the list's version in force")
    now = datetime.now(UTC)
    new_expiry = parse_time("expires_at", expires_at) if expires_at.strip() else None
    if new_expiry is not None and new_expiry <= now:
        raise ValidationError("expires_at", "the new expiry must be in the future (leave it "
                                            "blank to end the entry now)")
    kept: list[dict[str, Any]] = []
    for row in repo.version_entries(engine, base["hotlist_id"], base["version"], limit=None):
        fields = {f: row[f] for f in ENTRY_FIELDS}  # type: ignore[literal-required]
        if row["id"] == ident:
            if new_expiry is None:
                continue
            fields["expires_at"] = new_expiry
        kept.append(fields)
    longer = new_expiry is not None and (
        entry["expires_at"] is None or new_expiry > entry["expires_at"])
    until = base["expires_at"]
    if longer and new_expiry is not None and (until is None or new_expiry > until):
        until = new_expiry
    terms = hand_list_terms(case_number, reason, until, now=now)
    version = repo.add_version(
        engine, entry["list_name"], kept, actor=caller.username, now=now, official=False,
        digest=entries_digest(kept), case_number=terms.case_number, reason=terms.reason,
        expires_at=terms.expires_at)
    if not longer:
        # Every entry left was approved in the version in force: nothing new raises hits.
        version = repo.decide_version(
            engine, version["id"], approve=True, actor=caller.username, now=now,
            note=f"narrows version {base['version']}: entry {entry['plate']} "
                 f"{'ended' if new_expiry is None else 'expires sooner'}")
    record(engine, caller, "hotlist.entry.end" if new_expiry is None else
           "hotlist.entry.change", plate=entry["plate"], purpose=terms.reason,
           case_number=terms.case_number, data={
               "list": entry["list_name"], "entry_id": ident, "from_version": base["version"],
               "version": version["version"], "status": version["status"],
               "expires_at": new_expiry.isoformat() if new_expiry else None})
    return version
