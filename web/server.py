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
from web.transport import TlsServer


class WebServer:
    """A waitress server that can be started and stopped from the controller."""

    def __init__(self, app: Flask, host: str, port: int, threads: int,
                 bridge: Bridge | None = None, *, tls: tuple[str, str] | None = None) -> None:
        self._bridge = bridge
        # With a (certificate, key) pair, HTTPS through cheroot (waitress has no TLS).
        self._tls = (TlsServer(app, host, port, threads=threads, certificate=tls[0], key=tls[1])
                     if tls else None)
        # Forwarding headers reach the application, which believes them only from the
        # configured proxies (web.transport.trust_proxies, installed by create_app).
        self._server: Any = None if self._tls else create_server(
            app, host=host, port=port, threads=threads, asyncore_loop_timeout=0.5,
            ident="Sightline", clear_untrusted_proxy_headers=False,
        )
        self._thread = threading.Thread(target=self._server.run if self._server else None,
                                        name="web", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound (useful when 0 was asked for)."""
        if self._tls is not None:
            return self._tls.port
        return int(self._server.effective_port)

    def start(self) -> None:
        """Start serving on a background thread."""
        if self._tls is not None:
            self._tls.start()
        else:
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close live peers, every socket, the worker threads; wait for the loop to end."""
        server = self._server
        if self._bridge is not None and self._bridge.running():
            # Live-view peers and decodes live on the controller loop; end them first.
            with contextlib.suppress(ControllerError):
                self._bridge.call(live.close_hub(), timeout)
        if self._tls is not None:
            self._tls.stop(timeout)
            return

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
    web = settings.web
    tls = (str(web.tls_certificate), str(web.tls_key)) if web.tls else None
    return WebServer(app, web.host, web.port, web.threads, bridge, tls=tls)
