"""The web application's health and metrics endpoints and security headers."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from controller.bridge import Bridge
from controller.metrics import Metrics
from controller.settings import Settings
from web import create_app


def test_health_reports_stopped_controller(settings: Settings, engine: Engine) -> None:
    loop = asyncio.new_event_loop()
    try:
        app = create_app(settings, Bridge(loop), engine=engine, metrics=Metrics())
        response = app.test_client().get("/healthz")
    finally:
        loop.close()
    assert response.status_code == 503
    assert response.json == {
        "status": "degraded", "database": {"reachable": True},
        "controller": {"running": False, "node": settings.node.name},
    }
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_health_reports_unreachable_database(settings: Settings, tmp_path: object) -> None:
    from controller.store.engine import make_engine

    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    loop = asyncio.new_event_loop()
    try:
        app = create_app(settings, Bridge(loop), engine=dead, metrics=Metrics())
        client = app.test_client()
        body = client.get("/healthz").json
        metrics = client.get("/metrics").get_data(as_text=True)
    finally:
        loop.close()
        dead.dispose()
    assert body is not None and body["database"]["reachable"] is False
    assert "sightline_database_up 0.0" in metrics
