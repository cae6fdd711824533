"""The runtime's in-memory hotlist index: what a pipeline matches and builds hits from."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine

from controller import runtime
from controller.alerts import hotlists
from controller.capture.records import EntryDetails
from controller.errors import StoreUnavailable
from controller.settings import HotlistSettings


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
