"""The audit chain's anchors: signed chain heads in an append-only file outside the database.

Each line of ``audit-anchors.jsonl`` is one JSON object: its sequence number
``seq`` (1, 2, ...), the anchored row (``row_id``, ``hash``, ``at``), where the keyed
chain starts (``keyed_from``), when it was written (``anchored_at``), the previous
line's signature (``prev``) and its own ``mac``: HMAC-SHA256 with the audit key
over the canonical JSON of the other fields. Deleting or editing a line breaks
the next line's ``prev`` or its own ``mac``; the key is not in the database, so
someone with only database access can neither forge a line nor re-sign a rewrite.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.permissions import open_append, private_dir

ANCHOR_FILE = "audit-anchors.jsonl"
NO_ANCHOR = "0" * 64
FIELDS = ("seq", "row_id", "hash", "at", "keyed_from", "anchored_at", "prev")


@dataclass(frozen=True)
class AnchorLine:
    """One line of the anchor file as read back (``fields`` is None when unreadable)."""

    line: int
    fields: Mapping[str, Any] | None


def sign(key: bytes, fields: Mapping[str, Any]) -> str:
    """The HMAC-SHA256 of an anchor's fields (every field but ``mac``), hex."""
    canonical = json.dumps({f: fields[f] for f in FIELDS}, sort_keys=True,
                           separators=(",", ":"))
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_ok(key: bytes, fields: Mapping[str, Any]) -> bool:
    """Tell whether an anchor line carries every field and a valid signature."""
    if not all(f in fields for f in FIELDS) or not isinstance(fields.get("mac"), str):
        return False
    return hmac.compare_digest(sign(key, fields), str(fields["mac"]))


def anchor_file(directory: Path) -> Path:
    """The anchor file inside ``directory``."""
    return directory / ANCHOR_FILE


def _parse(text: str) -> list[AnchorLine]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            fields = json.loads(raw)
        except json.JSONDecodeError:
            fields = None
        lines.append(AnchorLine(number, fields if isinstance(fields, dict) else None))
    return lines


def read_anchors(directory: Path) -> list[AnchorLine]:
    """Every line of the anchor file in order (empty when there is none yet)."""
    path = anchor_file(directory)
    if not path.exists():
        return []
    return _parse(path.read_text(encoding="utf-8"))


def append_anchor(directory: Path, key: bytes,
                  head: Callable[[int], Mapping[str, Any]]) -> dict[str, Any]:
    """Append one signed anchor; ``head(seq)`` returns the anchored row's fields.

    The file is locked (``flock``) from reading the last line to writing the new
    one, so two writers cannot give two lines the same sequence number; it is
    opened with ``O_APPEND`` and never rewritten.
    """
    private_dir(directory, enforce=True)
    fd = open_append(anchor_file(directory))
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        existing = [a for a in _parse(handle.read()) if a.fields is not None]
        last = existing[-1].fields if existing else None
        seq = int(last["seq"]) + 1 if last else 1
        fields: dict[str, Any] = {**head(seq), "seq": seq,
                                  "prev": str(last["mac"]) if last else NO_ANCHOR}
        fields["mac"] = sign(key, fields)
        handle.write(json.dumps(fields, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return fields
