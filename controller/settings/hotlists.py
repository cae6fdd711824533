"""Hotlist settings: how files are read and what a bad row does (462.3, 462.7)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from controller.settings.base import Section

FIELDS = ("plate", "state", "category", "reason", "ncic_number", "ori", "entered", "expires",
          "alert_note")


class HotlistSource(Section):
    """A hotlist refreshed on a schedule from a file or an HTTPS URL."""

    name: str = Field(min_length=1, max_length=128, title="List name",
                      description="Name of the hotlist the source feeds.")
    location: str = Field(min_length=1, title="Location",
                          description="A file path or an https:// URL.")
    every_minutes: int = Field(default=60, ge=1, le=10_080, title="Refresh interval",
                               description="Minutes between refreshes.")
    ca_file: Path | None = Field(
        default=None, title="CA bundle",
        description="PEM file of the certificate authority an https:// source is checked "
                    "against (default: the system's).")

    @field_validator("location")
    @classmethod
    def _https_or_path(cls, value: str) -> str:
        if "://" in value and not value.startswith("https://"):
            raise ValueError("a URL source must use https://")
        return value


class HotlistSettings(Section):
    """Parsing and refresh rules for hotlists."""

    on_bad_row: Literal["skip", "refuse"] = Field(
        default="skip", title="Bad rows",
        description="skip: import without the bad rows (each reported with its line); "
                    "refuse: refuse the whole file, keeping the active list.")
    column_map: tuple[str, ...] = Field(
        default=("plate", "state", "category", "ncic_number", "ori", "entered", "expires",
                 "alert_note"),
        title="Column map",
        description=f"Column order of files without a header; names from {', '.join(FIELDS)}.")
    default_category: str = Field(
        default="stolen_vehicle", title="Default category",
        description="Category of rows that give none (plain plate-per-line files).")
    sources: tuple[HotlistSource, ...] = Field(
        default=(), title="Scheduled sources",
        description="Hotlists refreshed on a schedule.")
