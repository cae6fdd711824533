"""Hotlist feed settings and file formats: CSV with a column map, NCIC-style fixed-width
and delimited records (a valid record round-trips; any junk line is rejected with its
number, never raising)."""

from __future__ import annotations

import typing
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError

from controller.alerts.feed_formats import parse_feed
from controller.errors import FeedError
from controller.settings import HotlistSettings
from controller.settings.feeds import FeedCategory, HotlistFeed
from controller.store.schema import HOTLIST_CATEGORIES

TODAY = date(2026, 11, 29)
# The layout of the fixed-width records below, written here from NCIC's field sizes:
# LIC 10, LIS 2, LIT 2, LIY 4, NIC 10, ORI 9, OCA 20, VMA 4, VCO 7 (BLK/WHI).
LAYOUT = (("LIC", 1, 10), ("LIS", 11, 2), ("LIT", 13, 2), ("LIY", 15, 4), ("NIC", 19, 10),
          ("ORI", 29, 9), ("OCA", 38, 20), ("VMA", 58, 4), ("VCO", 62, 7))
RECORD_LENGTH = 68
DELIMITED = ("LIC", "-", "LIS", "LIT", "LIY", "NIC", "ORI", "OCA", "VMA", "VCO")


def feed(fmt: dict[str, Any], category: str = "stolen_vehicle") -> HotlistFeed:
    return HotlistFeed.model_validate({"name": "CA-SVS", "category": category,
                                       "source": {"kind": "file", "path": "/nonexistent"},
                                       "format": fmt})


FIXED = feed({"kind": "ncic-fixed", "fields": [{"code": c, "start": s, "width": w}
                                               for c, s, w in LAYOUT]})
PIPES = feed({"kind": "ncic-delimited", "delimiter": "|", "fields": list(DELIMITED)})

letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
digits = st.sampled_from("0123456789")
alnum = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def text_of(parts: st.SearchStrategy[str], low: int, high: int) -> st.SearchStrategy[str]:
    return st.lists(parts, min_size=low, max_size=high).map("".join)


def optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), strategy)


colour = text_of(letters, 3, 3)
records = st.fixed_dictionaries({
    "LIC": text_of(alnum, 1, 10),
    "LIS": optional(text_of(letters, 2, 2)),
    "LIT": optional(text_of(letters, 2, 2)),
    "LIY": optional(st.one_of(text_of(digits, 4, 4), st.just("NX"))),
    "NIC": optional(st.tuples(letters, text_of(digits, 9, 9)).map("".join)),
    "ORI": optional(st.tuples(text_of(letters, 2, 2), text_of(alnum, 7, 7)).map("".join)),
    "OCA": optional(st.tuples(alnum, text_of(st.sampled_from("ABC0123 ./-"), 0, 18), alnum)
                    .map("".join)),
    "VMA": optional(text_of(alnum, 2, 4)),
    "VCO": optional(st.one_of(colour, st.tuples(colour, colour).map("/".join))),
})


def fixed_line(record: dict[str, str | None]) -> str:
    return "".join((record[code] or "").ljust(width) for code, _, width in LAYOUT)


def pipe_line(record: dict[str, str | None], skipped: str = "x") -> str:
    return "|".join(skipped if code == "-" else (record[code] or "") for code in DELIMITED)


def expected_entry(record: dict[str, str | None]) -> dict[str, Any]:
    """The entry a record must give: its own fields, and the rest in the alert note."""
    note = "; ".join(f"{code} {record[code]}" for code in ("LIT", "LIY", "VMA", "VCO", "OCA")
                     if record[code])
    return {"plate": record["LIC"], "is_partial": False, "plate_state": record["LIS"],
            "category": "stolen_vehicle", "reason": None, "ncic_number": record["NIC"],
            "ori": record["ORI"], "entered_at": None, "expires_at": None,
            "alert_note": note or None}


@settings(max_examples=150, deadline=None)
@given(st.lists(records, min_size=1, max_size=5))
def test_valid_fixed_width_records_round_trip(batch: list[dict[str, str | None]]) -> None:
    data = "\r\n".join(fixed_line(r) for r in batch).encode()
    parsed = parse_feed(data, FIXED, TODAY)
    assert parsed.rejected == []
    assert parsed.entries == [expected_entry(r) for r in batch]


