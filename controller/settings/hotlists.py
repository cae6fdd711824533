"""Hotlist settings: how files are read and what a bad row does (462.3, 462.7)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from controller.settings.base import Section
from controller.settings.feeds import CSV_FIELDS, HotlistFeed

# The entry fields a hotlist file's columns can fill.
FIELDS = CSV_FIELDS


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
    feeds: tuple[HotlistFeed, ...] = Field(
        default=(), title="Feeds",
        description="Official hotlists fetched on a schedule from a file, an HTTPS URL or "
                    "an SFTP server (each is an official feed).")
    official_feeds: tuple[str, ...] = Field(
        default=(), title="Official feeds",
        description="Names of the lists that are official feeds (such as the state's NCIC "
                    "extract): they import without approval. Any other list is entered by "
                    "hand and needs a case number, a reason, an expiry and a second "
                    "administrator's approval before it raises hits (policy 462.7.1(2)(3)). "
                    "A configured feed is an official feed.")

    @model_validator(mode="before")
    @classmethod
    def _sources_renamed(cls, value: Any) -> Any:
        if isinstance(value, dict) and "sources" in value:
            raise ValueError("sources: scheduled sources are now feeds (hotlists.feeds: name, "
                             "source, format, schedule; see README.md, Hotlist feeds)")
        return value

    @field_validator("feeds")
    @classmethod
    def _one_feed_per_list(cls, value: tuple[HotlistFeed, ...]) -> tuple[HotlistFeed, ...]:
        names = [feed.name for feed in value]
        if len(set(names)) != len(names):
            raise ValueError("two feeds have the same name (each feed fills its own list)")
        return value

    @field_validator("official_feeds")
    @classmethod
    def _feed_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name.strip() or len(name) > 128:
                raise ValueError("an official feed is named by its list name (1-128 characters)")
        return value

    def is_official(self, list_name: str) -> bool:
        """Tell whether ``list_name`` is an official feed (named here, or a configured feed)."""
        return list_name in self.official_names()

    def official_names(self) -> frozenset[str]:
        """Every list that is an official feed: those named here and the configured feeds."""
        return frozenset(self.official_feeds) | {feed.name for feed in self.feeds}

    def feed(self, name: str) -> HotlistFeed | None:
        """The configured feed called ``name``, if any."""
        return next((feed for feed in self.feeds if feed.name == name), None)
