"""Mask change requests decided from the command line (462.7.1(1), 462.3.1, 462.5.1).

``sightline mask requests|approve|refuse|withdraw|court-order`` run as the
Sightline user signed in with ``sightline login`` and call the same use cases as
the web's ``/masks/requests`` page: a removal takes effect only when a second
administrator (not the requester) approves it or a court order is recorded, and
each step is audited under the signed-in user's name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import sightline, signed_in
from sqlalchemy import Engine

from controller.accounts import Caller
from controller.bridge import ignore_change
from controller.cli import EXIT_REFUSED
from controller.operations import masks
from controller.sealing import bind_instance_secret, instance_secret
from controller.store import audit as audit_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

pytestmark = pytest.mark.usefixtures("cheap_argon2")

PORCH = {"kind": "privacy_mask", "name": "Porch",
         "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}
ZONE = {"kind": "recognition_zone", "name": "Lanes",
        "polygon": [[0.6, 0.5], [0.9, 0.5], [0.9, 0.95], [0.6, 0.95]]}
ADA = Caller(username="ada.admin", role="administrator", user_id=1, client_addr="192.0.2.5",
             gate_ok=True)


@pytest.fixture
def store(cli_env: dict[str, str]) -> Iterator[Engine]:
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    bind_instance_secret(engine, instance_secret(Path(cli_env["SIGHTLINE_DATA_DIR"])))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def cam(store: Engine) -> int:
    site = site_repo.create_site(store, code="main-st", name="Main St")
    camera = site_repo.create_camera(store, site, {
        "name": "NB lane 1", "host": "127.0.0.1", "stream_uri": "rtsp://127.0.0.1:8554/x"})
    masks.save_regions(store, ADA, camera, {"regions": [PORCH, ZONE]}, notify=ignore_change)
    return camera


@pytest.fixture
def envs(cli_env: dict[str, str]) -> dict[str, dict[str, str]]:
    """Ada (who asks for the changes) and Bo, two administrators signed in on the CLI."""
    return {name: signed_in(cli_env, f"{name}.admin") for name in ("ada", "bo")}


def request_removal(store: Engine, cam: int, reason: str = "camera moved") -> int:
    """Ada removes the porch mask in the editor: held as a request, the mask stays."""
    zone = next(r for r in region_repo.list_regions(store, cam) if r["kind"] != "privacy_mask")
    saved = masks.save_regions(store, ADA, cam, {"regions": [{**ZONE, "id": zone["id"]}],
                                                 "reason": reason}, notify=ignore_change)
    assert saved["request_id"] is not None
    return saved["request_id"]


def masks_in_force(store: Engine, cam: int) -> list[str]:
    return [r["name"] for r in region_repo.list_regions(store, cam)
            if r["kind"] == "privacy_mask"]


def audited(store: Engine, action: str) -> list[tuple[str, str, bool]]:
    return [(r["actor"], r["outcome"], (r["client_addr"] or "").startswith("cli:"))
            for r in reversed(audit_repo.search(store, action=action))]


def status(store: Engine, request_id: int) -> dict[str, Any]:
    return dict(region_repo.get_request(store, request_id))


def test_second_administrator_approves_on_the_command_line(
        store: Engine, cam: int, envs: dict[str, dict[str, str]]) -> None:
    request_id = request_removal(store, cam)
    assert masks_in_force(store, cam) == ["Porch"]

    listed = sightline(envs["bo"], "mask", "requests", "--json")
    assert listed.exit_code == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["requested_by"], row["reason"]) == (request_id, "ada.admin",
                                                               "camera moved")
    assert [c["change"] for c in row["changes"]] == ["remove"]
    text = sightline(envs["bo"], "mask", "requests")
    assert text.exit_code == 0 and f"{request_id}\tNB lane 1\tby ada.admin" in text.stdout

    # The requester cannot approve their own removal: refused, audited, the mask stays.
    own = sightline(envs["ada"], "mask", "approve", str(request_id))
    assert own.exit_code == 1 and "a second administrator, not the requester" in own.stderr
    assert masks_in_force(store, cam) == ["Porch"]
    assert status(store, request_id)["status"] == "pending"

    approved = sightline(envs["bo"], "mask", "approve", str(request_id), "--note", "checked")
    assert approved.exit_code == 0, approved.stderr
    assert "approved and in force" in approved.stdout
    assert masks_in_force(store, cam) == []
    done = status(store, request_id)
    assert (done["status"], done["decided_by"], done["decision_note"]) == (
        "approved", "bo.admin", "checked")
    assert audited(store, "mask.approve") == [("ada.admin", "denied", True),
                                              ("bo.admin", "allowed", True)]
    # Nothing waits any more; a decided request is not decided twice.
    assert json.loads(sightline(envs["bo"], "mask", "requests", "--json").stdout) == []
    again = sightline(envs["bo"], "mask", "approve", str(request_id))
    assert again.exit_code == 1 and "approved already" in again.stderr


def test_refuse_and_withdraw_rules(store: Engine, cam: int,
                                   envs: dict[str, dict[str, str]]) -> None:
    first = request_removal(store, cam)
    # The requester withdraws, never refuses; another administrator refuses, never withdraws.
    own = sightline(envs["ada"], "mask", "refuse", str(first), "--reason", "no")
    assert own.exit_code == 1 and "withdraw your own request instead" in own.stderr
    other = sightline(envs["bo"], "mask", "withdraw", str(first))
    assert other.exit_code == 1 and "only the requester withdraws" in other.stderr
    missing = sightline(envs["bo"], "mask", "refuse", str(first))
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    assert status(store, first)["status"] == "pending"

    refused = sightline(envs["bo"], "mask", "refuse", str(first), "--reason",
                        "the porch is still a home")
    assert refused.exit_code == 0, refused.stderr
    row = status(store, first)
    assert (row["status"], row["decided_by"], row["decision_note"]) == (
        "refused", "bo.admin", "the porch is still a home")
    assert masks_in_force(store, cam) == ["Porch"]

    second = request_removal(store, cam, "asked again")
    withdrawn = sightline(envs["ada"], "mask", "withdraw", str(second))
    assert withdrawn.exit_code == 0, withdrawn.stderr
    assert (status(store, second)["status"], status(store, second)["decided_by"]) == (
        "withdrawn", "ada.admin")
    late = sightline(envs["bo"], "mask", "approve", str(second))
    assert late.exit_code == 1 and "withdrawn already" in late.stderr
    assert masks_in_force(store, cam) == ["Porch"]
    assert audited(store, "mask.refuse") == [("ada.admin", "denied", True),
                                             ("bo.admin", "allowed", True)]
    assert audited(store, "mask.withdraw") == [("bo.admin", "denied", True),
                                               ("ada.admin", "allowed", True)]


def test_court_order_carries_out_a_request_on_the_command_line(
        store: Engine, cam: int, envs: dict[str, dict[str, str]],
        cli_env: dict[str, str]) -> None:
    request_id = request_removal(store, cam)
    blank = sightline(envs["ada"], "mask", "court-order", str(request_id), "--order", " ",
                      "--court", "Superior Court")
    assert blank.exit_code == 1 and "court_order" in blank.stderr
    assert masks_in_force(store, cam) == ["Porch"]

    # A court order needs no second administrator: the requester may record it.
    ordered = sightline(envs["ada"], "mask", "court-order", str(request_id), "--order",
                        "CR-26-77", "--court", "Imperial County Superior Court")
    assert ordered.exit_code == 0, ordered.stderr
    assert masks_in_force(store, cam) == []
    row = status(store, request_id)
    assert (row["status"], row["court_order"], row["court"], row["decided_by"]) == (
        "court_order", "CR-26-77", "Imperial County Superior Court", "ada.admin")
    [entry] = [r for r in audit_repo.search(store, action="mask.court_order")
               if r["outcome"] == "allowed"]
    assert (entry["actor"], entry["case_number"]) == ("ada.admin", "CR-26-77")

    # Nobody but an administrator decides a mask change (462.3.1; vendors never, 462.4).
    vendor = signed_in(cli_env, "val.vendor", "vendor")
    refused = sightline(vendor, "mask", "requests")
    assert refused.exit_code == EXIT_REFUSED and refused.stderr.startswith("refused:")
