"""The agency that runs this system: its name on the sign-in notice and every page, and
the time zone every time is shown and entered in (stored times stay UTC).

These are the defaults: the administrator's agency profile in the database (first-run
page, ``controller.compliance.agency``) overrides them field by field.
"""

from __future__ import annotations

import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from controller.settings.base import Section


class AgencySettings(Section):
    """Who operates this ALPR system (shown to users, never hard-coded in pages)."""

    name: str = Field(
        default="Police Department", min_length=1, max_length=120, title="Agency name",
        description="Full name of the operating agency, shown on the system-use notice at "
                    "sign-in and on the home page, e.g. 'Westmorland Police Department'.",
    )

    time_zone: str = Field(
        default="UTC", min_length=1, max_length=64, title="Time zone",
        description="IANA time zone of the agency, e.g. 'America/Los_Angeles': times are "
                    "shown and entered in it, with the zone named; stored times stay UTC.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        value = value.strip()
        # ZoneInfo opens a file named by the key: a plain IANA name only.
        if value.startswith(("/", ".")) or ".." in value or not value.isascii():
            raise ValueError("enter an IANA time zone such as America/Los_Angeles")
        try:
            return str(ZoneInfo(value).key)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone "
                             "(such as America/Los_Angeles)") from None

    @field_validator("name")
    @classmethod
    def _printable_one_line(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("agency name must not be blank")
        if any(unicodedata.category(ch).startswith("C") for ch in value):
            raise ValueError("agency name must not contain control characters")
        return value
