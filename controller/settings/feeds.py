"""Hotlist feed settings: an official list fetched on a schedule (462.3, 462.7).

A feed names where its file comes from (a path on this machine, an HTTPS URL, or
an SFTP location), how its records are laid out (CSV with a column map, or
NCIC-style records, fixed-width or delimited, described by field codes), the
hotlist category its entries carry and how often it is fetched (twice a day by
default). Credentials are named by environment variable, never written here. A
source off this machine is encrypted: ``https://`` (plain ``http://`` only on
loopback, like the dispatch sinks) or SFTP with a known host key.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, field_validator, model_validator

from controller.settings.base import Section
from controller.settings.dispatch import is_loopback

# NCIC field codes a record may carry: license plate number, state, type and year,
# the NCIC number, the entering agency's ORI and case number, vehicle make and colour.
NCIC_CODES = ("LIC", "LIS", "LIT", "LIY", "NIC", "ORI", "OCA", "VMA", "VCO")
NcicCode = Literal["LIC", "LIS", "LIT", "LIY", "NIC", "ORI", "OCA", "VMA", "VCO"]
# A column of a delimited record that the feed carries and Sightline does not read.
SKIP = "-"
# The entry fields a CSV column can fill (controller.settings.hotlists.FIELDS).
CSV_FIELDS = ("plate", "state", "category", "reason", "ncic_number", "ori", "entered",
              "expires", "alert_note")
# The policy's hotlist categories (462.3) but partial plates, which are entered by hand
# for a major incident with an expiry; the schema's check constraint holds the same
# (controller.store.schema.HOTLIST_CATEGORIES, compared by tests/controller/test_feed_formats.py).
FeedCategory = Literal["stolen_vehicle", "stolen_plate", "wanted_warrant", "missing_person",
                       "homeland_security", "suspect_interdiction", "stolen_property"]
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
FEED_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"


class FileSource(Section):
    """A feed file dropped on this machine (by the state system's own transfer)."""

    kind: Literal["file"] = Field(title="Kind", description="file")
    path: Path = Field(title="Path", description="The feed file, read whole at each fetch.")


class HttpsSource(Section):
    """A feed downloaded over HTTPS, the server's certificate checked."""

    kind: Literal["https"] = Field(title="Kind", description="https")
    url: HttpUrl = Field(title="URL", description="https:// URL of the file; plain http:// "
                                                  "only for a server on this machine.")
    ca_file: Path | None = Field(
        default=None, title="CA bundle",
        description="PEM file of the certificate authority the server is checked against "
                    "(default: the system's).")
    username_env: str | None = Field(
        default=None, pattern=ENV_NAME, title="Username variable",
        description="Environment variable holding the HTTP Basic user name, if any.")
    password_env: str | None = Field(
        default=None, pattern=ENV_NAME, title="Password variable",
        description="Environment variable holding the HTTP Basic password.")

    @model_validator(mode="after")
    def _encrypted_off_loopback(self) -> HttpsSource:
        if self.url.scheme != "https" and not is_loopback(self.url.host):
            raise ValueError("url: a feed off this machine must use https:// (policy 462.10, "
                             "Civil Code 1798.90.51(a)); plain http:// is for loopback only")
        if self.url.username or self.url.password:
            raise ValueError("url: credentials are named by username_env and password_env, "
                             "never written in the URL")
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together")
        return self


class SftpSource(Section):
    """A feed read over SFTP, the server known by its host key, credentials from the
    environment."""

    kind: Literal["sftp"] = Field(title="Kind", description="sftp")
    host: str = Field(min_length=1, max_length=255, title="Host", description="SFTP server.")
    port: int = Field(default=22, ge=1, le=65535, title="Port", description="SSH port.")
    path: str = Field(min_length=1, max_length=500, title="Remote path",
                      description="Path of the feed file on the server.")
    known_hosts: Path = Field(
        title="Known hosts",
        description="OpenSSH known_hosts file holding the server's host key; a server whose "
                    "key is not there is refused (no trust on first use).")
    username_env: str = Field(pattern=ENV_NAME, title="Username variable",
                              description="Environment variable holding the user name.")
    password_env: str | None = Field(
        default=None, pattern=ENV_NAME, title="Password variable",
        description="Environment variable holding the password.")
    private_key_env: str | None = Field(
        default=None, pattern=ENV_NAME, title="Private key variable",
        description="Environment variable holding an unencrypted private key (OpenSSH or "
                    "PEM text).")

    @model_validator(mode="after")
    def _some_credential(self) -> SftpSource:
        if self.password_env is None and self.private_key_env is None:
            raise ValueError("name password_env or private_key_env (or both)")
        return self


class CsvFormat(Section):
    """Delimited text with a column map: which column holds which entry field."""

    kind: Literal["csv"] = Field(title="Kind", description="csv")
    delimiter: str = Field(default=",", min_length=1, max_length=1, title="Delimiter",
                           description="One character between fields.")
    header: bool = Field(default=True, title="Header row",
                         description="The first record names the columns.")
    columns: dict[str, str] = Field(
        title="Column map",
        description="Column -> entry field: the header's column name when header is true, "
                    f"else the column's number from 1. Fields: {', '.join(CSV_FIELDS)}; "
                    "plate is required.")

    @field_validator("columns", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        # YAML reads `1: plate` with an integer key.
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _valid_map(self) -> CsvFormat:
        fields = list(self.columns.values())
        unknown = sorted(set(fields) - set(CSV_FIELDS))
        if unknown:
            raise ValueError(f"columns: unknown field {unknown[0]!r} (use {', '.join(CSV_FIELDS)})")
        if "plate" not in fields:
            raise ValueError("columns: map one column to plate")
        if len(set(fields)) != len(fields):
            raise ValueError("columns: each field comes from one column")
        if not self.header and not all(k.isdigit() and int(k) >= 1 for k in self.columns):
            raise ValueError("columns: without a header row, name columns by number from 1")
        return self


class NcicField(Section):
    """Where one NCIC field lies in a fixed-width record."""

    code: NcicCode = Field(title="Field code", description=f"One of {', '.join(NCIC_CODES)}.")
    start: int = Field(ge=1, le=4096, title="Start", description="First column, from 1.")
    width: int = Field(ge=1, le=64, title="Width", description="Characters.")


class NcicFixedFormat(Section):
    """NCIC-style fixed-width records: each field at its columns, every line one record."""

    kind: Literal["ncic-fixed"] = Field(title="Kind", description="ncic-fixed")
    fields: tuple[NcicField, ...] = Field(min_length=1, title="Fields",
                                          description="The record layout; LIC is required.")
    record_length: int | None = Field(
        default=None, ge=1, le=4096, title="Record length",
        description="Characters in a record (default: where the last field ends). A line of "
                    "another length is rejected, so a cut record never loads as a shorter "
                    "plate.")

    @model_validator(mode="after")
    def _layout(self) -> NcicFixedFormat:
        codes = [f.code for f in self.fields]
        if "LIC" not in codes:
            raise ValueError("fields: a record needs LIC (the plate)")
        if len(set(codes)) != len(codes):
            raise ValueError("fields: each code appears once")
        spans = sorted((f.start, f.start + f.width) for f in self.fields)
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise ValueError("fields: two fields overlap")
        if self.record_length is not None and self.record_length < spans[-1][1] - 1:
            raise ValueError("record_length: shorter than where the last field ends")
        return self

    def length(self) -> int:
        """Characters in one record."""
        return self.record_length or max(f.start + f.width - 1 for f in self.fields)


class NcicDelimitedFormat(Section):
    """NCIC-style delimited records: the field codes in column order."""

    kind: Literal["ncic-delimited"] = Field(title="Kind", description="ncic-delimited")
    delimiter: str = Field(default="|", min_length=1, max_length=1, title="Delimiter",
                           description="One character between fields.")
    fields: tuple[NcicCode | Literal["-"], ...] = Field(
        min_length=1, title="Fields",
        description="Field codes in column order; '-' for a column Sightline does not read. "
                    "LIC is required.")

    @model_validator(mode="after")
    def _layout(self) -> NcicDelimitedFormat:
        codes = [c for c in self.fields if c != SKIP]
        if "LIC" not in codes:
            raise ValueError("fields: a record needs LIC (the plate)")
        if len(set(codes)) != len(codes):
            raise ValueError("fields: each code appears once")
        if self.delimiter.isalnum() or self.delimiter in "\r\n":
            raise ValueError("delimiter: a letter, digit or line break cannot separate fields")
        return self


FeedSource = Annotated[FileSource | HttpsSource | SftpSource, Field(discriminator="kind")]
FeedFormat = Annotated[CsvFormat | NcicFixedFormat | NcicDelimitedFormat,
                       Field(discriminator="kind")]


class HotlistFeed(Section):
    """An official hotlist fetched on a schedule; each fetch is a new version of the list."""

    name: str = Field(pattern=FEED_NAME, title="Name",
                      description="The feed and the hotlist it fills (an official feed: in "
                                  "force without approval).")
    source: FeedSource = Field(title="Source", description="Where the file comes from.")
    format: FeedFormat = Field(title="Format", description="How its records are laid out.")
    category: FeedCategory = Field(
        default="stolen_vehicle", title="Category",
        description="Hotlist category of the entries (a CSV category column overrides it).")
    every_minutes: int = Field(default=720, ge=5, le=10_080, title="Schedule",
                               description="Minutes between fetches (default twice a day).")
    stale_after_minutes: int | None = Field(
        default=None, ge=5, le=20_160, title="Stale after",
        description="A list whose last good fetch is older is reported stale (default: the "
                    "schedule plus an hour).")
    timeout_seconds: float = Field(default=120.0, gt=0, le=3600, title="Timeout",
                                   description="Longest a download may take.")
    max_bytes: int = Field(default=256 * 1024 * 1024, ge=1, le=1024 * 1024 * 1024,
                           title="Size ceiling", description="Largest file accepted, in bytes.")
    max_rejected_ratio: float = Field(
        default=0.05, ge=0, le=1, title="Rejected lines ceiling",
        description="Share of records that may be rejected; above it the fetch fails and the "
                    "active list is kept.")
    max_removed_ratio: float = Field(
        default=0.5, ge=0, le=1, title="Shrink ceiling",
        description="Share of the active list one fetch may remove; above it the file is taken "
                    "for a cut one, the fetch fails and the active list is kept (1: no limit).")

    def stale_after(self) -> int:
        """Minutes after the last good fetch from which the list is stale."""
        return self.stale_after_minutes or self.every_minutes + 60
