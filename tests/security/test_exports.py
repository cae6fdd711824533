"""M5 (exports): every CSV cell that a spreadsheet would run as a formula is escaped."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from controller import csvsafe
from controller.accounts import sessions
from controller.compliance import exports
from controller.settings import SecuritySettings, Settings

PAYLOAD = "=cmd|' /C calc'!A0"


def current_quarter() -> str:
    today = datetime.now(UTC).date()
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def test_typed_formula_lands_escaped_in_the_quarterly_csv(engine: Engine, settings: Settings,
                                                          tmp_path: Path) -> None:
    for typed in (PAYLOAD, "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3"):
        with pytest.raises(sessions.LoginRefused):
            sessions.check_password(engine, SecuritySettings(), typed, "x-wrong-1",
                                    client_addr="10.0.0.9")
    folder = exports.build_audit_package(engine, settings, current_quarter(), tmp_path,
                                         actor="chief")
    with (folder / "access-log.csv").open(newline="", encoding="utf-8") as handle:
        actors = [row["actor"] for row in csv.DictReader(handle)]
    assert "'" + PAYLOAD in actors and "'+1+1" in actors and "'-2+3" in actors
    assert not any(a.startswith(csvsafe.FORMULA_PREFIXES) for a in actors)
    with (folder / "flags.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            assert not any(v.startswith(csvsafe.FORMULA_PREFIXES) for v in row.values())
    # The JSON copy keeps what was typed, unchanged: only the CSV needs escaping.
    jsonl = [json.loads(x) for x in (folder / "access-log.jsonl").read_text().splitlines()]
    assert PAYLOAD in {x["actor"] for x in jsonl}
    assert exports.verify_manifest(folder) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.integers(), st.none()), max_size=6))
def test_no_written_cell_reads_back_as_a_formula(row: list[object]) -> None:
    buffer = io.StringIO(newline="")
    csvsafe.writer(buffer).writerow(row)
    back = next(csv.reader(io.StringIO(buffer.getvalue(), newline="")), [])
    for original, cell in zip(row, back, strict=False):
        if isinstance(original, str):  # numbers are written as numbers (-1 is not a formula)
            assert not cell.startswith(csvsafe.FORMULA_PREFIXES)
            assert cell in (original, "'" + original)


def test_dict_writer_escapes_values_not_headers() -> None:
    buffer = io.StringIO(newline="")
    writer = csvsafe.dict_writer(buffer, ["a", "b"])
    writer.writeheader()
    writer.writerows([{"a": "\tTAB", "b": "\rCR"}, {"a": "plain", "b": 7}])
    rows = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert rows == [["a", "b"], ["'\tTAB", "'\rCR"], ["plain", "7"]]
