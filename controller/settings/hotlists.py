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
        description="Hotlists refreshed on a schedule (each is an official feed).")
    official_feeds: tuple[str, ...] = Field(
        default=(), title="Official feeds",
        description="Names of the lists that are official feeds (such as the state's NCIC "
                    "extract): they import without approval. Any other list is entered by "
                    "hand and needs a case number, a reason, an expiry and a second "
                    "administrator's approval before it raises hits (policy 462.7.1(2)(3)). "
                    "A scheduled source is an official feed.")

    @field_validator("official_feeds")
    @classmethod
    def _feed_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name.strip() or len(name) > 128:
                raise ValueError("an official feed is named by its list name (1-128 characters)")
        return value

    def is_official(self, list_name: str) -> bool:
        """Tell whether ``list_name`` is an official feed (named here, or a scheduled source)."""
        return list_name in self.official_feeds or any(s.name == list_name
                                                       for s in self.sources)
