"""Migration 0007 keeps what was stored: masks become version 1 of each camera's history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from controller.bridge import ignore_change
from controller.compliance import court_orders
from controller.errors import ValidationError
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

PORCH = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]


@pytest.fixture
def at_0005(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url, pool_size=2)
    upgrade(eng, "0005")
    yield eng
    eng.dispose()


def test_upgrade_records_a_baseline_and_keeps_lifts(at_0005: Engine) -> None:
    engine = at_0005
    now = datetime.now(UTC)
    site = site_repo.create_site(engine, code="main-st", name="Main St")
    cam = site_repo.create_camera(engine, site, {"name": "NB", "host": "127.0.0.1"})
    with engine.begin() as conn:
        region_id = conn.execute(text(
            "INSERT INTO camera_regions (camera_id, kind, name, polygon, created_at, updated_at)"
            " VALUES (:c, 'privacy_mask', 'Porch', :p, :t, :t) RETURNING id"),
            {"c": cam, "p": '[[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]',
             "t": now.replace(tzinfo=None)}).scalar_one()
    upgrade(engine)
    [baseline] = region_repo.versions(engine, cam)
    assert (baseline["version"], baseline["change"], baseline["changed_by"]) == (
        1, "baseline", "migration 0007")
    assert baseline["regions"] == [{"id": region_id, "kind": "privacy_mask", "name": "Porch",
                                    "polygon": PORCH}]
    # A lift recorded against the mask survives the mask's removal (no cascade).
    court_orders.lift_mask(engine, region_id=region_id, court_order="CR-1", court="Superior",
                           expires_at=now + timedelta(days=1), actor="ada.admin",
                           notify=ignore_change)
    region_repo.replace_regions(engine, cam, [], changed_by="ada.admin")
    assert region_repo.list_regions(engine, cam) == []
    assert [s["court_order"] for s in region_repo.suspensions(engine)] == ["CR-1"]
    assert [v["version"] for v in region_repo.versions(engine, cam)] == [2, 1]
    # A mask no longer in force cannot be lifted (there is nothing to lift).
    with pytest.raises(ValidationError, match="region: no privacy mask"):
        court_orders.lift_mask(engine, region_id=region_id, court_order="CR-2", court="Superior",
                               expires_at=now + timedelta(days=1), actor="ada.admin",
                               notify=ignore_change)
