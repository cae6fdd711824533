"""Checks on text that comes from outside (forms, the CLI, the API), one rule each.

Every free-text field the policy keeps (a case number, a court, a reason) is
required and bounded in length (DESIGN.md section 8); the error names the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from controller.errors import ValidationError


def required_text(field: str, value: str, limit: int) -> str:
    """Return ``value`` stripped; raise ValidationError naming ``field`` if empty or too long."""
    value = value.strip()
    if not value:
        raise ValidationError(field, "is required")
    if len(value) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")
    return value


def optional_text(field: str, value: str, limit: int) -> str | None:
    """Return ``value`` stripped, or None when empty; raise ValidationError if too long."""
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")
    return value or None


def time_zone(field: str, value: str) -> ZoneInfo:
    """An IANA time zone (``America/Los_Angeles``); raise ValidationError naming ``field``."""
    name = value.strip()
    # ZoneInfo reads a file named by the key: refuse anything but a plain zone name.
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name \
            or "\\" in name or not name.isascii():
        raise ValidationError(field, "enter an IANA time zone such as America/Los_Angeles")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(field, f"{name!r} is not an IANA time zone "
                                     "(such as America/Los_Angeles)") from None


def parse_time(field: str, value: str, zone: tzinfo = UTC) -> datetime | None:
    """A UTC time from ``YYYY-MM-DDTHH:MM``; empty gives None.

    A time without an offset is wall-clock time in ``zone`` (the agency's, for what
    people type in forms; UTC for the command line); the result is always UTC.
    """
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, "enter a date and time as YYYY-MM-DDTHH:MM") from None
    return parsed.replace(tzinfo=zone).astimezone(UTC) if parsed.tzinfo is None \
        else parsed.astimezone(UTC)


def parse_day(field: str, value: str) -> date | None:
    """A date from ``YYYY-MM-DD``; empty gives None."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, "enter a date as YYYY-MM-DD") from None


def day_window(since: date | None, until: date | None,
               zone: tzinfo = UTC) -> tuple[datetime | None, datetime | None]:
    """UTC bounds covering whole days of ``zone``: from ``since`` 00:00 to the end of
    ``until`` (a local day is 23 or 25 hours long when the clocks change)."""
    start = datetime.combine(since, time(), zone).astimezone(UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC) \
        if until else None
    return start, end


def required_day(field: str, value: str) -> date:
    """A required date from ``YYYY-MM-DD``; raise ValidationError naming ``field``."""
    day = parse_day(field, value)
    if day is None:
        raise ValidationError(field, "enter a date as YYYY-MM-DD")
    return day


def whole_number(field: str, value: str) -> int:
    """A whole number typed in a field; raise ValidationError naming ``field``."""
    try:
        return int(value.strip())
    except ValueError:
        raise ValidationError(field, "a number is required") from None


# Every table's key is an INTEGER (BIGINT for reads and hit rows, which no form names):
# an id outside 1..2^31-1 names no row, and the database driver refuses to bind it.
MAX_ID = 2**31 - 1


def record_id(field: str, value: str) -> int:
    """The id of a stored row typed in ``field``; raise ValidationError naming it.

    Bounded to the database's INTEGER keys, so that 10^23 or -1 is refused here
    rather than overflowing the driver (a 500) when the query binds it.
    """
    number = whole_number(field, value)
    if not 1 <= number <= MAX_ID:
        raise ValidationError(field, f"not an id (1 to {MAX_ID})")
    return number
