"""Searching reads (462.7): the form, and the results of ``controller.search.queries``.

The use case checks purpose, case number and attestation and writes the audit
entry (refused or run); this blueprint turns the form into a ``SearchForm`` and
renders the results, whose thumbnails the entry's number then authorises. The form
comes filled with the user's open purpose window, so a search under it asks nothing
again; changing the purpose or case number states a new one (with the attestation).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl, quote, urlencode

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from controller.accounts import purpose
from controller.errors import SightlineError
from controller.search import CameraChoice, DescribedRead, queries
from web import paging
from web.agency import form_time
from web.forms import on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("search", __name__)

# Stands for a read's uuid in link patterns built once per result page.
READ_SLOT = "READ-UUID-SLOT"


def _page(cameras: list[CameraChoice] | None = None, **context: Any) -> str:
    config = settings()
    return render_template("search/index.html", purposes=config.search.purposes,
                           case_required=config.search.case_number_required,
                           window=purpose.current(engine(), caller()),
                           cameras=cameras if cameras is not None
                           else queries.camera_choices(engine()), **context)


def _refused(exc: SightlineError) -> str:
    return _page(form=request.form if request.method == "POST" else request.args, error=exc)


# The fields that say what was searched (not why): a result's link to its read carries
# them, so the read page can lead back to the same results.
QUERY_FIELDS = ("mode", "plate", "since", "until", "camera_ids", "latitude", "longitude",
                "radius_m")
# Which page of the results: the signed boundary after the previous page's last read
# (``web.paging``) and the place of the page's first read in the results, for its heading.
PAGE_FIELDS = ("cursor", "start")
CURSOR_SALT = "sightline-search-results"
# The place a page's first read is given: a number for the heading only (the cursor
# says where the page starts), so anything else, or longer than this, is read as 1.
START_DIGITS = 8


def _fields(form: MultiDict[str, str], names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(k, v[:paging.CURSOR_MAX]) for k in names for v in form.getlist(k)[:50] if v]


def _rerun_url(fields: list[tuple[str, str]]) -> str:
    """The search of ``fields`` run again (under the open purpose window)."""
    return url_for("search.index") + "?" + urlencode([*fields, ("run", "yes")])


def query_of(form: MultiDict[str, str]) -> str:
    """The search's own fields and its page as a query string (``back`` on a result's
    read link)."""
    return urlencode(_fields(form, (*QUERY_FIELDS, *PAGE_FIELDS)))


def results_url(back: str) -> str | None:
    """The link back to the results a read was opened from (None without one): the
    search run again, under the purpose window that covered it."""
    kept = _fields(MultiDict(parse_qsl(back[:4000])), (*QUERY_FIELDS, *PAGE_FIELDS))
    return _rerun_url(kept) if kept else None


def search_form(form: MultiDict[str, str]) -> queries.SearchForm:
    """The search as typed, for ``controller.search.queries.search_reads``."""
    return queries.SearchForm(
        mode=form.get("mode", "exact"), purpose=form.get("purpose", ""),
        case_number=form.get("case_number", ""), attest=form.get("attest", ""),
        plate=form.get("plate", ""), since=form_time("since", form), until=form_time("until", form),
        camera_ids=form.getlist("camera_ids"), latitude=form.get("latitude", ""),
        longitude=form.get("longitude", ""), radius_m=form.get("radius_m", ""))


class ResultRow(DescribedRead):
    """A read in the result list: its detail and thumbnail URLs added (``with_links``)."""

    links: dict[str, str]


def with_links(reads: list[DescribedRead], search_id: int, back: str = "") -> list[ResultRow]:
    """Give each result row its detail and thumbnail URLs (``links``).

    The URLs are built once per page with a slot for the uuid: url_for three times
    for each of 500 rows was half the time of rendering the page.
    """
    patterns = {"detail": url_for("reads.detail", read_uuid=READ_SLOT, back=back or None)}
    for kind in ("crop", "overview"):
        patterns[kind] = url_for("reads.thumb", read_uuid=READ_SLOT, kind=kind,
                                 search=search_id)
    # The same dicts, each given its links below.
    rows = cast("list[ResultRow]", reads)
    for row in rows:
        read_uuid = quote(str(row["uuid"]), safe="")
        row["links"] = {name: pattern.replace(READ_SLOT, read_uuid)
                        for name, pattern in patterns.items()}
    return rows


@bp.get("/search")
@permission("search")
@on_error(_refused)
def index() -> ResponseReturnValue:
    """The search form; with ``run=yes``, the search in the query run again (the way back
    from a read to its results), under the searcher's open purpose window."""
    if request.args.get("run") == "yes":
        return _results(request.args)
    return _page(form=MultiDict({"mode": request.args.get("mode", "exact")}))


@bp.post("/search")
@permission("search")
@on_error(_refused)
def search() -> ResponseReturnValue:
    """Run the search through the controller (which validates and audits); show the results."""
    return _results(request.form)


def _start(form: MultiDict[str, str]) -> int:
    text = form.get("start", "")
    # ASCII digits only: str.isdigit also takes "²", which int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > START_DIGITS:
        return 1
    return max(1, int(text))


def _page_url(form: MultiDict[str, str], **page: str) -> str:
    """The search in ``form`` at ``page`` (``cursor`` and ``start``; none: the first)."""
    return _rerun_url([*_fields(form, QUERY_FIELDS), *page.items()])


def _results(form: MultiDict[str, str]) -> str:
    """One page of results: ``search.page_size`` reads, newest first, from the form's
    ``cursor`` on; each page is a search of its own (audited with the reads it shows)."""
    config = settings()
    before = paging.boundary(form.get("cursor", ""), CURSOR_SALT)
    start = _start(form) if before else 1
    # search_reads holds the page to search.max_results.
    result = queries.search_reads(engine(), config, caller(), search_form(form),
                                  before=before, limit=config.search.page_size)
    cursor = paging.following(result.reads, result.more, CURSOR_SALT,
                              lambda r: (r["seen_at"], int(r["id"])))
    older = _page_url(form, cursor=cursor, start=str(start + len(result.reads))) \
        if cursor else None
    return _page(result.cameras, form=form, req=result.request, search_id=result.search_id,
                 results=with_links(result.reads, result.search_id, query_of(form)),
                 start=start, older_url=older,
                 newest_url=_page_url(form) if before else None)
