"""Hotlist feeds against real servers on loopback (HTTPS and SFTP): a good file replaces
the list atomically, a broken one keeps it and raises a health warning, a stale feed is
reported, and rejected lines are reported with their numbers."""

from __future__ import annotations

import asyncio
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from feed_peers import (
    HttpsFeedServer,
    Route,
    SftpFeedServer,
    https_feed_server,
    other_host_key_file,
    sftp_feed_server,
)
from sqlalchemy import Engine

from controller import runtime
from controller.alerts import feeds
from controller.alerts.matching import HotlistMatcher
from controller.settings import HotlistFeed, HotlistSettings
from controller.store import audit as audit_repo
from controller.store import hotlists as hotlist_repo

# The old list: OLD_ONLY and the kept plates; the new one: the kept plates, 1000 more
# and NEW_ONLY. Large enough that the swap takes a while for a reader to run against.
OLD_ONLY, NEW_ONLY = "1OLD111", "2NEW222"
KEPT = [f"K{i:05d}" for i in range(2000)]
MORE = [f"N{i:05d}" for i in range(1000)]
OLD = [OLD_ONLY, *KEPT]
NEW = [*KEPT, *MORE, NEW_ONLY]
PIPE_FIELDS = ["LIC", "LIS", "NIC", "ORI", "VMA", "VCO"]
FIXED_FIELDS = [{"code": "LIC", "start": 1, "width": 10}, {"code": "LIS", "start": 11, "width": 2},
                {"code": "NIC", "start": 13, "width": 10}]


def nic(plate: str) -> str:
    """The NCIC number of a plate's record: the same in every file that lists it."""
    return f"V{zlib.crc32(plate.encode()) % 10**9:09d}"


def pipes(plates: list[str]) -> bytes:
    return "".join(f"{p}|CA|{nic(p)}|CA0194200|TOYT|BLK\n" for p in plates).encode()


def fixed(plates: list[str]) -> bytes:
    return "".join(f"{p:<10}CA{nic(p)}\n" for p in plates).encode()


def make_feed(source: dict[str, Any], fmt: dict[str, Any], **extra: Any) -> HotlistFeed:
    return HotlistFeed.model_validate({"name": "CA-SVS", "source": source, "format": fmt,
                                       **extra})


def https_feed(server: HttpsFeedServer, path: str = "/svs.txt", **source: Any) -> HotlistFeed:
    return make_feed({"kind": "https", "url": f"{server.url}{path}",
                      "ca_file": str(server.ca_file), **source},
                     {"kind": "ncic-delimited", "fields": PIPE_FIELDS})


def sftp_feed(server: SftpFeedServer, path: str = "/svs.txt", **source: Any) -> HotlistFeed:
    auth = source or {"password_env": "FEED_SFTP_PASSWORD"}
    return make_feed({"kind": "sftp", "host": "127.0.0.1", "port": server.port, "path": path,
                      "known_hosts": str(server.known_hosts),
                      "username_env": "FEED_SFTP_USER", **auth},
                     {"kind": "ncic-fixed", "fields": FIXED_FIELDS})


def plates_in_force(engine: Engine) -> set[str]:
    return {e["plate"] for e in hotlist_repo.list_entries(engine, "CA-SVS", limit=10_000)}


def feed_audit(engine: Engine) -> list[dict[str, Any]]:
    return [dict(r) for r in audit_repo.search(engine, action="hotlist.feed", limit=100)]


def consistent(matcher: HotlistMatcher) -> str:
    """Which whole list a matcher holds; anything else is a half list."""
    old, new = bool(matcher.match(OLD_ONLY)), bool(matcher.match(NEW_ONLY))
    if len(matcher) == len(OLD) and old and not new:
        return "old"
    if len(matcher) == len(NEW) and new and not old:
        return "new"
    return f"half: {len(matcher)} entries, old plate {old}, new plate {new}"


