"""The agency on every page, and local time (issue 16, points 5 and 7).

``agency()`` is the one place pages take the agency's name, time zone and logo
from (``controller.compliance.agency.current``: the administrator's profile over
the settings file), read once per request. Times are stored in UTC; the ``local``
filter shows them in the agency's zone with the zone named ("2026-11-29 07:45
PST"), and ``local_input`` turns a time typed in a form (wall-clock time in the
agency's zone) into UTC, the one place form times are converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo

from flask import Flask, g, request

from controller.compliance import agency as use
from controller.compliance import setup
from controller.errors import StoreUnavailable, ValidationError
from controller.validation import parse_time
from web.security import caller, engine, settings

DEFAULT_FORMAT = "%Y-%m-%d %H:%M:%S %Z"
INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def agency() -> use.Agency:
    """The agency as this request shows it (read once per request)."""
    found: use.Agency | None = g.get("agency")
    if found is None:
        try:
            found = use.current(engine(), settings())
        except StoreUnavailable:
            # The error page of an outage still needs a header: the settings file's.
            found = use.Agency(settings().agency.name, settings().agency.time_zone)
        g.agency = found
    return found


def zone() -> tzinfo:
    """The agency's time zone, for forms and filters."""
    return agency().zone


def local(value: datetime | date | str | None, fmt: str = DEFAULT_FORMAT) -> str:
    """Show a stored (UTC) time in the agency's zone, naming the zone.

    A format with a time of day and no zone gets the zone's abbreviation added,
    so no time is ever shown without its zone; a plain date is a calendar day and
    is shown as it is.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return value.isoformat() if "%H" in fmt else value.strftime(fmt)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if "%H" in fmt and "%Z" not in fmt:
        fmt += " %Z"
    return aware.astimezone(zone()).strftime(fmt)


def local_input(value: datetime | None) -> str:
    """A UTC time as a ``datetime-local`` input's value, in the agency's zone."""
    return "" if value is None else value.astimezone(zone()).strftime(INPUT_FORMAT)


def form_time(field: str, values: Mapping[str, str] | None = None) -> str:
    """A time typed in a form, as UTC ISO text for the use case (empty stays empty).

    What people type is wall-clock time in the agency's zone. A value that is no
    time goes on as typed: the use case refuses it naming ``field``, and audits the
    refusal as it does any bad input.
    """
    values = request.form if values is None else values
    typed = values.get(field, "")
    try:
        parsed = parse_time(field, typed, zone())
    except ValidationError:
        return typed
    return "" if parsed is None else parsed.isoformat()


def setup_pending() -> bool:
    """Whether the signed-in administrator still has first-run steps to do."""
    user = g.get("user")
    if not user or user["role"] != "administrator":
        return False
    return setup.pending(engine(), settings(), caller())


def register(app: Flask) -> None:
    """Install ``agency()``, ``setup_pending()``, ``local_input`` and the ``local`` filter."""
    app.jinja_env.globals.update(agency=agency, local_input=local_input,
                                 setup_pending=setup_pending)
    app.jinja_env.filters["local"] = local
