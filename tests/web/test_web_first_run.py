"""The first-run page and the agency profile (issue 16, point 1): each go-live step's
state, done from the page through the use cases that own it, in the policy's order."""

from __future__ import annotations

import io
import re

import cv2
import numpy as np
from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth, actions
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from controller.compliance import program

POLICY_MD = b"# Policy 462\n\nAutomated License Plate Readers.\n"


def _png(width: int = 60, height: int = 30) -> bytes:
    ok, buf = cv2.imencode(".png", np.full((height, width, 3), 200, np.uint8))
    assert ok
    return buf.tobytes()


def _state(page: str, key: str) -> str:
    match = re.search(rf'id="step-{key}" data-state="(\w+)"', page)
    assert match, f"no step {key}"
    return match.group(1)


def test_steps_start_to_do_and_activation_before_policy_is_refused(
        auth: Auth, client: FlaskClient, engine: Engine) -> None:
    auth.make_user("ann.admin", "administrator")
    auth.login("ann.admin")
    page = client.get("/setup").get_data(as_text=True)
    assert _state(page, "training") == "done"  # make_user recorded it, like bootstrap
    for key in ("policy", "acknowledge", "program", "agency", "site", "camera"):
        assert _state(page, key) == "todo", key
    assert 'id="setup-pending"' in client.get("/").get_data(as_text=True)
    refused = auth.post("/setup/program", {"hearing_on": "2026-01-05",
                                           "adopted_on": "2026-02-01",
                                           "resolution": "2026-14"})
    assert refused.status_code == 400
    assert "publish the usage and privacy policy first" in refused.get_data(as_text=True)
    assert not program.status(engine).active
    assert actions(engine, "program.activate") == ["denied"]


def test_publish_acknowledge_activate_and_profile_from_the_page(
        auth: Auth, client: FlaskClient, engine: Engine) -> None:
    auth.make_user("ann.admin", "administrator")
    auth.login("ann.admin")
    published = auth.post("/setup/policy", {
        "version": "462-2026", "title": "ALPR policy", "adopted_on": "2026-02-01",
        "file": (io.BytesIO(POLICY_MD), "policy.md")}, content_type="multipart/form-data")
    assert published.status_code == 303 and published.location.endswith("/policy")
    # The gate now asks the administrator to acknowledge it before anything else.
    assert client.get("/setup").status_code == 403
    policy_page = client.get("/policy").get_data(as_text=True)
    policy_id = re.search(r'name="policy_id" value="(\d+)"', policy_page)
    assert policy_id
    auth.post("/policy", {"policy_id": policy_id.group(1)})
    activated = auth.post("/setup/program", {"hearing_on": "2026-01-05",
                                             "adopted_on": "2026-02-01",
                                             "resolution": "2026-14"})
    assert activated.status_code == 303
    assert program.status(engine).active
    saved = auth.post("/setup/agency", {"name": "Harrow County  Sheriff",
                                        "time_zone": "America/Los_Angeles"})
    assert saved.status_code == 303
    page = client.get("/setup").get_data(as_text=True)
    for key in ("training", "policy", "acknowledge", "program", "agency"):
        assert _state(page, key) == "done", key
    assert "ann.admin" in page and "Harrow County Sheriff" in page
    assert actions(engine, "agency.update") == ["allowed"]
    assert 'id="brand-agency">Harrow County Sheriff<' in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": auth.csrf()})
    assert "Harrow County Sheriff Automated" in client.get("/login").get_data(as_text=True)


def test_bad_time_zone_and_name_are_named_and_nothing_changes(
        auth: Auth, client: FlaskClient) -> None:
    auth.make_user("ann.admin", "administrator")
    auth.login("ann.admin")
    bad = auth.post("/setup/agency", {"name": "Harrow PD", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert "Time zone: &#39;Mars/Olympus&#39; is not an IANA time zone" in \
        bad.get_data(as_text=True)
    bad = auth.post("/setup/agency", {"name": "Harrow PD", "time_zone": "../../etc/passwd"})
    assert bad.status_code == 400 and "Time zone:" in bad.get_data(as_text=True)
    bad = auth.post("/setup/agency", {"name": "  ", "time_zone": "UTC"})
    assert bad.status_code == 400 and "Name: enter the agency" in bad.get_data(as_text=True)
    page = client.get("/setup").get_data(as_text=True)
    assert _state(page, "agency") == "todo"


def test_logo_png_or_jpeg_only_served_with_its_type(
        auth: Auth, client: FlaskClient, engine: Engine) -> None:
    auth.make_user("ann.admin", "administrator")
    auth.login("ann.admin")
    assert client.get("/agency/logo").status_code == 404
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, why in ((svg, "not a PNG or JPEG"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
                                                   "could not be read"),
                      (_png() + b"\0" * (512 * 1024), "larger than 512 KiB"),
                      (_png(3000, 10), "at most 2048 pixels")):
        # Encoded here: over 500 kB the test client would spool the body to a file it
        # never closes.
        body, _length, boundary = stream_encode_multipart(
            {"csrf_token": auth.csrf(), "logo": FileStorage(io.BytesIO(data), "logo.png")},
            use_tempfile=False)
        refused = client.post("/setup/logo", data=body.read(),
                              content_type=f"multipart/form-data; boundary={boundary}")
        assert refused.status_code == 400, why
        assert "Logo: " in refused.get_data(as_text=True) and why in \
            refused.get_data(as_text=True)
    png = _png()
    assert auth.post("/setup/logo", {"logo": (io.BytesIO(png), "logo.png")},
                     content_type="multipart/form-data").status_code == 303
    client.post("/logout", data={"csrf_token": auth.csrf()})
    served = client.get("/agency/logo")  # the sign-in page shows it: no login needed
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == png
    assert 'src="/agency/logo' in client.get("/login").get_data(as_text=True)
    assert actions(engine, "agency.logo") == ["allowed"]


def test_only_the_administrator_edits_the_profile(auth: Auth, client: FlaskClient,
                                                  engine: Engine) -> None:
    auth.make_user("vic.vendor", "vendor")
    auth.login("vic.vendor")
    assert auth.post("/setup/agency", {"name": "Vendor PD",
                                       "time_zone": "UTC"}).status_code == 403
    assert client.get("/setup").status_code == 403
    assert "Vendor PD" not in client.get("/login").get_data(as_text=True)
