"""Court orders (462.7.1(1)): a mask lifted by the administrator, restored at its expiry."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from controller.bridge import Bridge, ignore_change
from controller.compliance import court_orders
from controller.errors import ValidationError
from controller.jobs import runner
from controller.jobs import schedule as _registers_the_jobs  # noqa: F401
from controller.metrics import Metrics
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import regions as region_repo
from controller.store.regions import masks_from_rows


def lifted(engine: Engine, world: dict[str, Any]) -> Any:
    rows = region_repo.with_lifts(engine, [world["camera"]])
    return {m.mask_id: m.suspension for m in masks_from_rows("cam", rows).masks}


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A controller loop running in its own thread, as in ``sightline run``."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="controller-loop")
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


@pytest.fixture
def app(settings: Settings, engine: Engine, loop: asyncio.AbstractEventLoop) -> Flask:
    """The web application with a bridge into a running loop (the web fixture's never runs)."""
    from web import create_app

    async def make() -> Bridge:
        return Bridge(asyncio.get_running_loop())  # built on the loop thread, like the app

    bridge = asyncio.run_coroutine_threadsafe(make(), loop).result(10)
    application = create_app(settings, bridge, engine=engine, metrics=Metrics(),
                             secret_key="test-secret")
    application.config["TESTING"] = True
    return application


class Notices(list[tuple[str, int]]):
    """Change notices the controller loop received, with the thread each ran on."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop

    def receive(self, what: str) -> None:
        self.append((what, threading.get_ident()))

    def delivered(self) -> list[str]:
        """The notices, once everything sent so far has run (the loop runs in order)."""
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.loop).result(10)
        loop_thread = asyncio.run_coroutine_threadsafe(_thread_id(), self.loop).result(10)
        assert all(thread == loop_thread for _what, thread in self), "delivered off the loop"
        return [what for what, _thread in self]


async def _thread_id() -> int:
    return threading.get_ident()


@pytest.fixture
def notified(app: Flask, loop: asyncio.AbstractEventLoop) -> Notices:
    seen = Notices(loop)
    app.extensions["sightline"]["bridge"].changes.subscribe(seen.receive)
    return seen


def test_web_lift_applies_at_once_and_restores_at_expiry(
        auth: Any, engine: Engine, world: dict[str, Any], notified: list[str]) -> None:
    auth.make_user("chief", "administrator")
    auth.login("chief")
    expiry = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    response = auth.post("/compliance/court-orders", {
        "region_id": str(world["mask"]), "court_order": "CR-2026-0417",
        "court": "Superior Court of Imperial County",
        "expires_at": expiry.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 303
    # Sent from the request's thread, run on the controller loop.
    assert notified.delivered() == ["cameras"]
    suspension = lifted(engine, world)[str(world["mask"])]
    assert suspension is not None and suspension.order_number == "CR-2026-0417"
    assert suspension.expires_at == expiry
    page = auth.client.get("/compliance/court-orders").get_data(as_text=True)
    assert "CR-2026-0417" in page and "in force" in page
    lift = audit_repo.search(engine, action="mask.lift")[0]
    assert lift["actor"] == "chief" and lift["data"]["court"].startswith("Superior")
    # One minute before the expiry nothing is restored; one minute after, it is.
    bridge = auth.app.extensions["sightline"]["bridge"]
    assert court_orders.restore_due(engine, now=expiry - timedelta(minutes=1),
                                    notify=bridge.notify) == []
    assert lifted(engine, world)[str(world["mask"])] is not None
    restored = court_orders.restore_due(engine, now=expiry + timedelta(minutes=1),
                                        notify=bridge.notify)
    assert [r["court_order"] for r in restored] == ["CR-2026-0417"]
    assert lifted(engine, world)[str(world["mask"])] is None
    assert notified.delivered() == ["cameras", "cameras"]
    assert court_orders.restore_due(engine, now=expiry + timedelta(minutes=2),
                                    notify=bridge.notify) == []
    restore = audit_repo.search(engine, action="mask.restore")
    assert len(restore) == 1 and restore[0]["data"]["court_order"] == "CR-2026-0417"


def test_refusals_name_the_field_and_store_nothing(auth: Any, engine: Engine,
                                                  world: dict[str, Any]) -> None:
    auth.make_user("chief", "administrator")
    auth.make_user("ann.lee", "officer")
    auth.login("chief")
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    cases = [({"region_id": str(world["mask"]), "court_order": "X1", "court": "C",
               "expires_at": past}, "expires_at"),
             ({"region_id": str(world["zone"]), "court_order": "X1", "court": "C",
               "expires_at": future}, "recognition zone"),
             ({"region_id": str(world["mask"]), "court_order": " ", "court": "C",
               "expires_at": future}, "court_order"),
             ({"region_id": "abc", "court_order": "X1", "court": "C",
               "expires_at": future}, "region_id")]
    for form, message in cases:
        response = auth.post("/compliance/court-orders", form)
        assert response.status_code == 400, form
        assert message in response.get_data(as_text=True)
    assert court_orders.active_lifts(engine) == []
    auth.logout()
    auth.login("ann.lee")
    refused = auth.post("/compliance/court-orders", cases[0][0])
    assert refused.status_code == 403 and court_orders.active_lifts(engine) == []


async def test_restore_job_marks_an_expired_order(engine: Engine, settings: Settings,
                                                 world: dict[str, Any]) -> None:
    lifted_at = datetime.now(UTC) - timedelta(hours=3)
    court_orders.lift_mask(engine, region_id=world["mask"], court_order="CR-1", court="C",
                           expires_at=lifted_at + timedelta(hours=1), actor="chief",
                           notify=ignore_change, now=lifted_at)
    with pytest.raises(ValidationError, match="already lifted"):
        court_orders.lift_mask(engine, region_id=world["mask"], court_order="CR-2", court="C",
                               expires_at=datetime.now(UTC) + timedelta(hours=1),
                               actor="chief", notify=ignore_change)
    seen: list[str] = []
    runner.set_context(runner.JobContext(engine, settings, seen.append))
    try:
        await runner.run_job("mask_restore", "masks:restore")
    finally:
        runner.set_context(None)
    assert court_orders.active_lifts(engine) == [] and seen == ["cameras"]
    assert [r["actor"] for r in audit_repo.search(engine, action="mask.restore")] == \
        ["system:scheduler"]
