"""Local time everywhere (issue 16, point 5): times shown and typed in the agency's zone,
with the zone named; what is stored and handed to the use cases stays UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests_web_helpers import Auth

from controller.accounts import Caller
from controller.compliance import agency
from controller.errors import ValidationError
from controller.validation import day_window, parse_time
from web.agency import form_time, local, local_input

LA = "America/Los_Angeles"


def _set_zone(app: Flask, zone: str) -> None:
    admin = Caller("ann.admin", "administrator", 1, gate_ok=True)
    agency.update_profile(app.extensions["sightline"]["engine"],
                          app.config["SIGHTLINE_SETTINGS"], admin, name="Harrow PD", zone=zone)


def test_times_are_shown_in_the_agency_zone_with_the_zone_named(app: Flask) -> None:
    winter, summer = datetime(2026, 11, 29, 15, 45, tzinfo=UTC), \
        datetime(2026, 7, 1, 15, 45, tzinfo=UTC)
    with app.test_request_context():
        assert local(winter) == "2026-11-29 15:45:00 UTC"  # the settings file's default zone
    _set_zone(app, LA)
    with app.test_request_context():
        assert local(winter) == "2026-11-29 07:45:00 PST"
        assert local(summer) == "2026-07-01 08:45:00 PDT"
        assert local(winter, "%H:%M") == "07:45 PST"  # never a time without its zone
        assert local(datetime(2026, 11, 29, 3, 0, tzinfo=UTC), "%Y-%m-%d") == "2026-11-28"
        assert local(None) == "" and local(date(2026, 1, 5)) == "2026-01-05"
        assert local_input(winter) == "2026-11-29T07:45"


def test_a_typed_time_is_local_and_reaches_the_use_case_in_utc(app: Flask) -> None:
    _set_zone(app, LA)
    with app.test_request_context(method="POST", data={"since": "2026-11-29T07:45",
                                                       "until": "", "bad": "29/11/2026"}):
        assert form_time("since") == "2026-11-29T15:45:00+00:00"
        assert form_time("until") == ""
        assert form_time("bad") == "29/11/2026"  # the use case names the field
        with pytest.raises(ValidationError, match=r"^bad: enter a date and time"):
            parse_time("bad", form_time("bad"))


def test_local_days_cover_the_zone_days_including_a_clock_change() -> None:
    zone = agency.Agency("x", LA).zone
    start, end = day_window(date(2026, 11, 1), date(2026, 11, 1), zone)  # DST ends: 25 h
    assert start == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert day_window(date(2026, 11, 1), None) == (datetime(2026, 11, 1, tzinfo=UTC), None)
    assert parse_time("t", "2026-03-08T12:00", zone) == datetime(2026, 3, 8, 19, 0, tzinfo=UTC)
    assert parse_time("t", "2026-03-08T12:00") == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_pages_name_the_zone(app: Flask, auth: Auth, client: FlaskClient) -> None:
    auth.make_user("ann.admin", "administrator")
    auth.login("ann.admin")
    assert auth.post("/setup/agency", {"name": "Harrow PD",
                                       "time_zone": LA}).status_code == 303
    page = client.get("/setup").get_data(as_text=True)
    # The profile step shows when it was saved, in Pacific time with the zone named.
    shown = re.search(r'id="step-agency".*?<span class="mono">([^<]+)</span>', page, re.S)
    assert shown and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d P[SD]T", shown.group(1))
    assert "UTC" not in shown.group(1)
