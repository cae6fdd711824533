"""The overview's live feeds (462.5): the newest reads and today's newest hits, with plates.

Both are plate data: each needs the caller's role (``reads.view``, ``hits.view``)
and open purpose window, and is audited with the window's purpose and case number.
The overview refreshes them every few seconds, so a list is logged when it changes,
not at every refresh (``purpose.record_shown``: ``read.feed`` lists the plates of
the reads shown, ``hit.latest`` those of the hits). A read's crop is opened through
``controller.search.views.read_image`` (``image.view``), like any read's image.
"""

from __future__ import annotations

from datetime import datetime

from controller.accounts import Caller, authorize, purpose
from controller.store import Engine
from controller.store import activity as activity_repo
from controller.store import hits as hit_repo
from controller.store import reads as read_repo
from controller.store.records import DescribedRead, HitRow

READS = "reads.view"
HITS = "hits.view"
READS_SHOWN = 12
HITS_SHOWN = 5


def recent_reads(engine: Engine, caller: Caller, *,
                 limit: int = READS_SHOWN) -> list[DescribedRead]:
    """The newest reads with their camera and images (``reads.view``, a purpose window);
    logged as ``read.feed`` when the list differs from the one last logged in the window."""
    authorize(engine, caller, READS, "read.feed")
    window = purpose.require(engine, caller)
    reads = read_repo.describe_reads(engine, activity_repo.latest_reads(engine, limit))
    purpose.record_shown(engine, caller, window, "read.feed",
                         shown=[str(r["uuid"]) for r in reads],
                         plates=[str(r["plate"]) for r in reads])
    return reads


def latest_hits(engine: Engine, caller: Caller, *, since: datetime,
                limit: int = HITS_SHOWN) -> list[HitRow]:
    """The newest hits raised since ``since`` (``hits.view``, a purpose window); logged as
    ``hit.latest`` when the list differs from the one last logged in the window."""
    authorize(engine, caller, HITS, "hit.latest")
    window = purpose.require(engine, caller)
    rows = hit_repo.list_hits(engine, since=since, limit=limit)
    purpose.record_shown(engine, caller, window, "hit.latest",
                         shown=[str(h["uuid"]) for h in rows],
                         plates=[str(h["plate"]) for h in rows])
    return rows
