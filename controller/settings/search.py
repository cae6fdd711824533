"""Search settings: the purposes a search may state (462.3, 462.7.1)."""

from __future__ import annotations

from pydantic import Field

from controller.settings.base import Section

DEFAULT_PURPOSES = (
    "Stolen vehicle investigation",
    "Stolen plate investigation",
    "Wanted person / warrant service",
    "Missing person",
    "Homeland security",
    "Suspect interdiction",
    "Stolen property recovery",
    "Major incident canvass",
    "Criminal investigation follow-up",
)


class SearchSettings(Section):
    """What an officer must state before a search runs."""

    purposes: tuple[str, ...] = Field(
        default=DEFAULT_PURPOSES, min_length=1, title="Search purposes",
        description="The list a searcher chooses the purpose from.",
    )
    case_number_required: bool = Field(
        default=True, title="Case number required",
        description="Refuse searches without a case number.",
    )
    max_results: int = Field(
        default=500, ge=1, le=10_000, title="Result limit",
        description="Most reads one search returns.",
    )
