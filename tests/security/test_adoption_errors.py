"""L4: camera adoption answers alike for a closed port and an open one that is not ONVIF.

Real sockets on loopback: nothing listening, a listener that hangs up, one that
speaks another protocol (an SSH banner) and one that never answers. Each gets the
same message and the same audit reason; the detail reaches the server log only. A
web server that answers HTTP (a device that is reachable) is still told apart.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import Engine

from controller.errors import ValidationError
from controller.operations import cameras as ops
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import sites as site_repo

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def _ssh_banner(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6 secret-banner\r\n")
    await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client gives up and closes
    writer.close()


async def _http_404(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()


@asynccontextmanager
async def listening(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on a free loopback port running ``handler`` per connection."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(60)
async def test_closed_and_open_non_onvif_ports_answer_alike(
        settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    site_repo.create_site(engine, code="main-st", name="Main St")
    quick = settings.model_copy(update={"cameras": settings.cameras.model_copy(
        update={"onvif_timeout_seconds": 2.0})})

    async def adopt(port: int) -> str:
        with pytest.raises(ValidationError) as info:
            await ops.probe_and_adopt(
                engine, quick, "k" * 64, site_code="main-st", name="SB 1", host="127.0.0.1",
                port=port, username="admin", password="x", actor="val.vendor",
                client_addr="127.0.0.1")
        assert info.value.field == "host"
        return str(info.value).replace(str(port), "PORT")

    answers = {"closed": await adopt(_closed_port())}
    with caplog.at_level(logging.WARNING, logger="sightline.cameras"):
        for name, handler in (("hangs up", _hang_up), ("ssh", _ssh_banner),
                              ("silent", _silent)):
            async with listening(handler) as port:
                answers[name] = await adopt(port)
    assert len(set(answers.values())) == 1, answers
    assert ops.NO_ANSWER in answers["closed"]
    for word in ("Connect call failed", "disconnected", "SSH", "within"):
        assert word not in answers["closed"]
    # The detail is kept for the operator, in the server log.
    assert "secret-banner" in caplog.text and "Server disconnected" in caplog.text

    reasons = {str(row["data"]["reason"]) for row in audit_repo.search(
        engine, action="camera.adopt")}
    assert reasons == {ops.NO_ANSWER}

    async with listening(_http_404) as port:
        web_server = await adopt(port)
    assert ops.NO_ANSWER not in web_server and "HTTP 404" in web_server
