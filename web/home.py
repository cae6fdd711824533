"""The start page: a live overview, role by role (issue 16), and what is overdue.

Everyone but vendors sees whether reads are being recorded (and, loudly, every
reason they are not), each camera's state, fps and reconnects in the last hour,
and reads and hits counted per hour and per day. Administrators see each camera's
masked still (``cameras.image``). Those who may see reads and hits see the newest
ones with their plates, only under an open purpose window (462.5): without one the
page asks for it instead, and never shows plate data unlogged. The live part is an
HTML fragment (``/overview/live``) that overview.js fetches every few seconds, so
no browser holds a server thread open. Vendors go to camera health, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from controller.accounts import dormancy, purpose
from controller.accounts import roles as role_table
from controller.alerts.hits import HitRow
from controller.compliance import admin
from controller.errors import PurposeRequired
from controller.overview import feed, status
from controller.search import DescribedRead
from web.charts import Chart, bar_chart
from web.security import caller, can, engine, permission, settings

bp = Blueprint("home", __name__)

REFRESH_SECONDS = 10


def zone() -> tzinfo:
    """The agency's time zone for days and hours (UTC when the settings name none)."""
    name = getattr(settings().agency, "time_zone", None)
    try:
        return ZoneInfo(str(name)) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@dataclass(frozen=True)
class Live:
    """What the live fragment shows; ``reads``/``hits`` None when the caller may see them
    but has no purpose window open (the fragment asks for one instead)."""

    recording: status.Recording
    cameras: list[status.CameraTile]
    hits_today: int | None
    hits: list[HitRow] | None
    reads: list[DescribedRead] | None
    window: purpose.Window | None


def _live() -> Live:
    who = caller()
    tiles = status.cameras(engine(), who)
    recording = status.recording(engine(), who, tiles)
    allowed = role_table.allowed
    seeing = allowed(feed.READS, who.role) or allowed(feed.HITS, who.role)
    window = purpose.current(engine(), who) if seeing else None
    count = hits = reads = None
    if allowed(feed.HITS, who.role):
        count = status.hits_today(engine(), who, zone=zone())
    try:
        if window is not None and allowed(feed.HITS, who.role):
            since, _until = status.today_window(zone=zone())
            hits = feed.latest_hits(engine(), who, since=since)
        if window is not None and allowed(feed.READS, who.role):
            reads = feed.recent_reads(engine(), who)
    except PurposeRequired:
        # The window ran out between the look and the list: ask again, show nothing.
        window, hits, reads = None, None, None
    return Live(recording, tiles, count, hits, reads, window)


def _charts() -> list[Chart]:
    found = status.activity(engine(), caller(), zone=zone())
    charts = [bar_chart("reads-hours", "Reads per hour, last 24 hours", "reads",
                        [(b.label, b.reads) for b in found.hours], label_every=3),
              bar_chart("reads-days", "Reads per day, last 30 days", "reads",
                        [(b.label, b.reads) for b in found.days], label_every=5)]
    if found.hits_shown:
        charts.insert(1, bar_chart("hits-hours", "Hits per hour, last 24 hours", "hits",
                                   [(b.label, b.hits or 0) for b in found.hours],
                                   label_every=3))
        charts.append(bar_chart("hits-days", "Hits per day, last 30 days", "hits",
                                [(b.label, b.hits or 0) for b in found.days], label_every=5))
    return charts


def _context(*, first: bool) -> dict[str, Any]:
    # ``first``: the page itself, not a refresh; only then is "not recording" an alert
    # (announced once, not at every refresh).
    return {"live": _live(), "refresh": REFRESH_SECONDS, "zone_name": str(zone()),
            "first": first}


@bp.get("/")
@permission("home")
def index() -> ResponseReturnValue:
    """Send vendors to camera health; show everyone else the overview and their areas.

    Administrators also see every quarterly review that is overdue (policy 462.6) and the
    accounts due for this quarter's reconfirmation or suspended (462.4).
    """
    if g.user["role"] == "vendor":
        return redirect(url_for("cameras.index"))
    overdue = admin.overdue_for(engine(), settings(), caller()) \
        if can("compliance.manage") else []
    accounts = dormancy.reconfirmation(engine(), caller()) if can("users.manage") else None
    return render_template("home.html", overdue=overdue, accounts=accounts, charts=_charts(),
                           **_context(first=True))


@bp.get("/overview/live")
@permission("home")
def live() -> str:
    """The overview's live part alone (status, cameras, hits, reads), for its refresh."""
    return render_template("home/_live.html", **_context(first=False))
