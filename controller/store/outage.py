"""A lost database, as the rest of the controller sees it: ``StoreUnavailable``.

The engine translates connection-level failures (a disconnect, a refused or
dropped connection, SQLite's locked or unopenable file) into
``controller.errors.StoreUnavailable`` in SQLAlchemy's ``handle_error`` hook, so
that callers tell "retry later" from "the database refused this" by type, never
by driver class names. Everything else (a constraint, a bad value) stays the
driver's error, which ``refused`` recognises for callers that set a row aside.

``OutageLog`` is for the loops that retry (writer, health, reconcile, refreshes,
dispatch): one line when a failure streak starts, with its cause, and one when it
ends, instead of a traceback on every attempt.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from controller.errors import StoreUnavailable

# PostgreSQL's SQLSTATE for a statement cancelled (statement_timeout, a cancel request).
QUERY_CANCELED = "57014"
# PostgreSQL's SQLSTATE for a lock not had within the statement's lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


def cancelled(original: BaseException | None) -> bool:
    """Whether the driver's error is a statement stopped on purpose by its own deadline
    (PostgreSQL's statement_timeout, SQLite's progress handler): the database is up,
    and the caller that set the deadline reports it."""
    if getattr(original, "sqlstate", None) == QUERY_CANCELED:
        return True
    return type(original).__module__ == "sqlite3" and str(original) == "interrupted"


def lock_timed_out(original: BaseException | None) -> bool:
    """Whether the driver's error is PostgreSQL giving up on a lock at the statement's
    own ``lock_timeout`` (partition upkeep and purges set one): not an outage."""
    return getattr(original, "sqlstate", None) == LOCK_NOT_AVAILABLE


def _translate(context: ExceptionContext) -> BaseException | None:
    # Pre-ping must see the driver's own error: that is how the pool learns to
    # replace a dead connection with a fresh one instead of failing the checkout.
    if context.is_pre_ping or cancelled(context.original_exception):
        return None
    if lock_timed_out(context.original_exception):
        return None  # the database is up; the caller that set lock_timeout tries later
    error = context.sqlalchemy_exception
    if context.is_disconnect or isinstance(error, (OperationalError, InterfaceError)):
        return StoreUnavailable(f"database unavailable ({cause(context.original_exception)})")
    return None


def translate_outages(engine: Engine) -> None:
    """Make ``engine`` raise ``StoreUnavailable`` for connection-level failures.

    SQLAlchemy still invalidates a disconnected connection (and the pool) before
    the translated error is raised; the driver's error is its ``__cause__``.
    """
    event.listen(engine, "handle_error", _translate)


def refused(exc: BaseException) -> bool:
    """Tell whether ``exc`` is the database refusing a statement (retrying cannot help)."""
    return isinstance(exc, DBAPIError) and not isinstance(exc, StoreUnavailable)


def cause(exc: BaseException) -> str:
    """A one-line description of why an attempt failed, for the log."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OutageLog:
    """Logs a retried operation's failure once per outage, and its recovery once."""

    def __init__(self, log: logging.Logger, what: str, consequence: str) -> None:
        self._log = log
        self._what = what
        self._consequence = consequence
        self._since: float | None = None
        self._failures = 0

    @property
    def failing(self) -> bool:
        """Whether the last attempt failed."""
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        """An attempt failed: log it if it starts a streak (a traceback only for a bug)."""
        self._failures += 1
        if self._since is not None:
            return
        self._since = time.monotonic()
        # An outage is expected and its cause says it all; anything else is a bug,
        # whose traceback is worth one entry.
        self._log.error("%s failed: %s; %s", self._what, cause(exc), self._consequence,
                        exc_info=None if isinstance(exc, StoreUnavailable) else exc)

    def succeeded(self) -> None:
        """An attempt worked: log the end of a streak."""
        if self._since is None:
            return
        self._log.warning("%s works again after %.0f s (%d failed attempts)", self._what,
                          time.monotonic() - self._since, self._failures)
        self._since = None
        self._failures = 0