@settings(max_examples=150, deadline=None)
@given(st.lists(records, min_size=1, max_size=5))
def test_valid_delimited_records_round_trip(batch: list[dict[str, str | None]]) -> None:
    data = "\n".join(pipe_line(r) for r in batch).encode() + b"\n"
    parsed = parse_feed(data, PIPES, TODAY)
    assert parsed.rejected == []
    assert parsed.entries == [expected_entry(r) for r in batch]


junk = st.one_of(st.binary(min_size=1, max_size=120).filter(lambda b: b"\n" not in b),
                 st.text(min_size=1, max_size=120).filter(lambda t: "\n" not in t)
                 .map(lambda t: t.encode()))


@pytest.mark.parametrize("layout", [FIXED, PIPES], ids=["fixed", "delimited"])
@settings(max_examples=200, deadline=None)
@given(good=records, bad=st.lists(junk, min_size=1, max_size=4), at=st.integers(0, 4))
def test_any_junk_line_is_rejected_with_its_number_and_never_raises(
        layout: HotlistFeed, good: dict[str, str | None], bad: list[bytes], at: int) -> None:
    valid = (fixed_line(good) if layout is FIXED else pipe_line(good)).encode()
    lines = [valid, valid]
    junk_numbers = []
    for i, line in enumerate(bad):
        spot = min(at + i, len(lines))
        lines.insert(spot, line)
    for number, line in enumerate(lines, start=1):
        if line is not valid:
            junk_numbers.append(number)
    parsed = parse_feed(b"\n".join(lines), layout, TODAY)
    rejected = [n for n, _ in parsed.rejected]
    # Never more than the junk, every valid record kept, every line accounted for.
    assert set(rejected) <= set(junk_numbers)
    assert parsed.entries.count(expected_entry(good)) >= 2
    # A UTF-8 byte-order mark opening the file is not part of its first line.
    text_of = [line.removeprefix(b"\xef\xbb\xbf") if n == 1 else line
               for n, line in enumerate(lines, start=1)]
    blank = sum(1 for n in junk_numbers if not text_of[n - 1].strip())
    assert len(parsed.entries) + parsed.rejected_count == len(lines) - blank
    assert all(reason for _, reason in parsed.rejected)


@pytest.mark.parametrize(("line", "why"), [
    ("7ABC$23   CA", "LIC"),
    ("7ABC123   C1", "LIS"),
    ("7ABC123   CAP", "characters where a record has"),
    ("", None),
])
def test_a_bad_fixed_width_field_is_named(line: str, why: str | None) -> None:
    good = fixed_line({"LIC": "5DEF678", "LIS": "CA", "LIT": None, "LIY": None, "NIC": None,
                       "ORI": None, "OCA": None, "VMA": None, "VCO": None})
    bad = line.ljust(RECORD_LENGTH) if why in ("LIC", "LIS") else line
    parsed = parse_feed(f"{good}\n{bad}\n{good}\n".encode(), FIXED, TODAY)
    assert len(parsed.entries) == 2
    if why is None:
        assert parsed.rejected == []
    else:
        ((number, reason),) = parsed.rejected
        assert number == 2 and why in reason


def test_csv_with_a_header_and_a_column_map() -> None:
    layout = feed({"kind": "csv", "delimiter": ";",
                   "columns": {"Tag": "plate", "St": "state", "NCIC": "ncic_number",
                               "Kind": "category"}}, category="stolen_plate")
    data = (b"Kind;Tag;St;NCIC;Extra\n"
            b";7ABC123;CA;V000000001;x\n"
            b"wanted;5DEF678;NV;;x\n"
            b"stolen;8GH$J;CA;;x\n"
            b"stolen;9ZZZ999;CA;x\n")
    parsed = parse_feed(data, layout, TODAY)
    assert [(e["plate"], e["plate_state"], e["category"], e["ncic_number"])
            for e in parsed.entries] == [("7ABC123", "CA", "stolen_plate", "V000000001"),
                                         ("5DEF678", "NV", "wanted_warrant", None)]
    assert [n for n, _ in parsed.rejected] == [4, 5]
    assert "plate" in parsed.rejected[0][1] and "4 fields" in parsed.rejected[1][1]


