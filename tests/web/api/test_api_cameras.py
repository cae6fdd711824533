"""Sites and cameras over the API (462.4): every role, vendors included, sees health; no
credentials, addresses, stream URIs or images are sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api_helpers import TokenFor, bearer
from flask.testing import FlaskClient
from sqlalchemy import Engine

from controller.store import audit as audit_repo
from controller.store import health as health_repo
from controller.store import sites as site_repo


def test_vendor_lists_sites_and_cameras_with_health(client: FlaskClient, engine: Engine,
                                                    token_for: TokenFor,
                                                    world: dict[str, Any]) -> None:
    other = site_repo.create_site(engine, code="elm-st", name="Elm St", latitude=None,
                                  longitude=None)
    site_repo.create_camera(engine, other, {"name": "SB lane 2", "host": "10.0.0.9",
                                            "username": "admin", "enabled": False})
    health_repo.upsert_health(engine, world["camera"], {
        "state": "streaming", "connected": True, "fps": 14.5, "clock_drift_seconds": 0.4,
        "alarms": [{"code": "door", "message": "cabinet door open", "severity": "warning"}]},
        datetime.now(UTC))
    token = token_for("vendor", name="cam-service")
    sites = client.get("/api/v1/sites", headers=bearer(token))
    assert sites.status_code == 200
    assert [(s["code"], s["cameras"]) for s in sites.get_json()["items"]] == [
        ("elm-st", 1), ("main-st", 1)]
    cameras = client.get("/api/v1/cameras", headers=bearer(token)).get_json()["items"]
    by_name = {c["name"]: c for c in cameras}
    lane = by_name["NB lane 1"]
    assert lane["state"] == "streaming" and lane["health"]["fps"] == 14.5
    assert lane["health"]["alarms"][0]["code"] == "door" and not lane["stale"]
    # The newest read's time (the world's last read, 08:39 UTC on 2 November 2026).
    assert lane["last_read"].startswith("2026-11-02T08:39")
    assert by_name["SB lane 2"]["state"] == "disabled" and by_name["SB lane 2"]["health"] is None
    text = str(cameras)
    assert "10.0.0." not in text and "admin" not in text and "secret" not in text
    one_site = client.get("/api/v1/cameras", query_string={"site": "elm-st"},
                          headers=bearer(token)).get_json()["items"]
    assert [c["name"] for c in one_site] == ["SB lane 2"]
    assert [e["actor"] for e in audit_repo.search(engine, action="api.call")] == [
        "client:cam-service"] * 3
