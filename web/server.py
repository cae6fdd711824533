"""Serve the Flask application with waitress on a background thread."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from flask import Flask
from waitress.server import create_server

from controller.bridge import Bridge
from controller.capture import live
from controller.errors import ControllerError
from controller.metrics import Metrics
from controller.settings import Settings
from controller.system import Database
from web.app import create_app


class WebServer:
    """A waitress server that can be started and stopped from the controller."""

    def __init__(self, app: Flask, host: str, port: int, threads: int,
                 bridge: Bridge | None = None) -> None:
        self._bridge = bridge
        self._server: Any = create_server(
            app, host=host, port=port, threads=threads, asyncore_loop_timeout=0.5,
            ident="Sightline", clear_untrusted_proxy_headers=True,
        )
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound (useful when 0 was asked for)."""
        return int(self._server.effective_port)

    def start(self) -> None:
        """Start serving on a background thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close live peers, every socket, the worker threads; wait for the loop to end."""
        server = self._server
        if self._bridge is not None and self._bridge.running():
            # Live-view peers and decodes live on the controller loop; end them first.
            with contextlib.suppress(ControllerError):
                self._bridge.call(live.close_hub(), timeout)

        def close_all() -> None:
            # Runs on waitress's own loop thread (through its trigger), so no socket is
            # closed under a poll() in progress; an empty socket map ends the loop.
            for dispatcher in list(server._map.values()):
                dispatcher.close()

        if self._thread.is_alive():
            server.trigger.pull_trigger(close_all)
            self._thread.join(timeout)
        else:
            close_all()
        server.task_dispatcher.shutdown()

def make_web_service(settings: Settings, bridge: Bridge, engine: Database, metrics: Metrics,
                     secret_key: str) -> WebServer:
    """Build the application and its server for the controller's ``web`` start step."""
    app = create_app(settings, bridge, engine=engine, metrics=metrics, secret_key=secret_key)
    return WebServer(app, settings.web.host, settings.web.port, settings.web.threads, bridge)
