"""The overview's status (issue 16): is anything being recorded, and why not; the
cameras' state; reads and hits counted over time.

Nothing here is plate data: the state of the cameras is health (``cameras.view``,
every role), and the counts of reads and hits are aggregates the policy publishes
on the transparency page itself (462.9: reads and hits in the last 30 days), so
they need no purpose window and their views are not logged. The newest reads and
today's hits with their plates are ``controller.overview.feed``.

Recording stops, loudly, for one of these reasons, checked in this order: no
published usage and privacy policy (462.9(2), Civil Code 1798.90.51(b)); the
public hearing and adoption not recorded, or adoption not yet in effect (462.9);
no camera installed and enabled with a stream; every such camera down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from cameras.health import FLAPPING_RECONNECTS
from controller.accounts import Caller, authorize, roles
from controller.compliance import program
from controller.compliance.program import ProgramStatus
from controller.operations import fleet
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import activity as repo
from controller.store.records import CameraStatus

HOME = "home"
HITS = "hits.view"
# A camera without a frame for this long is down, not reconnecting: its stream keeps
# retrying (with a capped backoff), but nothing has come for minutes.
RECONNECTING_SECONDS = 120
HOURS = 24
DAYS = 30

STREAMING = "streaming"
RECONNECTING = "reconnecting"
DOWN = "down"
DISABLED = "disabled"


@dataclass(frozen=True)
class CameraTile:
    """One camera as the overview shows it: state in words, fps, reconnects in the last
    hour, whether the caller may see a still of it (``cameras.image``) and whether it
    could record at all (enabled, with a stream)."""

    id: int
    name: str
    site_code: str
    site_name: str
    state: str
    detail: str
    fps: float | None
    reconnects_last_hour: int | None
    flapping: bool
    last_frame_at: datetime | None
    image: bool
    recordable: bool


@dataclass(frozen=True)
class Recording:
    """Whether reads are being recorded now, every reason they are not, and what else
    is wrong while they are (cameras down or flapping)."""

    recording: bool
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    program: ProgramStatus
    policy_version: str | None
    cameras: int
    streaming: int


@dataclass(frozen=True)
class Bucket:
    """Reads and hits in one hour or one day (hits None when the caller may not see hits)."""

    start: datetime
    label: str
    reads: int
    hits: int | None


@dataclass(frozen=True)
class Activity:
    """Reads and hits per hour over the last day and per day over the last 30, in ``zone``."""

    hours: tuple[Bucket, ...]
    days: tuple[Bucket, ...]
    zone: str
    hits_shown: bool


def _state(camera: CameraStatus) -> tuple[str, str]:
    """The camera's state in the overview's words, and why."""
    health: dict[str, Any] | None = camera["health"]
    if not camera["enabled"]:
        return DISABLED, "disabled by staff"
    if not camera["stream_uri"]:
        return DOWN, "no stream address: the camera reported none"
    if health is None:
        return DOWN, "no health reported yet (is the controller running this site?)"
    if camera["stale"]:
        return DOWN, f"no health reported since {health['updated_at']:%Y-%m-%d %H:%M} UTC"
    if health["connected"]:
        return STREAMING, "video arriving"
    last = health["last_frame_at"]
    errors = [a["message"] for a in health["alarms"] or [] if a.get("severity") == "error"]
    why = errors[0] if errors else "no video"
    if last is not None and (health["updated_at"] - last).total_seconds() <= RECONNECTING_SECONDS:
        return RECONNECTING, why
    return DOWN, why


def _tile(camera: CameraStatus, image: bool, site_names: dict[str, str]) -> CameraTile:
    state, detail = _state(camera)
    health = camera["health"] or {}
    flaps = health.get("reconnects_last_hour")
    return CameraTile(
        id=int(camera["id"]), name=str(camera["name"]), site_code=str(camera["site_code"]),
        site_name=site_names.get(str(camera["site_code"]), str(camera["site_code"])),
        state=state, detail=detail,
        fps=health.get("fps") if state == STREAMING else None,
        reconnects_last_hour=None if flaps is None else int(flaps),
        flapping=flaps is not None and int(flaps) >= FLAPPING_RECONNECTS,
        last_frame_at=health.get("last_frame_at"),
        image=image and state != DISABLED and bool(camera["stream_uri"] or
                                                    camera["snapshot_uri"]),
        recordable=bool(camera["enabled"] and camera["stream_uri"]))


def cameras(engine: Engine, caller: Caller) -> list[CameraTile]:
    """Every camera with its state, fps and reconnects in the last hour (``cameras.view``).

    ``image`` says whether the caller may open the camera's masked still
    (``cameras.image``: administrators; never vendors, DESIGN 462.4)."""
    image = roles.allowed(fleet.IMAGE, caller.role)
    tiles: list[CameraTile] = []
    for site in fleet.sites(engine, caller):
        names = {str(site["code"]): str(site.get("name") or site["code"])}
        tiles.extend(_tile(camera, image, names) for camera in site["cameras"])
    return tiles


def recording(engine: Engine, caller: Caller, tiles: list[CameraTile], *,
              today: date | None = None) -> Recording:
    """Whether cameras record reads now and every reason they do not (``home``).

    ``tiles`` are the caller's ``cameras`` (looked up once per page)."""
    authorize(engine, caller, HOME, "overview.status")
    policy = account_repo.current_policy(engine)
    status = program.status(engine, today)
    reasons = []
    if policy is None:
        reasons.append("No usage and privacy policy is published (policy 462.9(2), Civil Code "
                       "1798.90.51(b)): the program cannot start.")
    if not status.active:
        reasons.append(f"The program is not active: {status.reason}.")
    live = [t for t in tiles if t.recordable]
    streaming = [t for t in live if t.state == STREAMING]
    if not live:
        reasons.append("No camera is installed and enabled with a stream.")
    elif not streaming:
        reasons.append(f"Every camera is down or reconnecting ({len(live)} of {len(live)}).")
    warnings = []
    if streaming and len(streaming) < len(live):
        warnings.append(f"{len(live) - len(streaming)} of {len(live)} cameras are down or "
                        "reconnecting.")
    flapping = [t.name for t in live if t.flapping]
    if flapping:
        warnings.append(f"Reconnecting again and again in the last hour: {', '.join(flapping)}.")
    return Recording(recording=not reasons, reasons=tuple(reasons), warnings=tuple(warnings),
                     program=status, policy_version=policy["version"] if policy else None,
                     cameras=len(live), streaming=len(streaming))


