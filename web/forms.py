"""Form helpers the blueprints share, and the page a view shows when a use case refuses.

A view parses its form into the use case's inputs and renders what comes back;
the use case raises ``ValidationError`` (400), ``PolicyViolation`` (403) or
``NotFound`` (404), and the application's error handlers answer. A view whose
form should come back with the message and the user's input names that page with
``@on_error``; a view without one gets the plain error page (or JSON for JSON).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import flash, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from controller.errors import SightlineError, ValidationError
from controller.validation import record_id, required_day

F = TypeVar("F", bound=Callable[..., Any])
ErrorView = Callable[[SightlineError], ResponseReturnValue]

# The label a form shows for a field the use cases name by its internal name: the
# user reads "Case number: ...", never "case_number: ...". A field not listed here
# is shown with its name in words ("expires_on" -> "Expires on").
FIELD_LABELS = {
    "attest": "Attestation", "banner_ack": "System-use notice", "camera_ids": "Cameras",
    "case_number": "Case number", "confirm": "Confirmation", "court_order": "Court order",
    "radius_m": "Radius (m)", "since": "From", "until": "To", "plate": "Plate",
    "purpose": "Purpose", "totp": "Code", "code": "Code", "ori": "ORI", "url": "URL",
    "expires_on": "Expires on", "expires_at": "Expires at",
    "new_password": "New password", "role": "Role", "outcome": "Outcome",
}


def label(field: str) -> str:
    """The words a form shows for an internal field name."""
    return FIELD_LABELS.get(field) or field.replace("_", " ").strip().capitalize()


def plain(exc: BaseException) -> str:
    """A refusal in the user's words: each field by its label, every bad field told."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{label(field)}: {reason}" for field, reason in exc.problems)
    return str(exc)


def problem(exc: BaseException | None, field: str) -> str:
    """What is wrong with ``field`` in the refusal ``exc`` ("" when nothing is)."""
    if not isinstance(exc, ValidationError):
        return ""
    return "; ".join(reason for name, reason in exc.problems if name == field)


def form_date(field: str) -> date:
    """A required YYYY-MM-DD form field, or a ValidationError naming it."""
    return required_day(field, request.form.get(field, ""))


def form_id(field: str) -> int:
    """A form field naming a stored row by id (1..2^31-1), or a ValidationError naming it."""
    return record_id(field, request.form.get(field, ""))


def confirmed(consequence: str) -> None:
    """Refuse a destructive action unless its "I confirm" box is ticked (works without
    JavaScript); ``consequence`` says what the action does, in the user's words."""
    if request.form.get("confirm") != "yes":
        raise ValidationError("confirm", f"tick 'I confirm' to {consequence}")


def on_error(render: ErrorView) -> Callable[[F], F]:
    """Name the response a view gives when its use case refuses the input or the action.

    ``render`` gets the error; a page it returns is sent with the error's status
    (400 or 403), a redirect as it is.
    """
    def mark(view: F) -> F:
        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            g.error_view = render
            return view(*args, **kwargs)
        return run  # type: ignore[return-value]
    return mark


def error_view() -> ErrorView | None:
    """The response the current view named with ``@on_error``, if any."""
    view: ErrorView | None = g.get("error_view")
    return view


def back_to(endpoint: str) -> ErrorView:
    """Flash the error and go back (303) to ``endpoint`` with the view's own URL arguments."""
    def render(exc: SightlineError) -> ResponseReturnValue:
        flash(plain(exc), "error")
        return redirect(url_for(endpoint, **(request.view_args or {})), 303)
    return render


def json_error(exc: SightlineError) -> ResponseReturnValue:
    """A refusal as JSON ``{error, field}`` for views a script calls."""
    return jsonify(error=str(exc), field=getattr(exc, "field", None))


def shown_on(page: Callable[..., str]) -> ErrorView:
    """Show a refusal on ``page`` (as ``error``, in plain words; the exception itself as
    ``refusal``, for messages beside their fields), with the form as the user filled it."""
    def render(exc: SightlineError) -> str:
        return page(error=plain(exc), refusal=exc)
    return render


def done(message: str, back: str) -> ResponseReturnValue:
    """Flash what was done and go back to the page ``back`` (303)."""
    flash(message, "info")
    return redirect(url_for(back), 303)