def test_csv_by_column_number_and_a_header_missing_a_column() -> None:
    numbered = feed({"kind": "csv", "header": False, "columns": {2: "plate", 3: "state"}})
    parsed = parse_feed(b"x,7ABC123,CA\nx,5DEF678\n", numbered, TODAY)
    assert [e["plate"] for e in parsed.entries] == ["7ABC123"]
    assert parsed.rejected[0][0] == 2
    headed = feed({"kind": "csv", "columns": {"Plate": "plate"}})
    with pytest.raises(FeedError, match="no column 'Plate'") as caught:
        parse_feed(b"Tag,State\n7ABC123,CA\n", headed, TODAY)
    assert caught.value.kind == "malformed"


def test_the_rejected_lines_kept_are_bounded_but_all_counted() -> None:
    data = b"\n".join([b"bad|line"] * 500)
    parsed = parse_feed(data, PIPES, TODAY)
    assert parsed.rejected_count == 500 and len(parsed.rejected) == 100
    assert parsed.rejected[-1][0] == 100


def test_feed_categories_are_the_policys_but_partial_plates() -> None:
    assert set(typing.get_args(FeedCategory)) == set(HOTLIST_CATEGORIES) - {"partial_plate"}


@pytest.mark.parametrize(("source", "message"), [
    ({"kind": "https", "url": "http://feeds.example.org/svs.txt"}, "must use https://"),
    ({"kind": "https", "url": "https://user:pw@feeds.example.org/svs.txt"}, "never written"),
    ({"kind": "https", "url": "https://x.example.org/a", "username_env": "U"}, "go together"),
    ({"kind": "sftp", "host": "sftp.example.org", "path": "/svs.txt",
      "known_hosts": "/etc/kh", "username_env": "U"}, "password_env or private_key_env"),
    ({"kind": "sftp", "host": "sftp.example.org", "path": "/svs.txt",
      "username_env": "U", "password_env": "P"}, "known_hosts"),
    ({"kind": "ftp", "path": "/x"}, "kind"),
])
def test_bad_sources_are_refused_naming_the_field(source: dict[str, Any], message: str) -> None:
    with pytest.raises(PydanticError, match=message):
        HotlistFeed.model_validate({"name": "x", "source": source,
                                    "format": {"kind": "ncic-delimited", "fields": ["LIC"]}})


def test_plain_http_is_allowed_on_loopback_only() -> None:
    ok = HotlistFeed.model_validate({
        "name": "x", "source": {"kind": "https", "url": "http://127.0.0.1:8000/svs.txt"},
        "format": {"kind": "ncic-delimited", "fields": ["LIC"]}})
    assert ok.source.kind == "https"


@pytest.mark.parametrize(("fmt", "message"), [
    ({"kind": "csv", "columns": {"State": "state"}}, "map one column to plate"),
    ({"kind": "csv", "columns": {"Plate": "plate", "X": "colour"}}, "unknown field"),
    ({"kind": "csv", "header": False, "columns": {"Plate": "plate"}}, "by number"),
    ({"kind": "ncic-fixed", "fields": [{"code": "LIS", "start": 1, "width": 2}]}, "LIC"),
    ({"kind": "ncic-fixed", "fields": [{"code": "LIC", "start": 1, "width": 10},
                                       {"code": "LIS", "start": 10, "width": 2}]}, "overlap"),
    ({"kind": "ncic-delimited", "fields": ["LIC", "LIC"]}, "once"),
    ({"kind": "ncic-delimited", "fields": ["LIC", "XYZ"]}, "fields"),
])
def test_bad_formats_are_refused_naming_the_field(fmt: dict[str, Any], message: str) -> None:
    with pytest.raises(PydanticError, match=message):
        feed(fmt)


def test_feeds_are_official_lists_and_the_old_sources_key_says_what_replaced_it() -> None:
    rules = HotlistSettings(feeds=(PIPES,))
    assert rules.is_official("CA-SVS") and rules.feed("CA-SVS") is PIPES
    with pytest.raises(PydanticError, match="now feeds"):
        HotlistSettings.model_validate({"sources": [{"name": "x", "location": "/x"}]})
    with pytest.raises(PydanticError, match="same name"):
        HotlistSettings(feeds=(PIPES, PIPES))