class Readers:
    """Threads reading what the matcher is built from (the database) and the matcher
    itself while a swap runs; each records what it saw."""

    def __init__(self, engine: Engine, index: runtime.HotlistIndex) -> None:
        self.stop = threading.Event()
        self.counts: list[int] = []
        self.seen: list[str] = []
        self.threads = [threading.Thread(target=self._store, args=(engine,)),
                        threading.Thread(target=self._matcher, args=(index,))]

    def _store(self, engine: Engine) -> None:
        while not self.stop.is_set():
            self.counts.append(sum(1 for _ in hotlist_repo.active_entries(engine)))

    def _matcher(self, index: runtime.HotlistIndex) -> None:
        while not self.stop.is_set():
            self.seen.append(consistent(index.current()))

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


async def swap_and_watch(engine: Engine, feed: HotlistFeed) -> feeds.FeedReport:
    """Fetch ``feed`` (the new list) over the old one while readers watch; check the swap."""
    index = runtime.HotlistIndex(engine)
    await index.refresh()
    assert consistent(index.current()) == "old"
    with Readers(engine, index) as readers:
        report = await feeds.fetch_feed(engine, feed, actor="system:test")
        await index.refresh()
        await asyncio.sleep(0.05)  # let both readers see the new list too
    assert set(readers.counts) <= {len(OLD), len(NEW)} and readers.counts[-1] == len(NEW)
    assert set(readers.seen) <= {"old", "new"} and readers.seen[-1] == "new"
    assert consistent(index.current()) == "new"
    assert index.current().match(KEPT[7])
    return report


def check_loaded(engine: Engine, report: feeds.FeedReport) -> None:
    assert (report.outcome, report.entries, report.added, report.removed, report.kept) == (
        "loaded", len(NEW), len(MORE) + 1, 1, len(KEPT))
    assert plates_in_force(engine) == set(NEW)
    event = feed_audit(engine)[0]
    assert event["outcome"] == "allowed" and event["data"]["removed_plates"] == [OLD_ONLY]
    version = hotlist_repo.get_version(engine, report.version_id or 0)
    assert version["official"] and version["status"] == "approved"
    assert version["import_event_id"] == event["id"]


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[HttpsFeedServer]:
    with https_feed_server(tmp_path) as server:
        yield server


async def test_a_good_https_feed_replaces_the_list_atomically(
        engine: Engine, https_server: HttpsFeedServer) -> None:
    https_server.routes["/svs.txt"] = Route(pipes(OLD))
    feed = https_feed(https_server)
    first = await feeds.fetch_feed(engine, feed, actor="system:test")
    assert (first.outcome, first.added, first.removed) == ("loaded", len(OLD), 0)
    https_server.routes["/svs.txt"] = Route(pipes(NEW))
    check_loaded(engine, await swap_and_watch(engine, feed))
    (ok,) = feeds.health(engine, HotlistSettings(feeds=(feed,)))
    assert ok.state == "ok" and ok.status is not None and ok.status["entries"] == len(NEW)
    # The same file again: nothing changes, no version is added.
    again = await feeds.fetch_feed(engine, feed, actor="system:test")
    assert (again.outcome, again.added, again.removed, again.kept) == (
        "unchanged", 0, 0, len(NEW))
    assert len(hotlist_repo.list_versions(engine, name="CA-SVS")) == 2


async def broken_keeps_the_list(engine: Engine, feed: HotlistFeed, kind: str,
                                message: str) -> feeds.FeedReport:
    before = plates_in_force(engine)
    versions = len(hotlist_repo.list_versions(engine, name="CA-SVS"))
    report = await feeds.fetch_feed(engine, feed, actor="system:test")
    assert (report.outcome, report.error_kind) == ("failed", kind), report
    assert message in (report.error or ""), report.error
    assert plates_in_force(engine) == before
    assert len(hotlist_repo.list_versions(engine, name="CA-SVS")) == versions
    (check,) = feeds.health(engine, HotlistSettings(feeds=(feed,)))
    assert check.state == "failed" and f"failed ({kind})" in check.message
    assert feeds.warnings([check]) == [f"feed CA-SVS: {check.message}"]
    event = feed_audit(engine)[0]
    assert event["outcome"] == "denied" and event["data"]["error_kind"] == kind
    return report


