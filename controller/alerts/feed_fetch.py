"""Downloading a hotlist feed's file: from this machine, over HTTPS, or over SFTP.

Every download is bounded in size (``max_bytes``) and in time
(``timeout_seconds``, the whole transfer), and every failure becomes a
``FeedError`` whose ``kind`` says which step failed, so that the feed's status
and health can tell a certificate problem from a wrong password or a cut
transfer. Credentials are read from the environment variables the settings
name, at the moment of the fetch; they are never stored or shown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from pathlib import Path
from typing import cast

import asyncssh
import httpx

from controller.errors import FeedError
from controller.settings.feeds import FileSource, HotlistFeed, HttpsSource, SftpSource

log = logging.getLogger("sightline.feeds")


def describe(source: FileSource | HttpsSource | SftpSource) -> str:
    """Where a feed comes from, without credentials (for the list's version and status)."""
    if isinstance(source, FileSource):
        return str(source.path)
    if isinstance(source, HttpsSource):
        return str(source.url)
    return f"sftp://{source.host}:{source.port}{'' if source.path.startswith('/') else '/'}" \
           f"{source.path}"


def _secret(variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise FeedError("auth", f"the environment variable {variable} is not set")
    return value


def _too_big(feed: HotlistFeed, size: int) -> FeedError:
    return FeedError("size", f"the file is larger than the feed's ceiling of {feed.max_bytes} "
                             f"bytes ({size} bytes or more)")


def _read_file(feed: HotlistFeed, path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(feed.max_bytes + 1)
    except OSError as exc:
        raise FeedError("file", f"{path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > feed.max_bytes:
        raise _too_big(feed, len(data))
    return data


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


async def _https(feed: HotlistFeed, source: HttpsSource) -> bytes:
    verify: ssl.SSLContext | bool = True
    if source.ca_file is not None:
        try:
            verify = ssl.create_default_context(cafile=str(source.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise FeedError("tls", f"the CA file {source.ca_file} cannot be used: {exc}") from None
    auth = None
    if source.username_env and source.password_env:
        auth = httpx.BasicAuth(_secret(source.username_env), _secret(source.password_env))
    url = str(source.url)
    try:
        async with httpx.AsyncClient(verify=verify, timeout=feed.timeout_seconds, auth=auth,
                                     follow_redirects=False, trust_env=False) as client, \
                client.stream("GET", url) as response:
            if response.status_code in (401, 403):
                raise FeedError("auth", f"{url} refused the credentials (HTTP "
                                        f"{response.status_code})")
            if response.status_code != 200:
                raise FeedError("http", f"{url} answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > feed.max_bytes:
                raise _too_big(feed, int(declared))
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > feed.max_bytes:
                    raise _too_big(feed, size)
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise FeedError("timeout", f"{url} did not answer within "
                                   f"{feed.timeout_seconds:g} s") from None
    except httpx.RemoteProtocolError as exc:
        raise FeedError("network", f"{url}: the transfer was cut short ({exc})") from None
    except httpx.TransportError as exc:
        tls = _tls_failure(exc)
        if tls is not None:
            reason = (f"certificate verify failed: {tls.verify_message}"
                      if isinstance(tls, ssl.SSLCertVerificationError)
                      else tls.reason or str(tls))
            raise FeedError("tls", f"{url}: TLS failed ({reason})") from None
        raise FeedError("network", f"{url} cannot be reached ({exc})") from None
    return b"".join(chunks)


def _sftp_options(source: SftpSource) -> dict[str, object]:
    if not source.known_hosts.is_file():
        raise FeedError("host_key", f"the known_hosts file {source.known_hosts} is missing")
    keys = None
    if source.private_key_env:
        try:
            keys = [asyncssh.import_private_key(_secret(source.private_key_env))]
        except (asyncssh.KeyImportError, ValueError):
            raise FeedError("auth", f"the private key in {source.private_key_env} cannot be "
                                    "read (an unencrypted OpenSSH or PEM key)") from None
    # Nothing from this machine's own SSH setup: no ~/.ssh/config, agent or default keys.
    return {"port": source.port, "username": _secret(source.username_env),
            "password": _secret(source.password_env) if source.password_env else None,
            "client_keys": keys, "known_hosts": str(source.known_hosts), "config": None,
            "agent_path": None, "preferred_auth": "publickey,password"
            if keys and source.password_env else "publickey" if keys else "password"}


async def _sftp(feed: HotlistFeed, source: SftpSource) -> bytes:
    where = describe(source)
    options = _sftp_options(source)
    try:
        async with asyncssh.connect(source.host, **options) as conn, \
                conn.start_sftp_client() as sftp:
            size = (await sftp.stat(source.path)).size
            if size is not None and size > feed.max_bytes:
                raise _too_big(feed, size)
            async with sftp.open(source.path, "rb") as handle:
                # Opened without an encoding: the file's bytes as they are.
                data = cast("bytes", await handle.read(feed.max_bytes + 1))
    except asyncssh.HostKeyNotVerifiable:
        raise FeedError("host_key", f"{where}: the server's host key is not the one in "
                                    f"{source.known_hosts}") from None
    except asyncssh.PermissionDenied:
        raise FeedError("auth", f"{where}: the server refused the credentials") from None
    except asyncssh.SFTPError as exc:
        raise FeedError("sftp", f"{where}: {exc.reason}") from None
    except (asyncssh.Error, OSError) as exc:
        raise FeedError("network", f"{where} cannot be reached ({exc})") from None
    if len(data) > feed.max_bytes:
        raise _too_big(feed, len(data))
    if size is not None and len(data) != size:
        raise FeedError("network", f"{where}: read {len(data)} of {size} bytes (cut short)")
    return data


async def download(feed: HotlistFeed) -> bytes:
    """The feed's file, whole, within its size ceiling and timeout (``FeedError`` if not)."""
    source = feed.source
    try:
        async with asyncio.timeout(feed.timeout_seconds):
            if isinstance(source, FileSource):
                return await asyncio.to_thread(_read_file, feed, source.path)
            if isinstance(source, HttpsSource):
                return await _https(feed, source)
            return await _sftp(feed, source)
    except TimeoutError:
        raise FeedError("timeout", f"{describe(source)} took longer than "
                                   f"{feed.timeout_seconds:g} s") from None
