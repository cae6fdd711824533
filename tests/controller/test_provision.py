"""Bulk provisioning: the shipped example imports; a bad file changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from controller.errors import ValidationError
from controller.operations.provision import provision
from controller.store import audit as audit_repo
from controller.store import sites

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example-sites.yaml"


def test_example_file_imports_sites_cameras_and_cabinet(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGHTLINE_CAM_HWY99_N_1", "Cam-Pass-1")
    counts = provision(engine, EXAMPLE.read_text(), "example-sites.yaml", secret_key="k",
                       actor="ops.lee")
    assert counts == {"sites": 2, "cameras": 2}
    cams = {c["name"]: c for c in sites.list_cameras(engine)}
    assert cams["NB lane 1"]["site_code"] == "HWY99-N" and cams["NB lane 1"]["secret"]
    assert cams["EB"]["secret"] is None
    cabinet = sites.list_sites(engine, ("HWY99-N",))[0]["cabinet"]
    assert cabinet["points"]["inputs"]["door"]["address"] == 0
    assert audit_repo.search(engine, action="provision.import")[0]["data"]["cameras"] == 2


@pytest.mark.parametrize(("text", "where"), [
    ("sites:\n  - code: A\n    name: a\n    cameras:\n      - name: c\n        stream_uri: http://x\n",
     "sites[0].cameras[0].stream_uri"),
    ("sites:\n  - code: A\n    name: a\n    colour: red\n", "sites[0].colour"),
    ("sites:\n  - code: A\n    name: a\n    latitude: 123\n", "sites[0].latitude"),
    ("sites:\n  - code: A\n    name: a\n    cameras:\n      - name: c\n"
     "        stream_uri: rtsp://x/y\n        password_env: SIGHTLINE_UNSET_VAR_X\n",
     "sites[0].cameras[0].password_env"),
    ("sites: [\n", "line 2"),
    ("sites: []\n", "sites"),
])
def test_bad_file_names_the_place_and_stores_nothing(engine: Engine, text: str,
                                                     where: str) -> None:
    sites.create_site(engine, code="KEEP", name="already here")
    with pytest.raises(ValidationError) as info:
        provision(engine, text, "bad.yaml", secret_key="k", actor="t")
    assert str(info.value).startswith(f"bad.yaml: {where}"), str(info.value)
    assert [s["code"] for s in sites.list_sites(engine)] == ["KEEP"]


def test_existing_site_is_refused_whole(engine: Engine) -> None:
    sites.create_site(engine, code="MAIN-5TH", name="x")
    with pytest.raises(ValidationError, match=r"sites\[1\]\.code"):
        provision(engine, EXAMPLE.read_text().replace("password_env: SIGHTLINE_CAM_HWY99_N_1",
                                                      ""), "f", secret_key="k", actor="t")
    assert [s["code"] for s in sites.list_sites(engine)] == ["MAIN-5TH"]
