"""Privacy masks change only under a court order or a second administrator's approval.

Policy 462.7.1(1), DESIGN 462.7.1(1): adding or growing a mask takes effect at
once; removing, shrinking or retyping one is a request that leaves the mask in
force (the pipeline's masker still blacks it out) until a second administrator,
not the requester, approves it or a court order is recorded for it. Mask history
is kept; court-order lift records are never cascaded away.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import Engine, text
from tests_web_helpers import Auth, actions

from cameras.masking import FrameMasker
from controller.bridge import ignore_change
from controller.capture.supervisor import load_specs
from controller.compliance import court_orders
from controller.store import audit as audit_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo

LEFT = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
PORCH = {"kind": "privacy_mask", "name": "Porch", "polygon": LEFT}
ZONE = {"kind": "recognition_zone", "name": "Lanes",
        "polygon": [[0.6, 0.5], [0.9, 0.5], [0.9, 0.95], [0.6, 0.95]]}


@pytest.fixture
def cam(engine: Engine) -> int:
    site = site_repo.create_site(engine, code="main-st", name="Main St")
    return site_repo.create_camera(engine, site, {
        "name": "NB lane 1", "host": "127.0.0.1", "stream_uri": "rtsp://127.0.0.1:8554/x"})


def signed_in(app: Flask, engine: Engine, name: str, role: str = "administrator") -> Auth:
    auth = Auth(app, app.test_client(), engine)
    auth.make_user(name, role)
    assert auth.login(name).status_code == 302
    return auth


@pytest.fixture
def admins(app: Flask, engine: Engine) -> tuple[Auth, Auth]:
    return signed_in(app, engine, "ada.admin"), signed_in(app, engine, "bo.admin")


def save(auth: Auth, cam: int, regions: list[dict[str, Any]]) -> Any:
    return auth.client.post(f"/cameras/{cam}/regions", json={"regions": regions},
                            headers={"X-CSRF-Token": auth.csrf()})


def in_force(engine: Engine, cam: int) -> list[tuple[str, str, list[list[float]]]]:
    return [(r["name"], r["kind"], r["polygon"]) for r in region_repo.list_regions(engine, cam)]


def masked_columns(engine: Engine) -> int:
    """How many of 160 columns the pipeline's masker blacks out (the runtime's mask path)."""
    [spec] = load_specs(engine, ("main-st",))
    frame = np.full((90, 160, 3), 255, np.uint8)
    FrameMasker(spec.masks).apply(frame)
    return int((frame.max(axis=(0, 2)) == 0).sum())


def pending(engine: Engine) -> list[dict[str, Any]]:
    return [dict(r) for r in region_repo.list_requests(engine, pending_only=True)]


def first_mask(admin: Auth, cam: int) -> dict[str, Any]:
    saved = save(admin, cam, [PORCH, ZONE])
    assert saved.status_code == 200 and saved.json["request_id"] is None
    return dict(saved.json["regions"][0])


def test_removal_waits_for_a_second_administrator(app: Flask, engine: Engine, cam: int,
                                                  admins: tuple[Auth, Auth]) -> None:
    ada, bo = admins
    porch = first_mask(ada, cam)
    zone = region_repo.list_regions(engine, cam)[1]
    assert masked_columns(engine) >= 80

    # Ada deletes the mask in the editor: a request, and the mask stays in force.
    held = save(ada, cam, [{**ZONE, "id": zone["id"]}])
    assert held.status_code == 200
    request_id = held.json["request_id"]
    assert request_id is not None and [c["change"] for c in held.json["held"]] == ["remove"]
    assert [r["name"] for r in held.json["regions"]] == ["Porch", "Lanes"]
    assert in_force(engine, cam)[0] == ("Porch", "privacy_mask", LEFT)
    assert masked_columns(engine) >= 80
    assert [r["id"] for r in pending(engine)] == [request_id]
    assert actions(engine, "mask.change_requested") == ["allowed"]
    editor = ada.client.get(f"/cameras/{cam}/regions").get_data(as_text=True)
    assert f'id="pending-{request_id}"' in editor and "Porch: removal" in editor

    # The requester cannot approve their own request.
    own = ada.post(f"/masks/requests/{request_id}/approve")
    assert "a second administrator, not the requester" in own.get_data(as_text=True)
    assert [r["id"] for r in pending(engine)] == [request_id]
    assert masked_columns(engine) >= 80
    assert actions(engine, "mask.approve") == ["denied"]

    # A second administrator approves: the mask is gone from every frame.
    page = bo.client.get("/masks/requests").get_data(as_text=True)
    assert f'id="request-{request_id}"' in page
    done = bo.post(f"/masks/requests/{request_id}/approve")
    assert done.status_code == 303
    assert [n for n, _k, _p in in_force(engine, cam)] == ["Lanes"]
    assert masked_columns(engine) == 0
    assert pending(engine) == []
    row = region_repo.get_request(engine, request_id)
    assert (row["status"], row["decided_by"]) == ("approved", "bo.admin")
    assert actions(engine, "mask.approve") == ["denied", "allowed"]
    # A decided request cannot be decided again.
    again = bo.post(f"/masks/requests/{request_id}/approve")
    assert "is approved already" in again.get_data(as_text=True)

    # History: every version, who changed it and on whose approval.
    history = region_repo.versions(engine, cam)
    assert [(v["version"], v["change"], v["changed_by"], v["approved_by"], v["request_id"])
            for v in history] == [(2, "approval", "ada.admin", "bo.admin", request_id),
                                  (1, "edit", "ada.admin", None, None)]
    assert [g["name"] for g in history[1]["regions"]] == ["Porch", "Lanes"]
    assert [g["name"] for g in history[0]["regions"]] == ["Lanes"]
    # The removed mask's row is kept (marked removed), not deleted.
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT removed_at FROM camera_regions WHERE id = :i"),
                            {"i": porch["id"]}).scalar()
    assert kept is not None


def test_shrink_and_retype_are_held_growth_applies_at_once(
        app: Flask, engine: Engine, cam: int, admins: tuple[Auth, Auth]) -> None:
    ada, bo = admins
    porch = first_mask(ada, cam)
    zone_id = region_repo.list_regions(engine, cam)[1]["id"]
    zone = {**ZONE, "id": zone_id}
    grown = [[0.0, 0.0], [0.55, 0.0], [0.55, 1.0], [0.0, 1.0]]
    saved = save(ada, cam, [{**porch, "polygon": grown}, zone])
    assert saved.json["request_id"] is None
    assert in_force(engine, cam)[0] == ("Porch", "privacy_mask", grown)
    assert masked_columns(engine) >= 88

    shrunk = [[0.0, 0.0], [0.3, 0.0], [0.3, 1.0], [0.0, 1.0]]
    held = save(ada, cam, [{**porch, "polygon": shrunk}, zone])
    assert [c["change"] for c in held.json["held"]] == ["shrink"]
    assert in_force(engine, cam)[0] == ("Porch", "privacy_mask", grown)

    retyped = save(ada, cam, [{**porch, "polygon": grown, "kind": "recognition_zone"}, zone])
    assert [c["change"] for c in retyped.json["held"]] == ["retype"]
    assert in_force(engine, cam)[0] == ("Porch", "privacy_mask", grown)
    assert masked_columns(engine) >= 88
    assert len(pending(engine)) == 2

    # Bo approves the retype: the mask becomes a zone. The shrink, asked against the
    # mask as it was, can no longer be approved; Bo refuses it.
    shrink_id, retype_id = held.json["request_id"], retyped.json["request_id"]
    assert bo.post(f"/masks/requests/{retype_id}/approve").status_code == 303
    assert in_force(engine, cam)[0] == ("Porch", "recognition_zone", grown)
    assert masked_columns(engine) == 0
    stale = bo.post(f"/masks/requests/{shrink_id}/approve").get_data(as_text=True)
    assert "changed since the request was made" in stale
    assert region_repo.get_request(engine, shrink_id)["status"] == "pending"
    assert bo.post(f"/masks/requests/{shrink_id}/refuse", {"note": "stale"}).status_code == 303
    assert region_repo.get_request(engine, shrink_id)["status"] == "refused"
    assert in_force(engine, cam)[0] == ("Porch", "recognition_zone", grown)


def test_a_split_that_still_covers_applies_at_once(app: Flask, engine: Engine, cam: int,
                                                   admins: tuple[Auth, Auth]) -> None:
    ada, _bo = admins
    first_mask(ada, cam)
    zone_id = region_repo.list_regions(engine, cam)[1]["id"]
    top = {"kind": "privacy_mask", "name": "Porch top",
           "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]}
    bottom = {"kind": "privacy_mask", "name": "Porch bottom",
              "polygon": [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]}
    saved = save(ada, cam, [top, bottom, {**ZONE, "id": zone_id}])
    assert saved.json["request_id"] is None
    assert [n for n, _k, _p in in_force(engine, cam)] == ["Lanes", "Porch top", "Porch bottom"]


def test_court_order_carries_out_a_request_and_lift_records_survive(
        app: Flask, engine: Engine, cam: int, admins: tuple[Auth, Auth]) -> None:
    ada, _bo = admins
    porch = first_mask(ada, cam)
    zone_id = region_repo.list_regions(engine, cam)[1]["id"]
    lift_id = court_orders.lift_mask(
        engine, region_id=porch["id"], court_order="CR-1", court="Imperial County Superior",
        expires_at=datetime.now(UTC) + timedelta(days=1), actor="ada.admin",
        notify=ignore_change)
    held = save(ada, cam, [{**ZONE, "id": zone_id}])
    request_id = held.json["request_id"]
    assert request_id is not None
    missing = ada.post(f"/masks/requests/{request_id}/court-order", {"court_order": ""})
    assert "Court order: is required" in missing.get_data(as_text=True)
    assert region_repo.get_request(engine, request_id)["status"] == "pending"

    done = ada.post(f"/masks/requests/{request_id}/court-order",
                    {"court_order": "CR-2026-0042", "court": "Imperial County Superior"})
    assert done.status_code == 303
    assert [n for n, _k, _p in in_force(engine, cam)] == ["Lanes"]
    row = region_repo.get_request(engine, request_id)
    assert (row["status"], row["court_order"]) == ("court_order", "CR-2026-0042")
    [latest, *_] = region_repo.versions(engine, cam)
    assert (latest["change"], latest["court_order"], latest["approved_by"]) == (
        "court_order", "CR-2026-0042", None)
    entry = audit_repo.search(engine, action="mask.court_order")[0]
    assert entry["case_number"] == "CR-2026-0042"
    # The earlier lift of the removed mask stays on file, with its mask's name.
    lifts = region_repo.suspensions(engine)
    assert [(s["id"], s["mask"], s["court_order"]) for s in lifts] == [
        (lift_id, "Porch", "CR-1")]
    page = ada.client.get("/compliance/court-orders").get_data(as_text=True)
    assert "CR-1" in page


def test_withdraw_and_refuse_belong_to_the_right_person(
        app: Flask, engine: Engine, cam: int, admins: tuple[Auth, Auth]) -> None:
    ada, bo = admins
    first_mask(ada, cam)
    zone_id = region_repo.list_regions(engine, cam)[1]["id"]
    request_id = save(ada, cam, [{**ZONE, "id": zone_id}]).json["request_id"]
    assert "withdraw your own request" in ada.post(
        f"/masks/requests/{request_id}/refuse").get_data(as_text=True)
    assert "only the requester withdraws" in bo.post(
        f"/masks/requests/{request_id}/withdraw").get_data(as_text=True)
    assert ada.post(f"/masks/requests/{request_id}/withdraw").status_code == 303
    assert region_repo.get_request(engine, request_id)["status"] == "withdrawn"
    assert in_force(engine, cam)[0][0] == "Porch" and masked_columns(engine) >= 80
    assert actions(engine, "mask.withdraw") == ["denied", "allowed"]


def test_vendor_neither_edits_nor_approves(app: Flask, engine: Engine, cam: int,
                                           admins: tuple[Auth, Auth]) -> None:
    ada, _bo = admins
    first_mask(ada, cam)
    zone_id = region_repo.list_regions(engine, cam)[1]["id"]
    request_id = save(ada, cam, [{**ZONE, "id": zone_id}]).json["request_id"]
    vendor = signed_in(app, engine, "val.vendor", "vendor")
    assert save(vendor, cam, []).status_code == 403
    assert vendor.post(f"/masks/requests/{request_id}/approve").status_code == 403
    assert region_repo.get_request(engine, request_id)["status"] == "pending"
    assert in_force(engine, cam)[0][0] == "Porch"
