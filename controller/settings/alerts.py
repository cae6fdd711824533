"""Alert settings: how hits become alerts for dispatch (462.7(7))."""

from __future__ import annotations

from pydantic import Field

from controller.settings.base import Section


class AlertSettings(Section):
    """How a plate's hits are grouped into one alert for dispatch."""

    join_minutes: int = Field(
        default=10, ge=1, le=240, title="Passage window (minutes)",
        description="A hit joins its plate's open alert when its read is within this many "
                    "minutes of the alert's sightings; otherwise it opens a new alert. Every "
                    "hit is still stored and forwarded to dispatch.")
    page_size: int = Field(
        default=25, ge=5, le=200, title="Alerts per page",
        description="How many alerts the hit queue shows on one page.")
