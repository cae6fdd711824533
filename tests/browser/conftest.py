"""Browser fixtures: the real controller and web server on loopback, Debian's Chromium."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyotp
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from controller import users
from controller.app import Controller
from controller.commands.compose import web_factory
from controller.settings import NodeSettings, Settings
from controller.store import accounts as account_repo
from controller.store import users as user_repo

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "Correct-Horse-Battery-9"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
]


@dataclass
class Site:
    """The running application and helpers to act in it."""

    url: str
    engine: Engine
    settings: Settings
    db: str
    secrets: dict[str, str] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)

    def user(self, username: str, role: str, *, trained: bool = True) -> None:
        """Create a user with TOTP enrolled (and training unless told otherwise)."""
        users.add_user(self.engine, self.settings.security, username=username, role=role,
                       password=PASSWORD, actor="test", full_name=username.title())
        row = user_repo.get(self.engine, username)
        if trained:
            users.record_training(self.engine, username=username, course="ALPR 462",
                                  completed_on=date.today() - timedelta(days=3),
                                  trainer="Sgt. Diaz", actor="test")
        secret = pyotp.random_base32()
        account_repo.set_totp(self.engine, int(row["id"]), secret, enrolled=True)
        self.secrets[username] = secret

    def code(self, username: str) -> str:
        """A TOTP code not used yet for this user."""
        offset = self.offsets.get(username, -1)
        self.offsets[username] = offset + 1
        moment = datetime.now(UTC) + timedelta(seconds=30 * offset)
        return str(pyotp.TOTP(self.secrets[username]).at(moment))

    def login(self, page: Page, username: str, password: str = PASSWORD) -> None:
        """Sign in through the banner, password and code pages."""
        page.goto(f"{self.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.check("input[name=banner_ack]")
        page.click("button[type=submit]")
        page.wait_for_url("**/login/code")
        page.fill("input[name=code]", self.code(username))
        page.click("button[type=submit]")
        page.wait_for_load_state()

    def shot(self, page: Page, name: str) -> None:
        """Save a full-page screenshot as a test artefact."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{self.db}.png"), full_page=True)


@pytest.fixture
def site(settings: Settings, engine: Engine) -> Iterator[Site]:
    """The whole controller (database, bridge, web) on a loop of its own, port 0."""
    quiet = settings.model_copy(update={"node": NodeSettings(run_cameras=False)})
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="controller-loop")
    thread.start()
    controller = Controller(quiet, web=web_factory())
    try:
        asyncio.run_coroutine_threadsafe(controller.start(), loop).result(120)
        yield Site(f"http://127.0.0.1:{controller.web_port}", engine, quiet, engine.dialect.name)
    finally:
        asyncio.run_coroutine_threadsafe(controller.stop(), loop).result(60)

        async def drain() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(drain(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (own cookies) at a laptop's screen size."""
    context = browser.new_context(viewport={"width": 1366, "height": 820})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


class _Snapshot(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def snapshot_url() -> Iterator[str]:
    """A loopback HTTP server answering with a camera still (white, like the test video)."""
    image = np.full((240, 320, 3), 255, np.uint8)
    image[-20:, :] = 128
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    _Snapshot.body = buf.tobytes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Snapshot)
    thread = threading.Thread(target=server.serve_forever, name="snapshot-server")
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/onvif/snapshot.jpg"
    server.shutdown()
    server.server_close()
    thread.join()
