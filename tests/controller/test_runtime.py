"""The runtime: its in-memory hotlist index (what a pipeline matches and builds hits from)
and its service tasks."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Engine

from controller import runtime
from controller.alerts import hotlists
from controller.bridge import ChangeNotifier
from controller.capture.ownership import SingleNode
from controller.capture.records import EntryDetails
from controller.errors import StoreUnavailable
from controller.metrics import Metrics
from controller.settings import HotlistSettings, Settings


def import_list(engine: Engine, tmp_path: Path, rows: str) -> None:
    path = tmp_path / "svs.csv"
    path.write_text("plate,state,category,ncic,ori\n" + rows)
    hotlists.import_hotlist(engine, HotlistSettings(official_feeds=("svs",)), path, "svs",
                           actor="t")


async def test_the_index_holds_the_particulars_and_survives_an_outage(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    import_list(engine, tmp_path, "5DEF678,CA,stolen,V1,CA0130000\n")
    index = runtime.HotlistIndex(engine)
    assert await index.refresh()
    (match,) = index.current().match("5DEF678")
    assert index.entries([match.entry_id, 999]) == {match.entry_id: EntryDetails(
        "stolen_vehicle", ncic_number="V1", ori="CA0130000", plate_state="CA")}
    # The database goes away: the index keeps matching with what it loaded, and says so once.
    import_list(engine, tmp_path, "8GHJ234,CA,stolen,V2,CA0130000\n")

    def gone(_engine: Engine) -> None:
        raise StoreUnavailable("database unavailable (OperationalError: refused)")

    real = runtime.hotlist_repo.signature
    monkeypatch.setattr(runtime.hotlist_repo, "signature", gone)
    with caplog.at_level(logging.INFO, "sightline.runtime"):
        for _ in range(3):
            await index.refresh_quietly()
        assert index.current().match("5DEF678")
        assert index.entries([match.entry_id]) != {}
        monkeypatch.setattr(runtime.hotlist_repo, "signature", real)
        await index.refresh_quietly()  # back: the new version is loaded
    assert not index.current().match("5DEF678")
    assert index.current().match("8GHJ234")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("hotlist refresh failed" in m for m in messages) == 1, messages
    assert sum("hotlist refresh works again" in m for m in messages) == 1, messages


class Leases:
    """The runtime's ownership, recording whether the stop handed the leases back."""

    def __init__(self) -> None:
        self.released = False

    async def release_all(self) -> None:
        self.released = True


async def test_a_service_that_dies_is_reported_at_once_and_the_stop_still_goes_through(
        settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    rt = runtime.Runtime(settings, engine, Metrics(),
                         ChangeNotifier(asyncio.get_running_loop()))
    leases = Leases()
    rt.ownership = cast(SingleNode, leases)
    rt.recognition_pool = pool = ThreadPoolExecutor(max_workers=1)
    cameras_stopped = asyncio.Event()

    async def health() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("health rows: camera 7 has no site")

    async def cameras() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cameras_stopped.set()

    with caplog.at_level(logging.ERROR, "sightline.runtime"):
        rt._spawn("health", health())
        rt._spawn("pipelines", cameras())
        for _ in range(10):  # the health task dies here, long before anything stops
            await asyncio.sleep(0)
        deaths = [r for r in caplog.records if "stopped on an error" in r.getMessage()]
        assert [r.getMessage() for r in deaths] == [
            "service health stopped on an error: health rows: camera 7 has no site"]
        assert deaths[0].exc_info is not None  # with its traceback
        await rt.stop_pipelines()
    # The dead task's error did not cut the stop short: the cameras stopped, the
    # recognition threads were let go and the leases handed back.
    assert cameras_stopped.is_set()
    assert rt.recognition_pool is None
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(print)
    assert leases.released
