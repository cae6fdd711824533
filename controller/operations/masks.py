"""Privacy masks and recognition zones under governance (462.7.1(1)): the use cases.

Everything here needs ``cameras.masks`` (administrators only: vendors never see
or edit masks, DESIGN 462.4). A save from the editor is split in two:

* whatever hides no less takes effect at once: new masks, grown or moved masks
  whose old area stays covered, zones, names;
* whatever hides less (``mask_geometry.hides_less``: a mask removed, shrunk or
  turned into a recognition zone while no other mask covers its area) is held
  back as a **mask change request**; the mask stays in force, exactly as it was,
  until a second administrator (not the requester) approves the request or an
  administrator records a court order for it. Requests can be refused by another
  administrator or withdrawn by their requester.

Every version of a camera's regions is kept (``mask_versions``: who changed it,
on whose approval or which court order); regions are never deleted, so the
court-order lifts recorded against a mask stay on file. Each step is audited.
``notify`` tells this process's pipelines and live views that masks changed
(the bridge's ``notify`` from a web thread); other processes read the store at
their refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn, TypedDict

from controller.accounts import Caller, authorize, record
from controller.bridge import ChangeNotice
from controller.errors import ValidationError
from controller.operations.cameras import validate_regions
from controller.operations.mask_geometry import hides_less
from controller.store import Engine
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.records import CameraRow, MaskRequestRow, MaskVersionRow, PlainRegion
from controller.validation import record_id, required_text

PERMISSION = "cameras.masks"
MASK = "privacy_mask"
REASON_CHARS = 500


class Plan(TypedDict):
    """A save split into what applies at once and the reductions held for approval."""

    immediate: list[dict[str, Any]]
    held: list[dict[str, Any]]


def _shape(region: PlainRegion | dict[str, Any]) -> dict[str, Any]:
    return {"kind": region["kind"], "name": region["name"], "polygon": region["polygon"]}


def _build(wanted: Sequence[dict[str, Any]], current: dict[int, PlainRegion],
           held: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """``wanted`` with every held mask kept exactly as it is in force now."""
    out = []
    for region in wanted:
        region_id = region.get("id")
        if region_id is not None and region_id in held:
            out.append({"id": region_id, **_shape(current[region_id])})
        else:
            out.append(dict(region))
    out += [{"id": rid, **_shape(current[rid])} for rid, change in held.items()
            if change["after"] is None]
    return out


def plan_change(current: Sequence[PlainRegion], wanted: Sequence[dict[str, Any]]) -> Plan:
    """Split ``wanted`` (the editor's regions) against the regions in force (pure).

    A privacy mask in force is *reduced* when its new version (same id, still a
    privacy mask) does not cover its old area and the new masks together do not
    cover it either; reductions are held, everything else applies at once. The
    masks applied at once always hide at least what was hidden before.
    """
    by_id = {int(r["id"]): r for r in current}
    wanted_by_id = {int(w["id"]): w for w in wanted if w.get("id") is not None}
    new_masks = [w["polygon"] for w in wanted if w["kind"] == MASK]
    candidates: dict[int, dict[str, Any]] = {}
    covered_by_others: set[int] = set()
    for region_id, old in by_id.items():
        if old["kind"] != MASK:
            continue
        new = wanted_by_id.get(region_id)
        if new is not None and new["kind"] == MASK and not hides_less([old["polygon"]],
                                                                      [new["polygon"]]):
            continue  # the same, grown or moved over its old area
        change = "remove" if new is None else "retype" if new["kind"] != MASK else "shrink"
        candidates[region_id] = {"region_id": region_id, "change": change,
                                 "before": _shape(old),
                                 "after": None if new is None else _shape(new)}
        if not hides_less([old["polygon"]], new_masks):
            covered_by_others.add(region_id)  # e.g. split in two, or merged into another
    held = {k: v for k, v in candidates.items() if k not in covered_by_others}
    immediate = _build(wanted, by_id, held)
    before = [r["polygon"] for r in current if r["kind"] == MASK]
    if hides_less(before, [r["polygon"] for r in immediate if r["kind"] == MASK]):
        # Another mask's area was counted on from a change that is itself held: hold
        # every reduction, so that what applies now hides no less than before.
        held = candidates
        immediate = _build(wanted, by_id, held)
    return {"immediate": immediate, "held": list(held.values())}


class MaskEditor(TypedDict):
    """What the mask editor shows: the camera, its regions in force, requests, history."""

    camera: CameraRow
    regions: list[PlainRegion]
    pending: list[MaskRequestRow]
    versions: list[MaskVersionRow]


def editor(engine: Engine, caller: Caller, camera_id: int) -> MaskEditor:
    """A camera's regions in force, its pending requests and its mask history."""
    authorize(engine, caller, PERMISSION, "camera.regions", data={"camera_id": camera_id})
    camera = site_repo.get_camera(engine, camera_id)
    return {"camera": camera, "regions": region_repo.plain_regions(engine, camera_id),
            "pending": region_repo.list_requests(engine, camera_id=camera_id,
                                                 pending_only=True),
            "versions": region_repo.versions(engine, camera_id)}


class SaveResult(TypedDict):
    """The regions in force after a save, and the request holding any reduction."""

    regions: list[PlainRegion]
    request_id: int | None
    held: list[dict[str, Any]]


def save_regions(engine: Engine, caller: Caller, camera_id: int, payload: Any, *,
                 notify: ChangeNotice) -> SaveResult:
    """Save the editor's regions: growth at once, reductions as a pending request."""
    authorize(engine, caller, PERMISSION, "camera.regions", data={"camera_id": camera_id})
    site_repo.get_camera(engine, camera_id)  # an unknown camera is 404 whatever was sent
    try:
        if not isinstance(payload, dict) or "regions" not in payload:
            raise ValidationError("regions", 'send JSON: {"regions": [...]}')
        reason = payload.get("reason") or ""
        if not isinstance(reason, str) or len(reason) > REASON_CHARS:
            raise ValidationError("reason", f"at most {REASON_CHARS} characters")
        wanted = validate_regions(payload["regions"])
        current = region_repo.plain_regions(engine, camera_id)
        known = {r["id"] for r in current}
        for i, region in enumerate(wanted):
            if region["id"] is not None and region["id"] not in known:
                raise ValidationError(f"regions[{i}].id",
                                      f"region {region['id']} is not in force on this camera")
        plan = plan_change(current, wanted)
        request = (region_repo.NewMaskRequest(reason.strip(), plan["held"])
                   if plan["held"] else None)
        before, after = region_repo.replace_regions(
            engine, camera_id, plan["immediate"], changed_by=caller.username, base=current,
            request=request)
    except ValidationError as exc:
        record(engine, caller, "camera.regions", outcome="denied",
               data={"camera_id": camera_id, "reason": str(exc)})
        raise
    request_id = request.id if request is not None else None
    record(engine, caller, "camera.regions",
           data={"camera_id": camera_id, "before": before, "after": after,
                 "held_for_approval": request_id})
    if request is not None:
        record(engine, caller, "mask.change_requested",
               data={"request_id": request_id, "camera_id": camera_id,
                     "reason": request.reason, "changes": plan["held"]})
    if after != before:
        notify("cameras")
    return {"regions": after, "request_id": request_id, "held": plan["held"]}


def requests(engine: Engine, caller: Caller) -> dict[str, list[MaskRequestRow]]:
    """Pending mask change requests, and the latest decided ones."""
    authorize(engine, caller, PERMISSION, "mask.requests")
    every = region_repo.list_requests(engine)
    return {"pending": [r for r in every if r["status"] == "pending"],
            "decided": [r for r in every if r["status"] != "pending"]}


def history(engine: Engine, caller: Caller, camera_id: int) -> list[MaskVersionRow]:
    """Every version of a camera's masks and zones, newest first."""
    authorize(engine, caller, PERMISSION, "mask.history", data={"camera_id": camera_id})
    site_repo.get_camera(engine, camera_id)
    return region_repo.versions(engine, camera_id)


def _request(engine: Engine, request_id: int | str) -> MaskRequestRow:
    return region_repo.get_request(engine, record_id("request", str(request_id)))


def _note(text: str) -> str | None:
    text = text.strip()
    if len(text) > REASON_CHARS:
        raise ValidationError("note", f"at most {REASON_CHARS} characters")
    return text or None


def _refuse(engine: Engine, caller: Caller, action: str, row: MaskRequestRow,
            reason: str) -> NoReturn:
    record(engine, caller, action, outcome="denied",
           data={"request_id": row["id"], "camera_id": row["camera_id"], "reason": reason})
    raise ValidationError("request", reason)


def approve(engine: Engine, caller: Caller, request_id: int | str, *, note: str = "",
            notify: ChangeNotice) -> MaskRequestRow:
    """A second administrator approves a pending request: the reduction takes effect."""
    authorize(engine, caller, PERMISSION, "mask.approve", data={"request_id": request_id})
    row = _request(engine, request_id)
    if row["requested_by"] == caller.username:
        _refuse(engine, caller, "mask.approve", row, "a second administrator, not the "
                "requester, approves a mask change (or record a court order for it)")
    try:
        before, after = region_repo.apply_request(engine, row["id"], status="approved",
                                                  decided_by=caller.username, note=_note(note))
    except ValidationError as exc:
        _refuse(engine, caller, "mask.approve", row, str(exc).removeprefix("request: "))
    record(engine, caller, "mask.approve",
           data={"request_id": row["id"], "camera_id": row["camera_id"],
                 "camera": row["camera"], "requested_by": row["requested_by"],
                 "changes": row["changes"], "before": before, "after": after})
    notify("cameras")
    return region_repo.get_request(engine, row["id"])


def apply_court_order(engine: Engine, caller: Caller, request_id: int | str, *,
                      court_order: str, court: str, notify: ChangeNotice) -> MaskRequestRow:
    """Carry out a pending request under a recorded court order (no second approval)."""
    authorize(engine, caller, PERMISSION, "mask.court_order", data={"request_id": request_id})
    row = _request(engine, request_id)
    order = required_text("court_order", court_order, 128)
    issuer = required_text("court", court, 200)
    try:
        before, after = region_repo.apply_request(
            engine, row["id"], status="court_order", decided_by=caller.username,
            court_order=order, court=issuer)
    except ValidationError as exc:
        _refuse(engine, caller, "mask.court_order", row, str(exc).removeprefix("request: "))
    record(engine, caller, "mask.court_order", case_number=order,
           data={"request_id": row["id"], "camera_id": row["camera_id"],
                 "camera": row["camera"], "requested_by": row["requested_by"],
                 "court_order": order, "court": issuer, "changes": row["changes"],
                 "before": before, "after": after})
    notify("cameras")
    return region_repo.get_request(engine, row["id"])


def refuse(engine: Engine, caller: Caller, request_id: int | str, *,
           note: str = "") -> MaskRequestRow:
    """Another administrator refuses a pending request: the masks stay as they are."""
    authorize(engine, caller, PERMISSION, "mask.refuse", data={"request_id": request_id})
    row = _request(engine, request_id)
    if row["requested_by"] == caller.username:
        _refuse(engine, caller, "mask.refuse", row, "withdraw your own request instead")
    return _close(engine, caller, row, "refused", note)


def withdraw(engine: Engine, caller: Caller, request_id: int | str) -> MaskRequestRow:
    """The requester withdraws their pending request: the masks stay as they are."""
    authorize(engine, caller, PERMISSION, "mask.withdraw", data={"request_id": request_id})
    row = _request(engine, request_id)
    if row["requested_by"] != caller.username:
        _refuse(engine, caller, "mask.withdraw", row,
                "only the requester withdraws a request; refuse it instead")
    return _close(engine, caller, row, "withdrawn", "")


def _close(engine: Engine, caller: Caller, row: MaskRequestRow, status: str,
           note: str) -> MaskRequestRow:
    action = "mask.refuse" if status == "refused" else "mask.withdraw"
    try:
        region_repo.close_request(engine, row["id"], status=status, decided_by=caller.username,
                                  note=_note(note))
    except ValidationError as exc:
        _refuse(engine, caller, action, row, str(exc).removeprefix("request: "))
    record(engine, caller, action, data={"request_id": row["id"], "camera_id": row["camera_id"],
                                         "changes": row["changes"], "note": note.strip()})
    return region_repo.get_request(engine, row["id"])
