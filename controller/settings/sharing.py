"""Data-sharing settings (462.12, California AG bulletin 2023-DLE-06)."""

from __future__ import annotations

from pydantic import Field

from controller.settings.base import Section


class SharingSettings(Section):
    """Which agencies requests may come from."""

    home_state: str = Field(
        default="CA", min_length=2, max_length=2, title="Home state",
        description="Two-letter state of this agency.",
    )
    allow_out_of_state: bool = Field(
        default=False, title="Allow out-of-state agencies",
        description="Civil Code 1798.90.55(b) as read by the AG: refused by default.",
    )
    allow_federal: bool = Field(
        default=False, title="Allow federal agencies",
        description="Federal agencies are refused by default (AG bulletin 2023-DLE-06).",
    )
