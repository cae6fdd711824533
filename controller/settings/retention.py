"""Retention settings (462.8, 462.10): never below the policy's two years."""

from __future__ import annotations

from pydantic import Field

from controller.settings.base import Section

POLICY_MINIMUM_DAYS = 730


class RetentionSettings(Section):
    """How long reads are kept before a purge may be proposed."""

    days: int = Field(
        default=POLICY_MINIMUM_DAYS, ge=POLICY_MINIMUM_DAYS, title="Retention period",
        description="Days a read is kept (policy 462.8: at least 730).",
    )
    proposal_hour_utc: int = Field(
        default=3, ge=0, le=23, title="Proposal hour",
        description="Hour (UTC) at which the daily purge-proposal job runs.",
    )
