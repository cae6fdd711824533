"""Opening a read and its images (462.5): every opening is audited; files are checked paths only.

Each opening needs the caller's open purpose window (``controller.accounts.purpose``)
and its audit entry names the window's purpose and case number. Images live under
the data directory; the stored relative path is resolved and must stay inside
``data_dir/images``, so neither a stored path nor anything in a URL can reach
another file. Thumbnails in a result list are authorised by the search's own audit
entry: the caller names that entry, and the read must be one the search returned to
the same user within ``THUMB_GRANT``; the first thumbnail of each kind a search's
page loads in a window writes one entry for the page (``image.thumbnails``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.accounts import Caller, authorize, purpose, record
from controller.errors import AccessDenied, NotFound
from controller.store import Engine
from controller.store import audit as audit_repo
from controller.store import reads as read_repo
from controller.store.records import DescribedRead

PERMISSION = "reads.view"
KINDS = ("crop", "overview")
THUMB_GRANT = timedelta(hours=12)
# Besides searches, the pages of the dispatch alert queue and of one alert list the reads
# they show in their audit entries (``controller.alerts.queue``), and so grant the same.
GRANTING_ACTIONS = ("alert.queue", "alert.view")
GRANTS_KEPT = 2048


@dataclass(frozen=True)
class SearchGrant:
    """What a search's audit entry allows: its user's thumbnails of the reads it returned."""

    actor: str
    at: datetime
    is_search: bool
    read_ids: frozenset[int]
    plate: str | None = None


class GrantCache:
    """The newest searches' grants, by audit entry number.

    Audit entries never change (the log is append-only, enforced by the database),
    so a grant read once stays true; a result page's thumbnails then cost no audit
    query and no parse of the entry's list of read ids each.
    """

    def __init__(self, size: int = GRANTS_KEPT) -> None:
        self.size = size
        self.grants: OrderedDict[int, SearchGrant] = OrderedDict()
        # (search entry, kind, window) whose thumbnails have been audited in this process.
        self.logged: OrderedDict[tuple[int, str, int], None] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, engine: Engine, event_id: int) -> SearchGrant | None:
        """The grant of audit entry ``event_id``, or None if there is no such entry."""
        with self.lock:
            grant = self.grants.get(event_id)
            if grant is not None:
                self.grants.move_to_end(event_id)
                return grant
        event = audit_repo.audit_event(engine, event_id)
        if event is None:
            return None
        grant = SearchGrant(
            actor=str(event["actor"]), at=event["at"],
            is_search=(str(event["action"]).startswith("search.")
                       or str(event["action"]) in GRANTING_ACTIONS)
            and event["outcome"] == "allowed",
            read_ids=frozenset(int(i) for i in (event["data"] or {}).get("read_ids", [])),
            plate=event["plate"])
        with self.lock:
            self.grants[event_id] = grant
            while len(self.grants) > self.size:
                self.grants.popitem(last=False)
        return grant

    def first_view(self, event_id: int, kind: str, window_id: int) -> bool:
        """Tell whether this is the first thumbnail of this kind of this search in this
        window (in this process: after a restart a page is logged once more, never less)."""
        key = (event_id, kind, window_id)
        with self.lock:
            if key in self.logged:
                return False
            self.logged[key] = None
            while len(self.logged) > self.size:
                self.logged.popitem(last=False)
        return True


def image_path(data_dir: Path, relative: str) -> Path:
    """The image file for a stored relative path; NotFound if it leaves data_dir/images."""
    root = (data_dir / "images").resolve()
    candidate = (data_dir / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise NotFound("image not found")
    return candidate


def _kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound("no such image kind")


def _read(engine: Engine, read_uuid: str) -> DescribedRead:
    row = read_repo.get_by_uuid(engine, read_uuid)
    if row is None:
        raise NotFound(f"no read {read_uuid}")
    return read_repo.describe_reads(engine, [row])[0]


def view_read(engine: Engine, caller: Caller, read_uuid: str) -> DescribedRead:
    """One read with its camera, site and images (``reads.view``, an open purpose window);
    audited as ``read.view`` with the window's purpose and case number."""
    authorize(engine, caller, PERMISSION, "read.view", data={"read": read_uuid})
    window = purpose.require(engine, caller)
    read = _read(engine, read_uuid)
    purpose.record_view(engine, caller, window, "read.view", plate=str(read["plate"]),
                        results=1, data={"read": read["uuid"]})
    return read


def read_image(engine: Engine, data_dir: Path, caller: Caller, read_uuid: str,
               kind: str) -> Path:
    """The file of a read's full-size image (``reads.view``); audited as ``image.view``."""
    authorize(engine, caller, PERMISSION, "image.view", data={"read": read_uuid, "kind": kind})
    _kind(kind)
    window = purpose.require(engine, caller)
    read = _read(engine, read_uuid)
    stored = read["images"].get(kind)
    if stored is None:
        raise NotFound(f"read {read_uuid} has no {kind} image")
    path = image_path(data_dir, str(stored["path"]))
    purpose.record_view(engine, caller, window, "image.view", plate=str(read["plate"]),
                        results=1, data={"read": read["uuid"], "kind": kind})
    return path


def _refuse(engine: Engine, caller: Caller, read_uuid: str, reason: str) -> AccessDenied:
    # Named like the web's own refusals: the quarterly flags count them as denied attempts.
    record(engine, caller, "access.denied", outcome="denied",
           data={"read": read_uuid, "reason": reason})
    return AccessDenied(reason)


def thumbnail(engine: Engine, data_dir: Path, caller: Caller, grants: GrantCache, *,
              read_uuid: str, kind: str, search_id: str) -> Path:
    """A thumbnail in a result list, authorised by the caller's own recent search.

    Needs an open purpose window. The search's audit entry lists the reads it
    returned; the first thumbnail of each kind the result page loads in a window
    writes one ``image.thumbnails`` entry (the search's plate or pattern, its rows,
    the window's purpose and case number), not one per image; a refused one is audited.
    """
    authorize(engine, caller, PERMISSION, "image.thumbnail", data={"read": read_uuid})
    _kind(kind)
    window = purpose.require(engine, caller)
    read = read_repo.read_image(engine, read_uuid, kind)
    if read is None:
        raise NotFound(f"no read {read_uuid}")
    try:
        event_id = int(search_id)
    except ValueError:
        raise _refuse(engine, caller, read_uuid,
                      "thumbnail without the search that returned it") from None
    grant = grants.get(engine, event_id)
    if grant is None or not (datetime.now(UTC) - grant.at < THUMB_GRANT and grant.is_search
                             and grant.actor == caller.username
                             and int(read["id"]) in grant.read_ids):
        raise _refuse(engine, caller, read_uuid,
                      "thumbnail not part of one of your recent searches")
    if read["path"] is None:
        raise NotFound(f"read {read_uuid} has no {kind} image")
    path = image_path(data_dir, str(read["path"]))
    if grants.first_view(event_id, kind, window.id):
        purpose.record_view(engine, caller, window, "image.thumbnails", plate=grant.plate,
                            results=len(grant.read_ids), data={"search": event_id, "kind": kind})
    return path
