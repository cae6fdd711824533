"""What a camera pipeline hands the writer: one read with its images and hits, typed.

The writer journals each item as one JSON line (``WriterItem.to_json``) and turns it
into the store's rows (``WriterItem.row``) only at the store boundary. The JSON is the
journal format written before these records existed (``{"read", "images", "hits"}``,
times as ISO 8601), so a spool left by an older version still replays.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from controller.store.images import StoredImage

# An image of a read (crop or overview) as written under the data directory.
ImageRecord = StoredImage

# Keys of a hit's entry snapshot copied from the hotlist entry, in the journal's order.
DETAIL_KEYS = ("category", "reason", "ncic_number", "ori", "plate_state", "alert_note")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class EntryDetails:
    """A hotlist entry's particulars, copied into each hit it raises (kept if it expires)."""

    category: str | None
    reason: str | None = None
    ncic_number: str | None = None
    ori: str | None = None
    plate_state: str | None = None
    alert_note: str | None = None
    expires_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EntryDetails:
        """From a hotlist entry row (``store.hotlists``)."""
        return cls(category=row.get("category"), reason=row.get("reason"),
                   ncic_number=row.get("ncic_number"), ori=row.get("ori"),
                   plate_state=row.get("plate_state"), alert_note=row.get("alert_note"),
                   expires_at=row.get("expires_at"))


@dataclass(frozen=True, slots=True)
class HitRecord:
    """A read matched a hotlist entry: the hit, with the entry as it was matched."""

    uuid: str
    hotlist_entry_id: int | None
    list_name: str | None
    listed_plate: str | None
    match: str | None
    vote_margin: float | None
    details: EntryDetails | None

    def entry(self) -> dict[str, Any]:
        """The snapshot stored with the hit (the ``hits.entry`` JSON column)."""
        snapshot: dict[str, Any] = {"list": self.list_name, "plate": self.listed_plate,
                                    "match": self.match, "vote_margin": self.vote_margin}
        details = self.details
        if details is not None:
            for key in DETAIL_KEYS:
                snapshot[key] = getattr(details, key)
            snapshot["expires_at"] = details.expires_at.isoformat() if details.expires_at \
                else None
        return snapshot

    def to_dict(self) -> dict[str, Any]:
        """The hit as the journal and the store have it."""
        return {"uuid": self.uuid, "hotlist_entry_id": self.hotlist_entry_id,
                "entry": self.entry()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HitRecord:
        """From ``to_dict``'s shape (a journal line)."""
        entry = data.get("entry") or {}
        details = None
        if "category" in entry:  # the entry was found when the read was matched
            details = EntryDetails.from_row({**entry,
                                             "expires_at": _time(entry.get("expires_at"))})
        return cls(uuid=str(data["uuid"]), hotlist_entry_id=data.get("hotlist_entry_id"),
                   list_name=entry.get("list"), listed_plate=entry.get("plate"),
                   match=entry.get("match"), vote_margin=entry.get("vote_margin"),
                   details=details)


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """A plate read at a camera: what was read, where, when, and how sure."""

    uuid: str
    plate: str
    raw_text: str
    confidence: float
    char_confidences: tuple[float, ...]
    camera_id: int
    site_id: int
    seen_at: datetime
    created_at: datetime
    direction: str | None = None
    box: tuple[int, ...] | None = None
    latitude: float | None = None
    longitude: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``reads`` row (times as datetimes)."""
        return {"uuid": self.uuid, "plate": self.plate, "raw_text": self.raw_text,
                "confidence": self.confidence, "char_confidences": list(self.char_confidences),
                "camera_id": self.camera_id, "site_id": self.site_id, "seen_at": self.seen_at,
                "direction": self.direction,
                "box": list(self.box) if self.box is not None else None,
                "latitude": self.latitude, "longitude": self.longitude,
                "created_at": self.created_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReadRecord:
        """From a journal line's ``read`` (times in ISO 8601)."""
        box = data.get("box")
        return cls(uuid=str(data["uuid"]), plate=data["plate"], raw_text=data["raw_text"],
                   confidence=data["confidence"],
                   char_confidences=tuple(data.get("char_confidences") or ()),
                   camera_id=data["camera_id"], site_id=data["site_id"],
                   seen_at=datetime.fromisoformat(data["seen_at"]),
                   created_at=datetime.fromisoformat(data["created_at"]),
                   direction=data.get("direction"),
                   box=tuple(box) if box is not None else None,
                   latitude=data.get("latitude"), longitude=data.get("longitude"))


@dataclass(frozen=True, slots=True)
class WriterItem:
    """One unit of the writer's batch: a read, its images and its hits, stored together."""

    read: ReadRecord
    images: tuple[ImageRecord, ...] = ()
    hits: tuple[HitRecord, ...] = ()

    def row(self) -> dict[str, Any]:
        """The item as ``store.hits.write_reads`` takes it."""
        return {"read": self.read.to_dict(), "images": [i.as_row() for i in self.images],
                "hits": [h.to_dict() for h in self.hits]}

    def to_json(self) -> str:
        """One journal line (no newline)."""
        row = self.row()
        read = row["read"]
        for key in ("seen_at", "created_at"):
            read[key] = read[key].isoformat()
        return json.dumps(row, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> WriterItem:
        """Parse a journal line, including one written before these records existed."""
        data = json.loads(line)
        return cls(read=ReadRecord.from_dict(data["read"]),
                   images=tuple(StoredImage(**image) for image in data.get("images", ())),
                   hits=tuple(HitRecord.from_dict(hit) for hit in data.get("hits", ())))
