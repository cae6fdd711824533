"""The web application's health and metrics endpoints and security headers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from controller.alerts import feeds
from controller.bridge import Bridge
from controller.errors import FeedError
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
    body = dict(response.json or {})
    if engine.dialect.name == "postgresql":
        # The monthly read partitions (migration 0019): this month and three ahead, made
        # when the test database was migrated, and no read waiting in the default one.
        now = datetime.now(UTC)
        year, month = divmod(now.year * 12 + now.month - 1 + 3, 12)
        assert body.pop("read_partitions") == {
            "months": 4, "last_month": f"{year}-{month + 1:02d}", "in_plate_order": 0,
            "default_rows": 0, "default_rows_capped": False}
    assert body == {
        "status": "degraded", "database": {"reachable": True},
        "controller": {"running": False, "node": settings.node.name},
        "node": {"name": settings.node.name, "cameras": [], "leases": []},
        "camera_leases": [],
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


def test_a_failed_or_stale_feed_is_a_health_warning_and_a_metric(
        settings: Settings, engine: Engine, tmp_path: Path) -> None:
    feed_file = tmp_path / "svs.txt"
    raw = settings.model_dump(mode="json")
    raw["hotlists"]["feeds"] = [
        {"name": name, "source": {"kind": "file", "path": str(feed_file)},
         "format": {"kind": "ncic-delimited", "fields": ["LIC", "LIS"]}}
        for name in ("CA-SVS", "CA-SLP", "CA-NEW")]
    configured = Settings.model_validate(raw)
    svs, slp, _new = configured.hotlists.feeds
    feed_file.write_text("7ABC123|CA\n5DEF678|CA\n")
    feeds.apply_feed(engine, svs, feed_file.read_bytes(), actor="t")
    feeds.apply_feed(engine, slp, feed_file.read_bytes(), actor="t",
                     now=datetime.now(UTC) - timedelta(days=2))
    feeds.record_failure(engine, svs, FeedError("tls", "certificate verify failed"), actor="t")
    loop = asyncio.new_event_loop()
    try:
        client = create_app(configured, Bridge(loop), engine=engine,
                            metrics=Metrics()).test_client()
        body = client.get("/healthz").json
        metrics = client.get("/metrics").get_data(as_text=True)
    finally:
        loop.close()
    assert body is not None and body["feeds"] == [
        {"name": "CA-SVS", "state": "failed"}, {"name": "CA-SLP", "state": "stale"},
        {"name": "CA-NEW", "state": "never"}]
    assert [w.split(":")[0] for w in body["warnings"]] == [
        "feed CA-SVS", "feed CA-SLP", "feed CA-NEW"]
    # The error text itself is for those who may see feed status, not the public page.
    assert "certificate" not in str(body)
    assert 'sightline_feed_ok{feed="CA-SVS"} 0.0' in metrics
    assert 'sightline_feed_ok{feed="CA-SLP"} 1.0' in metrics
    assert 'sightline_feed_stale{feed="CA-SLP"} 1.0' in metrics
    assert 'sightline_feed_stale{feed="CA-SVS"} 0.0' in metrics
    assert 'sightline_feed_entries{feed="CA-SVS"} 2.0' in metrics
    assert 'sightline_feed_age_seconds{feed="CA-NEW"} -1.0' in metrics
