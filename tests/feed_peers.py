"""Real feed servers on loopback for the hotlist feed tests: HTTPS (the standard library's
http.server wrapped in TLS, certificate made here) and SFTP (asyncssh's own server, host
key made here, password and key authentication)."""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import asyncssh
from certs import self_signed


@dataclass
class Route:
    """What the HTTPS server answers on one path."""

    body: bytes = b""
    status: int = 200
    # Declare more bytes than are sent, then hang up: a transfer cut short.
    cut: bool = False


@dataclass
class HttpsFeedServer:
    """Serves ``routes`` over TLS; a path needing ``credentials`` wants HTTP Basic auth."""

    url: str
    ca_file: Path
    routes: dict[str, Route] = field(default_factory=dict)
    credentials: tuple[str, str] | None = None
    requests: int = 0


@contextmanager
def https_feed_server(directory: Path) -> Iterator[HttpsFeedServer]:
    """An HTTPS server on 127.0.0.1 with a certificate made for it (its own CA)."""
    cert_file, key_file = self_signed(directory)
    state = HttpsFeedServer(url="", ca_file=cert_file)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            if state.credentials is not None:
                expected = base64.b64encode(":".join(state.credentials).encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            route = state.routes.get(self.path, Route(b"not found", 404))
            self.send_response(route.status)
            extra = 1000 if route.cut else 0
            self.send_header("Content-Length", str(len(route.body) + extra))
            self.end_headers()
            self.wfile.write(route.body)
            if route.cut:
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class SftpFeedServer:
    """An SFTP server: its port, files under ``root``, a known_hosts line for its host key."""

    port: int
    root: Path
    known_hosts: Path
    user: str
    password: str
    client_key: str  # an OpenSSH private key the server accepts for ``user``


@asynccontextmanager
async def sftp_feed_server(directory: Path) -> AsyncIterator[SftpFeedServer]:
    """asyncssh's SFTP server on 127.0.0.1, files chrooted to ``directory/root``."""
    root = directory / "root"
    root.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    user, password = "feeds", "Sftp-Feed-Pass-1"
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, given: str) -> bool:
            return username == user and given == password

    listener = await asyncssh.listen(
        "127.0.0.1", 0, server_host_keys=[host_key], server_factory=Server,
        authorized_client_keys=authorized,
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()))
    port = listener.get_port()
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    try:
        yield SftpFeedServer(port, root, known_hosts, user, password,
                             client_key.export_private_key().decode())
    finally:
        listener.close()
        await listener.wait_closed()


def other_host_key_file(directory: Path, port: int) -> Path:
    """A known_hosts file naming some other key for the server: an impostor's, as seen."""
    path = directory / "known_hosts.other"
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    path.write_text(f"[127.0.0.1]:{port} {other}")
    return path
