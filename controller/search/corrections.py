"""Correcting a misread plate and annotating a read (Civil Code 1798.90.51: the accuracy of
ALPR information; policy 462.5: every change audited).

A correction records the plate as it really is and why; the read keeps the
value the camera recorded, so nothing stored is lost, and an exact search finds
the read under its current (latest) correction as well as under its original
plate. An annotation is a note on the read. Both are use cases taking a
``Caller`` (``reads.correct``) and both are audited with the read and the plates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from controller.accounts import Caller, authorize, record
from controller.errors import NotFound, ValidationError
from controller.store import Engine
from controller.store import corrections as repo
from controller.store import reads as read_repo
from controller.store.corrections import CorrectionRow
from controller.store.records import ReadRow
from controller.validation import required_text
from inference.plates import normalise

__all__ = [
    "CORRECT",
    "NOTE_LIMIT",
    "VIEW",
    "CorrectionRow",
    "annotate",
    "correct",
    "current_plate",
    "history",
]

VIEW = "reads.view"
CORRECT = "reads.correct"
NOTE_LIMIT = 500
PLATE = re.compile(r"^[A-Z0-9]{1,10}$")


def _read(engine: Engine, read_uuid: str) -> ReadRow:
    read = read_repo.get_by_uuid(engine, read_uuid)
    if read is None:
        raise NotFound(f"no read {read_uuid}")
    return read


def current_plate(read: Mapping[str, Any], rows: list[CorrectionRow]) -> str:
    """The plate as currently corrected (the original when never corrected)."""
    fixes = [r["plate"] for r in rows if r["kind"] == "correction" and r["plate"]]
    return str(fixes[-1]) if fixes else str(read["plate"])


def history(engine: Engine, caller: Caller, read_uuid: str) -> list[CorrectionRow]:
    """A read's corrections and annotations, oldest first (``reads.view``)."""
    authorize(engine, caller, VIEW, "read.corrections", data={"read": read_uuid})
    return repo.corrections_of(engine, read_uuid)


def correct(engine: Engine, caller: Caller, read_uuid: str, *, plate: str,
            reason: str) -> str:
    """Record the corrected plate of a misread read, with the reason (audited).

    Return the corrected plate. The read's original plate is kept.
    """
    authorize(engine, caller, CORRECT, "read.correct", data={"read": read_uuid})
    read = _read(engine, read_uuid)
    fixed = normalise(plate, typed=True)
    if not PLATE.match(fixed):
        raise ValidationError("plate", "the corrected plate is 1-10 letters and digits")
    why = required_text("reason", reason, NOTE_LIMIT)
    before = current_plate(read, repo.corrections_of(engine, read_uuid))
    if fixed == before:
        raise ValidationError("plate", f"the read already shows {fixed}")
    repo.add_correction(engine, read_uuid, kind="correction", plate=fixed, note=why,
                        actor=caller.username, now=datetime.now(UTC))
    record(engine, caller, "read.correct", plate=fixed,
           data={"read": read_uuid, "original": read["plate"], "before": before,
                 "corrected": fixed, "reason": why})
    return fixed


def annotate(engine: Engine, caller: Caller, read_uuid: str, *, note: str) -> None:
    """Add an annotation to a read (audited)."""
    authorize(engine, caller, CORRECT, "read.annotate", data={"read": read_uuid})
    read = _read(engine, read_uuid)
    text = required_text("note", note, NOTE_LIMIT)
    repo.add_correction(engine, read_uuid, kind="annotation", plate=None, note=text,
                        actor=caller.username, now=datetime.now(UTC))
    record(engine, caller, "read.annotate", plate=str(read["plate"]),
           data={"read": read_uuid, "note": text})
