"""``sightline audit verify``: the audit chain checked with its key and against every anchor.

The walk names the first fault it finds:

- a row missing from the sequence, a broken ``prev_hash`` link, a row whose
  content does not match its keyed hash (edited, or re-hashed without the key),
  a row earlier than the one before it (backdated);
- a chain head in the database that disagrees with the last row;
- an anchor line that is unsigned or forged, out of sequence (a line deleted),
  or that records a row the log no longer has (cut from the end, wiped) or no
  longer has with that hash (rewritten, reordered), or another start of the
  keyed chain (legacy rows widened);
- an ``audit.anchor`` row naming an anchor the file does not have (its last
  line deleted).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from controller.audit import GENESIS, ChainReport, anchors, chain_hash, legacy_hash
from controller.store import Engine
from controller.store import audit as repo


class _Broken(Exception):
    """The first fault found; carries the report to return."""

    def __init__(self, report: ChainReport) -> None:
        super().__init__(report.reason)
        self.report = report


@dataclass
class _Walk:
    """What the chain walk keeps for the anchor checks."""

    rows: int = 0
    legacy: int = 0
    last_hash: str = GENESIS
    hashes: dict[int, str] = field(default_factory=dict)
    anchor_rows: list[tuple[int, int]] = field(default_factory=list)


def _anchor_number(row: Mapping[str, Any]) -> int | None:
    data = row["data"]
    if row["action"] != "audit.anchor" or not isinstance(data, dict):
        return None
    number = data.get("anchor")
    return number if isinstance(number, int) else None


def _walk(engine: Engine, key: bytes, start: int, wanted: set[int]) -> _Walk:
    walk = _Walk()
    prev_at: datetime | None = None

    def broken(row_id: int, reason: str) -> _Broken:
        return _Broken(ChainReport(False, walk.rows, row_id, reason, legacy_rows=walk.legacy))

    for row in repo.scan(engine):
        walk.rows += 1
        row_id = int(row["id"])
        if row_id != walk.rows:
            raise broken(walk.rows, f"row {walk.rows} is missing")
        if row["prev_hash"] != walk.last_hash:
            raise broken(row_id, "previous-hash link does not match")
        keyed = row_id >= start
        expected = chain_hash(key, walk.last_hash, row) if keyed else legacy_hash(
            walk.last_hash, row)
        if not hmac.compare_digest(expected, str(row["hash"])):
            rule = "keyed HMAC" if keyed else "SHA-256, a row from before the keyed chain"
            raise broken(row_id, f"content does not match its hash ({rule})")
        if prev_at is not None and row["at"] < prev_at:
            raise broken(row_id, f"time goes backwards: {row['at'].isoformat()} is before "
                                 f"row {row_id - 1} ({prev_at.isoformat()}): backdated")
        walk.legacy += 0 if keyed else 1
        if row_id in wanted:
            walk.hashes[row_id] = str(row["hash"])
        number = _anchor_number(row)
        if number is not None:
            walk.anchor_rows.append((row_id, number))
        walk.last_hash, prev_at = str(row["hash"]), row["at"]
    return walk


def _check_anchor(key: bytes, line: anchors.AnchorLine, index: int, prev: Mapping[str, Any],
                  *, start: int, walk: _Walk) -> tuple[int | None, str]:
    """``(row, reason)`` for the first fault of one anchor line, or ``(None, "")``."""
    fields = line.fields
    if fields is None or not anchors.signature_ok(key, fields):
        return None, "signature does not match (the line was edited or forged)"
    if fields["seq"] != index:
        return None, (f"holds anchor {fields['seq']} where anchor {index} belongs "
                      "(anchor lines before it are missing: deleted)")
    if fields["prev"] != prev.get("mac", anchors.NO_ANCHOR):
        return None, "does not follow the anchor before it (anchor lines deleted or changed)"
    if prev and (fields["row_id"] < prev["row_id"] or fields["anchored_at"] < prev["anchored_at"]):
        return None, "goes backwards from the anchor before it"
    if fields["keyed_from"] != start:
        return None, (f"records the keyed chain starting at row {fields['keyed_from']}; "
                      f"the database says row {start}")
    row_id = int(fields["row_id"])
    if row_id > walk.rows:
        return walk.rows + 1, (f"records row {row_id} but the log ends at row {walk.rows}: "
                               "rows were removed")
    if walk.hashes.get(row_id) != fields["hash"]:
        return row_id, f"row {row_id} does not match its anchored hash (rewritten or reordered)"
    return None, ""


def _check_anchors(key: bytes, lines: list[anchors.AnchorLine], start: int,
                   walk: _Walk) -> None:
    prev: Mapping[str, Any] = {}
    for index, line in enumerate(lines, start=1):
        row_id, reason = _check_anchor(key, line, index, prev, start=start, walk=walk)
        if reason:
            raise _Broken(ChainReport(False, walk.rows, row_id,
                                      f"anchor line {line.line}: {reason}", len(lines),
                                      line.line, walk.legacy))
        prev = line.fields or {}


def _check_anchor_rows(directory: Path, lines: list[anchors.AnchorLine], walk: _Walk) -> None:
    numbers = {int(a.fields["seq"]) for a in lines if a.fields is not None}
    missing = [(row, n) for row, n in walk.anchor_rows if n not in numbers]
    if missing:
        # An anchor being written while we read: its line may be there now.
        numbers = {int(a.fields["seq"]) for a in anchors.read_anchors(directory)
                   if a.fields is not None}
        missing = [(row, n) for row, n in missing if n not in numbers]
    if missing:
        row, number = missing[0]
        raise _Broken(ChainReport(
            False, walk.rows, row, f"row {row} records anchor {number}, which is missing from "
            f"{anchors.anchor_file(directory)} (anchor lines were deleted)", len(lines), number,
            walk.legacy))


def verify_chain(engine: Engine, key: bytes, directory: Path | None) -> ChainReport:
    """Check the chain with ``key``, the head, and (given a directory) every anchor."""
    start = repo.keyed_from(engine)
    lines = anchors.read_anchors(directory) if directory is not None else []
    wanted = {int(a.fields["row_id"]) for a in lines
              if a.fields is not None and isinstance(a.fields.get("row_id"), int)}
    try:
        walk = _walk(engine, key, start, wanted)
        last_id, last_hash = repo.head(engine)
        if last_id != walk.rows or last_hash != walk.last_hash:
            raise _Broken(ChainReport(
                False, walk.rows, walk.rows + 1, f"chain head records row {last_id}; rows after "
                f"{walk.rows} were removed", legacy_rows=walk.legacy))
        if directory is not None:
            _check_anchors(key, lines, start, walk)
            _check_anchor_rows(directory, lines, walk)
    except _Broken as found:
        return found.report
    return ChainReport(True, walk.rows, anchors=len(lines), legacy_rows=walk.legacy)
