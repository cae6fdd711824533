"""Search settings: the purposes one may state, and how long a statement covers (462.3, 462.5)."""

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
    # 462.7(7): a hit is verified through CLETS before enforcement; dispatch opens it.
    "Hit verification through CLETS (462.7(7))",
    # 462.6: the administrator's quarterly audit reads the access log, which names plates.
    "Audit of system use (462.6)",
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
    page_size: int = Field(
        # A screen of results, not the whole ceiling: the page's rendering, its images'
        # lookup and its thumbnails grow with it, and the next page is one click away.
        default=100, ge=10, le=1_000, title="Results per page",
        description=("Reads on one page of search results in the web UI; older ones are "
                     "on the next pages (never more than the result limit)."),
    )
    purpose_window_minutes: int = Field(
        # A piece of work, not a shift: long enough to work a case or the hit queue, short
        # enough that one statement does not quietly cover the rest of the day (462.5).
        default=30, ge=1, le=480, title="Purpose window",
        description=("Minutes a stated purpose and case number cover the user's views of "
                     "plate data (reads, images, hits, searches, the audit log) before "
                     "they are asked again."),
    )
