"""The agency that runs this system: its name on the sign-in notice and every page."""

from __future__ import annotations

import unicodedata

from pydantic import Field, field_validator

from controller.settings.base import Section


class AgencySettings(Section):
    """Who operates this ALPR system (shown to users, never hard-coded in pages)."""

    name: str = Field(
        default="Police Department", min_length=1, max_length=120, title="Agency name",
        description="Full name of the operating agency, shown on the system-use notice at "
                    "sign-in and on the home page, e.g. 'Westmorland Police Department'.",
    )

    @field_validator("name")
    @classmethod
    def _printable_one_line(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("agency name must not be blank")
        if any(unicodedata.category(ch).startswith("C") for ch in value):
            raise ValueError("agency name must not contain control characters")
        return value
