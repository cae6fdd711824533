"""Browser fixtures: the real controller and web server on loopback, Debian's Chromium."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from browser_helpers import Site, open_page
from playwright.sync_api import Browser, Page, expect, sync_playwright
from shared_peers import snapshot_server, stop_loop
from sqlalchemy import Engine

from controller.app import Controller
from controller.commands.compose import web_factory
from controller.demo.world import free_port
from controller.settings import NodeSettings, Settings

# What a page shows is waited for, not timed: room for a loaded 2-core machine (the
# default is 5 s), still a bound on a condition.
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
]


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
        stop_loop(loop, thread)


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


@pytest.fixture(params=[1366, 390], ids=["1366px", "390px"])
def width(request: pytest.FixtureRequest) -> int:
    """The viewport width this run of the test uses (issue 16: a phone's and a laptop's)."""
    return int(request.param)


@pytest.fixture
def sized_page(browser: Browser, width: int) -> Iterator[Page]:
    """A fresh browser context (own cookies) at ``width`` (a phone's or a laptop's)."""
    with open_page(browser, width) as opened:
        yield opened


@pytest.fixture
def snapshot_url() -> Iterator[str]:
    """A loopback HTTP server answering with a camera still (white, like the test video)."""
    image = np.full((240, 320, 3), 255, np.uint8)
    image[-20:, :] = 128
    with snapshot_server(image, "/onvif/snapshot.jpg") as url:
        yield url


@pytest.fixture
def stream_url() -> Iterator[str]:
    """The demo's virtual camera (ipycam: ONVIF and RTSP on loopback) showing a plate;
    its RTSP URL, for a camera adopted without an ONVIF snapshot URI."""
    onvif, rtsp = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller.demo.camera", "--onvif-port", str(onvif),
         "--rtsp-port", str(rtsp), "--plates", "7ABC123", "--lead-in", "0", "--fps", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY"), line
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