async def test_a_broken_https_feed_keeps_the_list_and_warns(
        engine: Engine, https_server: HttpsFeedServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    https_server.routes["/svs.txt"] = Route(pipes(OLD))
    await feeds.fetch_feed(engine, https_feed(https_server), actor="system:test")
    garbage = bytes(range(256)) * 40
    bad_lines = pipes(KEPT[:50]) + b"".join(b"7ABC$%|CA|||||\n" for _ in range(10))
    https_server.routes.update({
        "/500": Route(b"oops", 500), "/cut": Route(pipes(NEW), cut=True),
        "/garbage": Route(garbage), "/bad-lines": Route(bad_lines),
        "/short": Route(pipes(KEPT[:100])), "/big": Route(pipes(NEW))})
    await broken_keeps_the_list(engine, https_feed(https_server, "/500"), "http", "HTTP 500")
    await broken_keeps_the_list(engine, https_feed(https_server, "/cut"), "network",
                                "cut short")
    await broken_keeps_the_list(engine, https_feed(https_server, "/garbage"), "rejected",
                                "records rejected")
    report = await broken_keeps_the_list(engine, https_feed(https_server, "/bad-lines"),
                                         "rejected", "10 of 60 records rejected")
    assert [n for n, _ in report.rejected_lines] == list(range(51, 61))
    await broken_keeps_the_list(engine, https_feed(https_server, "/short"), "shrink",
                                "would remove 1901 of the 2001")
    small = https_feed(https_server, "/big").model_copy(update={"max_bytes": 1000})
    await broken_keeps_the_list(engine, small, "size", "ceiling of 1000 bytes")
    # A certificate from another authority: refused, even though the server is the same.
    other = tmp_path / "other"
    other.mkdir()
    from certs import self_signed

    wrong_ca, _ = self_signed(other)
    await broken_keeps_the_list(engine, https_feed(https_server, ca_file=str(wrong_ca)), "tls",
                                "certificate verify failed")
    # Basic credentials from the environment: a wrong password is refused by the server.
    https_server.credentials = ("svs-reader", "right-password")
    monkeypatch.setenv("FEED_USER", "svs-reader")
    monkeypatch.setenv("FEED_PASSWORD", "wrong-password")
    with_auth = https_feed(https_server, username_env="FEED_USER", password_env="FEED_PASSWORD")
    await broken_keeps_the_list(engine, with_auth, "auth", "HTTP 401")
    monkeypatch.setenv("FEED_PASSWORD", "right-password")
    https_server.routes["/svs.txt"] = Route(pipes(NEW))
    assert (await feeds.fetch_feed(engine, with_auth, actor="t")).outcome == "loaded"
    (check,) = feeds.health(engine, HotlistSettings(feeds=(with_auth,)))
    assert check.state == "ok" and check.status and check.status["consecutive_failures"] == 0


async def test_a_good_sftp_feed_replaces_the_list_atomically(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with sftp_feed_server(tmp_path) as server:
        monkeypatch.setenv("FEED_SFTP_USER", server.user)
        monkeypatch.setenv("FEED_SFTP_PASSWORD", server.password)
        (server.root / "svs.txt").write_bytes(fixed(OLD))
        first = await feeds.fetch_feed(engine, sftp_feed(server), actor="system:test")
        assert (first.outcome, first.entries) == ("loaded", len(OLD))
        (server.root / "svs.txt").write_bytes(fixed(NEW))
        # This time with the client key (from the environment) instead of the password.
        monkeypatch.setenv("FEED_SFTP_KEY", server.client_key)
        by_key = sftp_feed(server, private_key_env="FEED_SFTP_KEY")
        check_loaded(engine, await swap_and_watch(engine, by_key))


async def test_a_broken_sftp_feed_keeps_the_list_and_warns(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with sftp_feed_server(tmp_path) as server:
        monkeypatch.setenv("FEED_SFTP_USER", server.user)
        monkeypatch.setenv("FEED_SFTP_PASSWORD", server.password)
        (server.root / "svs.txt").write_bytes(fixed(OLD))
        await feeds.fetch_feed(engine, sftp_feed(server), actor="system:test")
        # A cut file: the last record lost its end, and most of the list is gone.
        (server.root / "cut.txt").write_bytes(fixed(OLD)[:5000])
        (server.root / "junk.txt").write_bytes(b"\x00\xff garbage \x01\n" * 300)
        await broken_keeps_the_list(engine, sftp_feed(server, "/cut.txt"), "shrink",
                                    "taken for a cut file")
        await broken_keeps_the_list(engine, sftp_feed(server, "/junk.txt"), "rejected",
                                    "300 of 300 records rejected")
        await broken_keeps_the_list(engine, sftp_feed(server, "/missing.txt"), "sftp", "")
        monkeypatch.setenv("FEED_SFTP_PASSWORD", "not-the-password")
        await broken_keeps_the_list(engine, sftp_feed(server), "auth",
                                    "refused the credentials")
        monkeypatch.setenv("FEED_SFTP_PASSWORD", server.password)
        impostor = sftp_feed(server).model_copy(update={"source": sftp_feed(server).source
                                                        .model_copy(update={
                                                            "known_hosts": other_host_key_file(
                                                                tmp_path, server.port)})})
        await broken_keeps_the_list(engine, impostor, "host_key", "host key")
        monkeypatch.delenv("FEED_SFTP_USER")
        await broken_keeps_the_list(engine, sftp_feed(server), "auth", "FEED_SFTP_USER")


def test_rejected_lines_are_reported_with_their_numbers(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "svs.csv"
    rows = ["Plate,State,NCIC"] + [f"{p},CA,V{i:09d}" for i, p in enumerate(KEPT[:60])]
    rows[5] = "7AB$123,CA,"  # line 6
    rows[33] = "5DEF678,California,"  # line 34
    path.write_text("\n".join(rows) + "\n")
    feed = make_feed({"kind": "file", "path": str(path)},
                     {"kind": "csv", "columns": {"Plate": "plate", "State": "state",
                                                 "NCIC": "ncic_number"}})
    report = asyncio.run(feeds.fetch_feed(engine, feed, actor="system:test"))
    assert (report.outcome, report.entries, report.rejected) == ("loaded", 58, 2)
    assert [n for n, _ in report.rejected_lines] == [6, 34]
    assert "plate" in report.rejected_lines[0][1]
    assert "state 'CALIFORNIA'" in report.rejected_lines[1][1]
    (check,) = feeds.health(engine, HotlistSettings(feeds=(feed,)))
    assert check.status is not None and check.status["rejected_lines"] == [
        [n, why] for n, why in report.rejected_lines]
    assert feed_audit(engine)[0]["data"]["first_rejected"] == [
        [n, why] for n, why in report.rejected_lines]


def test_a_stale_or_never_fetched_feed_is_reported(engine: Engine, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    path = tmp_path / "svs.txt"
    path.write_bytes(pipes(KEPT[:10]))
    feed = make_feed({"kind": "file", "path": str(path)},
                     {"kind": "ncic-delimited", "fields": PIPE_FIELDS}, every_minutes=720)
    rules = HotlistSettings(feeds=(feed,))
    (never,) = feeds.health(engine, rules)
    assert (never.state, never.stale) == ("never", True)
    fetched_at = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    feeds.apply_feed(engine, feed, path.read_bytes(), actor="system:test", now=fetched_at)
    # Twice a day, stale after 12 hours and the hour's grace: fine at 12:59, stale at 13:01.
    (fresh,) = feeds.health(engine, rules, now=fetched_at + timedelta(hours=12, minutes=59))
    (stale,) = feeds.health(engine, rules, now=fetched_at + timedelta(hours=13, minutes=1))
    assert (fresh.state, fresh.stale) == ("ok", False)
    assert (stale.state, stale.stale) == ("stale", True)
    assert "last good fetch 2026-11-01 06:00 UTC" in stale.message
    assert feeds.warnings([fresh, stale]) == [f"feed CA-SVS: {stale.message}"]
