"""Real-time hotlist matching (462.7): exact, OCR-confusion folded, and partial plates.

Only the characters OCR really confuses are folded (O/Q/D -> 0, I -> 1, B -> 8,
S -> 5, Z -> 2, G -> 6), never general edit distance: against a million-entry
list, edit distance 1 would flag about a quarter of all random reads.

The index is compact (one dict keyed by the folded plate pointing into flat
arrays) so that a million entries cost about 170 MB and a lookup about a
microsecond; partial entries (few, from major incidents) are one combined regex.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

FOLD = str.maketrans("OQDIBSZG", "00018526")
MatchKind = Literal["exact", "confusion", "partial"]


def fold(plate: str) -> str:
    """Map a plate to its OCR-confusion class."""
    return plate.translate(FOLD)


@dataclass(frozen=True)
class Match:
    """A read matched a hotlist entry: which entry, and how."""

    entry_id: int
    list_name: str
    listed_plate: str
    kind: MatchKind


class _Partial(NamedTuple):
    slot: int
    regex: re.Pattern[str]
    last: str | None
    length: int | None


def _partial_regex(pattern: str) -> str:
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)


class HotlistMatcher:
    """An immutable index of the active hotlist entries; rebuild it to change lists."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self._ids = array("q")
        self._plates: list[str] = []
        self._lists: list[str] = []
        self._index: dict[str, int | list[int]] = {}
        self._expires: dict[int, datetime] = {}
        partials: list[tuple[int, str]] = []
        names: dict[str, str] = {}
        for entry in entries:
            i = len(self._plates)
            plate = str(entry["plate"])
            self._ids.append(int(entry["id"]))
            self._plates.append(plate)
            list_name = str(entry["list_name"])
            self._lists.append(names.setdefault(list_name, list_name))
            if entry.get("expires_at") is not None:
                self._expires[i] = entry["expires_at"]
            if entry.get("is_partial"):
                partials.append((i, plate))
                continue
            key = fold(plate)
            slot = self._index.get(key)
            if slot is None:
                self._index[key] = i
            elif isinstance(slot, list):
                slot.append(i)
            else:
                self._index[key] = [slot, i]
        # Partials are bucketed by their first (folded) character, so a read only tries
        # the few patterns that can start like it (plus those starting with a wildcard);
        # a literal last character and a fixed length reject most before the regex runs.
        wild: list[_Partial] = []
        buckets: dict[str, list[_Partial]] = {}
        for i, pattern in partials:
            folded = fold(pattern)
            item = _Partial(i, re.compile(_partial_regex(folded)),
                            None if folded[-1] in "*?" else folded[-1],
                            None if "*" in folded else len(folded))
            if folded[0] in "*?":
                wild.append(item)
            else:
                buckets.setdefault(folded[0], []).append(item)
        self._partial_wild = tuple(wild)
        self._partial_for = {c: tuple(items) + self._partial_wild for c, items in buckets.items()}
        self._has_partials = bool(partials)

    def __len__(self) -> int:
        return len(self._plates)

    def _match(self, i: int, kind: MatchKind) -> Match:
        return Match(int(self._ids[i]), self._lists[i], self._plates[i], kind)

    def _live(self, i: int, now: datetime | None) -> bool:
        expires = self._expires.get(i)
        return expires is None or now is None or now <= expires

    def match(self, plate: str, now: datetime | None = None) -> list[Match]:
        """Every active entry the read ``plate`` matches (exact ones first)."""
        key = plate.translate(FOLD)
        slot = self._index.get(key)
        if slot is None and not self._has_partials:
            return []
        found: list[Match] = []
        if slot is not None:
            for i in (slot if isinstance(slot, list) else (slot,)):
                if self._live(i, now):
                    found.append(self._match(i, "exact" if self._plates[i] == plate
                                             else "confusion"))
            if len(found) > 1:
                found.sort(key=lambda m: m.kind != "exact")
        if self._has_partials:
            found.extend(self._partials(key, now))
        return found

    def _partials(self, key: str, now: datetime | None) -> list[Match]:
        found = []
        for p in self._partial_for.get(key[:1], self._partial_wild):
            if ((p.last is None or key[-1:] == p.last)
                    and (p.length is None or len(key) == p.length)
                    and p.regex.fullmatch(key) and self._live(p.slot, now)):
                found.append(self._match(p.slot, "partial"))
        return found
