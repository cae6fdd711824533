"""Hotlist import (header or column map, delimiter detection, bad rows) and matching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from controller.alerts import hotlists
from controller.alerts.matching import HotlistMatcher, fold
from controller.errors import ValidationError
from controller.settings import HotlistSettings
from controller.store import audit as audit_repo
from controller.store import hotlists as repo

RULES = HotlistSettings()
# "svs" is the state's stolen-vehicle extract: an official feed, in force without approval.
FEED = HotlistSettings(official_feeds=("svs",))
TODAY = date(2026, 11, 28)
FUTURE = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


@pytest.mark.parametrize("delimiter", [",", ";", "\t", ":"])
def test_header_file_with_any_delimiter(delimiter: str) -> None:
    rows = [["LIC", "ST", "TYPE", "NCIC#", "ORI", "ENTRY_DATE", "EXPIRY", "NOTES"],
            ["7abc-123", "ca", "stolen", "V123456789", "CA0123400", "2026-01-02", "", "armed"],
            ["8XYZ999", "NV", "warrant", "", "", "", "", ""]]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    result = hotlists.parse_hotlist(text, RULES, today=TODAY)
    assert result.rejected == []
    first, second = result.entries
    assert (first["plate"], first["plate_state"], first["category"]) == (
        "7ABC123", "CA", "stolen_vehicle")
    assert first["ncic_number"] == "V123456789" and first["alert_note"] == "armed"
    assert first["entered_at"] == datetime(2026, 1, 2, tzinfo=UTC)
    assert second["category"] == "wanted_warrant"


def test_headerless_file_uses_column_map_and_plain_plates() -> None:
    rules = HotlistSettings(column_map=("category", "plate", "state"))
    result = hotlists.parse_hotlist("missing,5DEF678,CA\namber;x\n", rules, today=TODAY)
    assert [e["plate"] for e in result.entries] == ["5DEF678"]
    assert result.entries[0]["category"] == "missing_person"
    plain = hotlists.parse_hotlist("7ABC123\n6TRJ244\n", RULES, today=TODAY)
    assert [e["plate"] for e in plain.entries] == ["7ABC123", "6TRJ244"]
    assert {e["category"] for e in plain.entries} == {"stolen_vehicle"}


def test_bad_rows_are_named_by_line_and_reason() -> None:
    text = ("plate,state,category,expires\n"
            "7ABC123,CA,stolen,\n"
            "7AB$123,CA,stolen,\n"          # line 3: bad character
            "7ABC124,California,stolen,\n"  # line 4: bad state
            "7ABC125,CA,parking,\n"         # line 5: category not a policy purpose
            "7AB*12?,CA,partial,\n"         # line 6: partial without expiry
            "7ABC126,CA,stolen,2020-01-01\n"  # line 7: already expired
            "7ABC127,CA,stolen,13/45/2026\n"  # line 8: not a date
            "7ABC128,CA,stolen,,extra\n")     # line 9: too many fields
    result = hotlists.parse_hotlist(text, RULES, today=TODAY)
    assert [e["plate"] for e in result.entries] == ["7ABC123"]
    lines = dict(result.rejected)
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9]
    assert "A-Z, 0-9" in lines[3] and "two-letter" in lines[4]
    assert "policy's purposes" in lines[5] and "expiry" in lines[6]
    assert "expired on 2020-01-01" in lines[7] and "not a date" in lines[8]
    assert "5 fields" in lines[9]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_parser_never_crashes_and_always_names_the_line(text: str) -> None:
    result = hotlists.parse_hotlist(text, RULES, today=TODAY)
    line_count = max(len(text.splitlines()), 1)
    for line, reason in result.rejected:
        assert 1 <= line <= line_count and reason
    for entry in result.entries:
        assert entry["plate"]
        assert set(entry["plate"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?*")


def test_non_utf8_file_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="not UTF-8"):
        hotlists.parse_hotlist(b"7ABC123\n\xff\xfe\n", RULES)


def test_import_swaps_atomically_and_refuse_mode_keeps_active_list(
        engine: Engine, tmp_path: Path) -> None:
    good = tmp_path / "svs.csv"
    good.write_text("plate,state,category\n7ABC123,CA,stolen\n8XYZ999,CA,stolen\n")
    report = hotlists.import_hotlist(engine, FEED, good, "svs", actor="t")
    assert (report.imported, report.version, report.refused) == (2, 1, False)
    bad = tmp_path / "svs2.csv"
    bad.write_text("plate,state,category\n1NEW111,CA,stolen\nBAD!,CA,stolen\n")
    strict = HotlistSettings(on_bad_row="refuse", official_feeds=("svs",))
    refused = hotlists.import_hotlist(engine, strict, bad, "svs", actor="t")
    assert refused.refused and refused.rejected == [(3, refused.rejected[0][1])]
    assert sorted(e["plate"] for e in repo.list_entries(engine, "svs")) == ["7ABC123", "8XYZ999"]
    skipped = hotlists.import_hotlist(engine, FEED, bad, "svs", actor="t")
    assert (skipped.imported, skipped.version) == (1, 2)
    assert [e["plate"] for e in repo.list_entries(engine, "svs")] == ["1NEW111"]
    assert repo.count_active(engine) == 1
    outcomes = [e["outcome"] for e in audit_repo.search(engine, action="hotlist.import")]
    assert outcomes == ["allowed", "denied", "allowed"]


def test_partial_entry_needs_pattern_expiry_and_reason(engine: Engine) -> None:
    later = datetime.now(UTC) + timedelta(days=3)
    with pytest.raises(ValidationError, match="pattern"):
        hotlists.add_partial_entry(engine, RULES, "incidents", "7ABC123", expires_at=later,
                                   reason="x", case_number="24-0099", actor="t")
    with pytest.raises(ValidationError, match="expires_at"):
        hotlists.add_partial_entry(engine, RULES, "incidents", "7AB*", reason="shooting",
                                   case_number="24-0099",
                                   expires_at=datetime.now(UTC) - timedelta(hours=1), actor="t")
    version = hotlists.add_partial_entry(engine, RULES, "incidents", "7ab*12?", expires_at=later,
                                         reason="Homicide 24-0099, witness saw partial",
                                         case_number="24-0099", actor="t")
    repo.decide_version(engine, version["id"], approve=True, actor="chief",
                        now=datetime.now(UTC), note=None)
    entry = repo.list_entries(engine, "incidents", partial_only=True)[0]
    assert (entry["plate"], entry["category"]) == ("7AB*12?", "partial_plate")
    matcher = HotlistMatcher(repo.active_entries(engine))
    assert [m.kind for m in matcher.match("7ABZZ129", datetime.now(UTC))] == ["partial"]
    assert matcher.match("7ABZZ129", later + timedelta(days=1)) == []


def test_matching_exact_confusion_and_no_edit_distance() -> None:
    entries = [{"id": 1, "plate": "7ABC123", "list_name": "svs"},
               {"id": 2, "plate": "6GOZ502", "list_name": "svs"}]
    matcher = HotlistMatcher(entries)
    assert [m.kind for m in matcher.match("7ABC123")] == ["exact"]
    assert [m.entry_id for m in matcher.match("7A8C123")] == [1]   # B read as 8
    assert [m.kind for m in matcher.match("G6OZ5O2")] == ["confusion"]
    assert matcher.match("7ABC124") == []                          # one edit: no hit
    assert matcher.match("7ABC12") == []


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=8))
def test_fold_is_idempotent_and_keeps_length(plate: str) -> None:
    assert fold(fold(plate)) == fold(plate)
    assert len(fold(plate)) == len(plate)
    matcher = HotlistMatcher([{"id": 9, "plate": plate, "list_name": "x"}])
    assert matcher.match(plate)[0].kind == "exact"
