"""A dispatch-side webhook receiver: verifies signatures and drops duplicate deliveries.

It is what a CAD integration would run, and what ``sightline demo`` runs on
loopback to print each hit it receives; tests use it as the real HTTP peer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from controller.alerts.dispatch import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)


@dataclass
class Received:
    """What the receiver has seen."""

    hits: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    bad_signatures: int = 0
    refused: int = 0
    incomplete: int = 0  # bodies cut short (the sender died mid-request): never verified


class HitReceiver:
    """A threaded HTTP server on loopback that accepts signed hits once per idempotency key."""

    def __init__(self, secret: bytes, *, host: str = "127.0.0.1", port: int = 0,
                 on_hit: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.secret = secret
        self.received = Received()
        self.refuse_next = 0  # answer 503 to this many requests (an outage at dispatch)
        self._lock = threading.Lock()
        self._on_hit = on_hit
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the connection closed mid-body: nobody to answer
                    receiver.cut_short()
                    self.close_connection = True
                    return
                status = receiver.handle(body, self.headers.get(TIMESTAMP_HEADER, ""),
                                         self.headers.get(SIGNATURE_HEADER, ""),
                                         self.headers.get(IDEMPOTENCY_HEADER, ""))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: hits are reported through on_hit

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, name="hit-receiver")

    @property
    def url(self) -> str:
        """Where to POST hits."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hits"

    def cut_short(self) -> None:
        """Count a request whose body ended before its Content-Length (not a forgery)."""
        with self._lock:
            self.received.incomplete += 1

    def handle(self, body: bytes, timestamp: str, signature: str, key: str) -> int:
        """Check one delivery and return the HTTP status to answer."""
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.received.refused += 1
                return 503
            if not verify_signature(self.secret, timestamp, body, signature):
                self.received.bad_signatures += 1
                return 401
            if key in self.received.hits:
                self.received.duplicates += 1
                return 200  # already have it: acknowledge, do nothing twice
            payload = json.loads(body)
            self.received.hits[key] = payload
        if self._on_hit is not None:
            self._on_hit(payload)
        return 200

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
