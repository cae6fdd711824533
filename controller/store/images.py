"""Read images (plate crop, masked overview) as JPEG files under the data directory."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from controller.errors import ValidationError
from controller.permissions import private_dir, write_private

JPEG_QUALITY = 90


@dataclass(frozen=True)
class StoredImage:
    """Where an image was written and its SHA-256 (recorded in read_images)."""

    kind: str
    path: str  # relative to the data directory
    sha256: str
    width: int
    height: int

    def as_row(self) -> dict[str, object]:
        """Columns for the read_images table."""
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256,
                "width": self.width, "height": self.height}


class ImageStore:
    """Writes and resolves read images; no path from outside reaches the disk unchecked."""

    def __init__(self, data_dir: Path) -> None:
        self.root = (data_dir / "images").resolve()

    def write(self, read_uuid: str, kind: str, image: np.ndarray, seen_at: datetime) -> StoredImage:
        """Encode ``image`` as JPEG and write it atomically; return its record."""
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValidationError("image", f"could not encode the {kind} of read {read_uuid}")
        data = buffer.tobytes()
        relative = Path(seen_at.strftime("%Y/%m/%d")) / f"{read_uuid}-{kind}.jpg"
        target = self.root / relative
        # Plates and cars are personal data: owner-only from the first byte (0700/0600).
        private_dir(target.parent)
        partial = target.with_suffix(".part")
        try:
            write_private(partial, data)
            partial.replace(target)
        except OSError:
            partial.unlink(missing_ok=True)  # a disk full: leave no partial file behind
            raise
        return StoredImage(kind, str(Path("images") / relative), hashlib.sha256(data).hexdigest(),
                           int(image.shape[1]), int(image.shape[0]))

    def resolve(self, data_dir: Path, relative: str) -> Path:
        """The file for a stored relative path, refusing anything outside the image folder."""
        candidate = (data_dir / relative).resolve()
        if not candidate.is_relative_to(self.root):
            raise ValidationError("path", "not an image of this Sightline")
        return candidate
