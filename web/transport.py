"""Transport: the client's address behind a trusted proxy, HSTS, and HTTPS served directly.

waitress does not speak TLS (its maintainers send TLS to a reverse proxy), so when
the web settings name a certificate the application is served by cheroot, whose
built-in adapter wraps each connection in the standard library's ``ssl`` with its
default server context (TLS 1.2 or later). Behind a reverse proxy, only the
addresses in ``web.trusted_proxy`` may say who the client is: their
``X-Forwarded-For`` and ``X-Forwarded-Proto`` are applied with waitress's own
parser, and from every other peer all forwarding headers are dropped, so the audit
log's client address is never what a stranger typed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from waitress.proxy_headers import proxy_headers_middleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

FORWARDED_HEADERS = frozenset({"x-forwarded-for", "x-forwarded-proto"})


def trust_proxies(app: WSGIApplication, proxies: Iterable[str]) -> WSGIApplication:
    """Wrap ``app`` so that forwarding headers count only from ``proxies``.

    A request from a trusted proxy gets ``REMOTE_ADDR`` and ``wsgi.url_scheme`` from
    the last hop the proxy added (one proxy in front); any other request loses every
    forwarding header before the application sees it.
    """
    trusted = frozenset(proxies)
    believing: WSGIApplication = proxy_headers_middleware(
        app, trusted_proxy="*", trusted_proxy_count=1,
        trusted_proxy_headers=set(FORWARDED_HEADERS), clear_untrusted=True)
    doubting: WSGIApplication = proxy_headers_middleware(
        app, trusted_proxy=None, clear_untrusted=True)

    def dispatch(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        chosen = believing if environ.get("REMOTE_ADDR") in trusted else doubting
        return chosen(environ, start_response)

    return dispatch


def hsts_value(max_age: int) -> str:
    """The Strict-Transport-Security header for ``max_age`` seconds."""
    return f"max-age={max_age}; includeSubDomains"


class TlsServer:
    """A cheroot server with TLS on a background thread (waitress has no TLS)."""

    def __init__(self, app: WSGIApplication, host: str, port: int, *, threads: int,
                 certificate: str, key: str) -> None:
        self._server = wsgi.Server((host, port), app, numthreads=threads,
                                   server_name="Sightline")
        # Reads both files now: a wrong path or a key that does not match fails at start.
        self._server.ssl_adapter = BuiltinSSLAdapter(certificate, key)
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name="web", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound."""
        bound: Any = self._server.bind_addr
        return int(bound[1])

    def start(self) -> None:
        """Start serving on a background thread."""
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop accepting, end the worker threads and wait for the serving thread."""
        self._server.stop()
        self._thread.join(timeout)
