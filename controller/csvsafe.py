"""CSV that a spreadsheet will not execute: formula prefixes escaped (OWASP CSV injection).

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by Excel, LibreOffice and Google Sheets; an access log full of
typed usernames and purposes must open as text. Following OWASP, such a cell is
prefixed with a single quote (the ``csv`` module then quotes it as needed, and
doubles any embedded double quote). Every CSV Sightline writes goes through
:func:`writer` or :func:`dict_writer`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value as it is safe to write to a CSV cell (only strings are changed)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`cell`."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row of cells."""
        self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write several rows."""
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose every value goes through :func:`cell`."""

    def __init__(self, handle: IO[str], fieldnames: Sequence[str]) -> None:
        self._writer = csv.DictWriter(handle, fieldnames)

    def writeheader(self) -> None:
        """Write the header row (field names are ours, not user input)."""
        self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> None:
        """Write one row from a mapping."""
        self._writer.writerow({k: cell(v) for k, v in row.items()})

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write several rows."""
        for row in rows:
            self.writerow(row)


def writer(handle: IO[str]) -> SafeWriter:
    """A formula-safe CSV writer on ``handle`` (opened with ``newline=""``)."""
    return SafeWriter(handle)


def dict_writer(handle: IO[str], fieldnames: Sequence[str]) -> SafeDictWriter:
    """A formula-safe CSV dict writer on ``handle`` (opened with ``newline=""``)."""
    return SafeDictWriter(handle, fieldnames)