def activity(engine: Engine, caller: Caller, *, now: datetime | None = None,
             zone: tzinfo = UTC) -> Activity:
    """Reads and hits per hour for the last 24 hours and per day for the last 30 days
    (``home``; hits only for ``hits.view``). Days are days in ``zone``.

    Counts are gathered per UTC hour and folded into local days, so a zone whose
    offset is not whole hours splits its day at the nearest whole UTC hour.
    """
    authorize(engine, caller, HOME, "overview.activity")
    when = (now or datetime.now(UTC)).astimezone(UTC)
    this_hour = when.replace(minute=0, second=0, microsecond=0)
    local_today = when.astimezone(zone).date()
    first_day = local_today - timedelta(days=DAYS - 1)
    since = datetime.combine(first_day, datetime.min.time(), zone).astimezone(UTC)
    since = min(since.replace(minute=0, second=0, microsecond=0),
                this_hour - timedelta(hours=HOURS - 1))
    until = this_hour + timedelta(hours=1)
    hits_shown = roles.allowed(HITS, caller.role)
    reads = repo.hourly_counts(engine, "reads", since, until)
    hits = repo.hourly_counts(engine, "hits", since, until) if hits_shown else {}
    hour_starts = [this_hour - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]
    hours = tuple(Bucket(h, f"{h.astimezone(zone):%H:00}", reads.get(h, 0),
                         hits.get(h, 0) if hits_shown else None) for h in hour_starts)
    day_reads: dict[date, int] = {}
    day_hits: dict[date, int] = {}
    for hour, n in reads.items():
        day = hour.astimezone(zone).date()
        day_reads[day] = day_reads.get(day, 0) + n
    for hour, n in hits.items():
        day = hour.astimezone(zone).date()
        day_hits[day] = day_hits.get(day, 0) + n
    days = []
    for i in range(DAYS):
        day = first_day + timedelta(days=i)
        start = datetime.combine(day, datetime.min.time(), zone)
        days.append(Bucket(start, f"{day:%b} {day.day}", day_reads.get(day, 0),
                           day_hits.get(day, 0) if hits_shown else None))
    return Activity(hours=hours, days=tuple(days), zone=str(zone), hits_shown=hits_shown)


def hits_today(engine: Engine, caller: Caller, *, now: datetime | None = None,
               zone: tzinfo = UTC) -> int:
    """How many hits were raised since midnight in ``zone`` (``hits.view``; a count only)."""
    authorize(engine, caller, HITS, "overview.hits_today")
    since, until = today_window(now, zone)
    return repo.count_hits(engine, since, until)


def today_window(now: datetime | None = None, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """Today in ``zone``, from midnight to the next midnight, in UTC."""
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    midnight = datetime.combine(today, datetime.min.time(), zone)
    following = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    return midnight.astimezone(UTC), following.astimezone(UTC)
