"""Repository functions for logins: lockout counters, TOTP, sessions, training, policy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from controller.errors import Conflict, NotFound
from controller.store.engine import reading
from controller.store.records import (
    PolicySummary,
    PolicyVersion,
    SessionState,
    TrainingRecord,
    UserRow,
)
from controller.store.schema import (
    login_throttle,
    policy_acknowledgements,
    policy_versions,
    training_records,
    user_sessions,
    users,
)

# How long a name's failures from one source are remembered without a new one.
THROTTLE_MEMORY = timedelta(days=1)


def get_user_by_id(engine: Engine, user_id: int) -> UserRow:
    """Return one user by id or raise NotFound."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return cast("UserRow", dict(row))


def set_failed_logins(engine: Engine, user_id: int, failed: int,
                      locked_until: datetime | None) -> None:
    """Store the failed-login counter and the lock expiry."""
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(failed_logins=failed, locked_until=locked_until))


def add_failed_login(engine: Engine, user_id: int) -> int:
    """Add one failed attempt in the database itself (parallel guesses all count); return it."""
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(failed_logins=users.c.failed_logins + 1))
        return int(conn.execute(select(users.c.failed_logins)
                                .where(users.c.id == user_id)).scalar_one())


def throttle_lock(engine: Engine, name: str, sources: tuple[str, ...],
                  now: datetime) -> datetime | None:
    """The latest lock still running on ``name`` for any of ``sources``, or None."""
    t = login_throttle
    with engine.connect() as conn:
        until = conn.execute(select(func.max(t.c.locked_until)).where(
            t.c.name == name, t.c.source.in_(sources), t.c.locked_until > now)).scalar()
    return until if isinstance(until, datetime) else None


def throttle_failure(engine: Engine, name: str, source: str, now: datetime, *,
                     limit: int, lock_until: datetime) -> tuple[int, datetime | None]:
    """Count one failure of ``name`` from ``source``; lock at ``limit``.

    Counted in the database itself, so parallel guesses all count. A lock that has
    run out starts a fresh count. Returns the count and the new lock, if this
    failure set one.
    """
    t = login_throttle
    key = (t.c.name == name, t.c.source == source)
    dialect_insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    expired = t.c.locked_until <= now
    with engine.begin() as conn:
        made = conn.execute(dialect_insert(t).values(
            name=name, source=source, failures=0, locked_until=None, last_failure_at=now,
        ).on_conflict_do_nothing(index_elements=["name", "source"]))
        if made.rowcount:
            # Typed names are anyone's to invent: rows quiet for a day go, so the table
            # holds at most a day of failures (each one cost its sender a password hash).
            conn.execute(delete(t).where(t.c.last_failure_at < now - THROTTLE_MEMORY,
                                         or_(t.c.locked_until.is_(None), expired)))
        conn.execute(update(t).where(*key).values(
            # An expired lock starts a fresh count; a running one (set by a parallel
            # request since the caller looked) is kept, never cleared by a guess.
            failures=case((expired, 1), else_=t.c.failures + 1),
            locked_until=case((expired, None), else_=t.c.locked_until),
            last_failure_at=now))
        failures = int(conn.execute(select(t.c.failures).where(*key)).scalar_one())
        if failures < limit:
            return failures, None
        conn.execute(update(t).where(*key).values(failures=0, locked_until=lock_until))
    return failures, lock_until


def throttle_clear(engine: Engine, name: str, sources: tuple[str, ...] | None = None) -> None:
    """Forget the failures of ``name`` from ``sources`` (every source when None)."""
    t = login_throttle
    with engine.begin() as conn:
        if sources is None:
            conn.execute(delete(t).where(t.c.name == name))
        else:
            conn.execute(delete(t).where(t.c.name == name, t.c.source.in_(sources)))


def set_totp(engine: Engine, user_id: int, secret: str | None, enrolled: bool) -> None:
    """Store a plain TOTP secret (or clear the user's secret) and whether enrolment finished.

    Sightline itself stores secrets sealed (:func:`set_sealed_totp`); a plain one is
    what databases from before sealing hold, and is sealed at its next use.
    """
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(totp_secret=secret, totp_sealed=None, totp_enrolled=enrolled,
                             totp_last_step=None))


def set_sealed_totp(engine: Engine, user_id: int, sealed: str, enrolled: bool) -> None:
    """Store the user's TOTP secret sealed with the instance key (no plain copy is kept)."""
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(totp_secret=None, totp_sealed=sealed, totp_enrolled=enrolled,
                             totp_last_step=None))


def reseal_totp(engine: Engine, user_id: int, sealed: str) -> None:
    """Replace a plain TOTP secret with its sealed form (the last used step stays)."""
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(totp_secret=None, totp_sealed=sealed))


def claim_totp_step(engine: Engine, user_id: int, step: int) -> bool:
    """Record ``step`` as used unless it (or a later one) already was; tell which."""
    with engine.begin() as conn:
        result = conn.execute(
            update(users).where(
                users.c.id == user_id,
                (users.c.totp_last_step.is_(None)) | (users.c.totp_last_step < step))
            .values(totp_last_step=step))
    return result.rowcount > 0


def set_user_flags(engine: Engine, user_id: int, **values: Any) -> None:
    """Change plain account flags (role, disabled, totp_exempt, must_change_password...)."""
    allowed = {"role", "disabled", "totp_exempt", "must_change_password", "full_name",
               "failed_logins", "locked_until"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not an account flag: {sorted(unknown)[0]}")
    with engine.begin() as conn:
        result = conn.execute(update(users).where(users.c.id == user_id).values(**values))
    if result.rowcount == 0:
        raise NotFound(f"no user with id {user_id}")


# --- sessions ------------------------------------------------------------------------------

def start_session(engine: Engine, session_id: str, user_id: int, now: datetime,
                  client_addr: str | None) -> int:
    """End the user's open sessions and open a new one; return how many were ended."""
    with engine.begin() as conn:
        ended = conn.execute(
            update(user_sessions).where(user_sessions.c.user_id == user_id,
                                        user_sessions.c.ended_at.is_(None))
            .values(ended_at=now, end_reason="replaced by a new login")).rowcount
        conn.execute(user_sessions.insert().values(
            id=session_id, user_id=user_id, created_at=now, last_seen_at=now,
            client_addr=client_addr))
    return int(ended)


def session_and_user(engine: Engine, session_id: str
                     ) -> tuple[SessionState, UserRow] | None:
    """Return a session row and its user's row in one query, or None."""
    with reading(engine) as conn:
        row = conn.execute(
            select(user_sessions.c.ended_at, user_sessions.c.end_reason,
                   user_sessions.c.last_seen_at, users)
            .join(users, users.c.id == user_sessions.c.user_id)
            .where(user_sessions.c.id == session_id)).mappings().first()
    if row is None:
        return None
    data = dict(row)
    session = {k: data.pop(k) for k in ("ended_at", "end_reason", "last_seen_at")}
    return cast("SessionState", session), cast("UserRow", data)


def touch_session(engine: Engine, session_id: str, now: datetime) -> None:
    """Record activity on a session."""
    with engine.begin() as conn:
        conn.execute(update(user_sessions).where(user_sessions.c.id == session_id)
                     .values(last_seen_at=now))


def end_session(engine: Engine, session_id: str, now: datetime, reason: str) -> bool:
    """End one open session; return whether it was open."""
    with engine.begin() as conn:
        result = conn.execute(
            update(user_sessions).where(user_sessions.c.id == session_id,
                                        user_sessions.c.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason))
    return result.rowcount > 0


def end_user_sessions(engine: Engine, user_id: int, now: datetime, reason: str) -> int:
    """End every open session of a user; return how many."""
    with engine.begin() as conn:
        result = conn.execute(
            update(user_sessions).where(user_sessions.c.user_id == user_id,
                                        user_sessions.c.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason))
    return int(result.rowcount)


# --- training and policy --------------------------------------------------------------------

def add_training(engine: Engine, *, user_id: int, course: str, completed_on: date,
                 trainer: str, recorded_by: str, now: datetime) -> int:
    """Store a training record; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(training_records.insert().values(
            user_id=user_id, course=course, completed_on=completed_on, trainer=trainer,
            recorded_by=recorded_by, recorded_at=now).returning(training_records.c.id)
        ).scalar_one())


def list_training(engine: Engine, user_id: int) -> list[TrainingRecord]:
    """Return a user's training records, newest completion first."""
    with engine.connect() as conn:
        rows = conn.execute(select(training_records)
                            .where(training_records.c.user_id == user_id)
                            .order_by(training_records.c.completed_on.desc(),
                                      training_records.c.id.desc())).mappings().all()
    return [cast("TrainingRecord", dict(r)) for r in rows]


def latest_training_by_user(engine: Engine) -> dict[int, date]:
    """Return each user's latest training completion date."""
    with engine.connect() as conn:
        rows = conn.execute(select(training_records.c.user_id,
                                   func.max(training_records.c.completed_on))
                            .group_by(training_records.c.user_id)).all()
    return {int(r[0]): r[1] for r in rows}


def publish_policy(engine: Engine, *, version: str, title: str, adopted_on: date,
                   content: bytes, content_type: str, sha256: str, published_by: str,
                   now: datetime) -> int:
    """Store a new policy version; return its id (``Conflict`` if the version exists)."""
    try:
        with engine.begin() as conn:
            return int(conn.execute(policy_versions.insert().values(
                version=version, title=title, adopted_on=adopted_on, content=content,
                content_type=content_type, sha256=sha256, published_by=published_by,
                published_at=now).returning(policy_versions.c.id)).scalar_one())
    except IntegrityError:
        raise Conflict(f"policy version '{version}' is already published") from None


def current_policy(engine: Engine) -> PolicyVersion | None:
    """Return the newest policy version (by adoption, then publication), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(policy_versions).order_by(
            policy_versions.c.adopted_on.desc(), policy_versions.c.published_at.desc(),
            policy_versions.c.id.desc()).limit(1)).mappings().first()
    return cast("PolicyVersion", dict(row)) if row else None


def acknowledged(engine: Engine, user_id: int, policy_id: int) -> bool:
    """Tell whether the user acknowledged that policy version."""
    with engine.connect() as conn:
        row = conn.execute(select(policy_acknowledgements.c.id).where(
            policy_acknowledgements.c.user_id == user_id,
            policy_acknowledgements.c.policy_version_id == policy_id)).first()
    return row is not None


def acknowledge(engine: Engine, user_id: int, policy_id: int, now: datetime) -> None:
    """Record the acknowledgement (once per user and version)."""
    if acknowledged(engine, user_id, policy_id):
        return
    with engine.begin() as conn:
        conn.execute(policy_acknowledgements.insert().values(
            user_id=user_id, policy_version_id=policy_id, acknowledged_at=now))


def user_roles_and_training(engine: Engine) -> dict[str, tuple[str, list[Any]]]:
    """Username -> (role, completion dates of every training on record, newest first)."""
    with engine.connect() as conn:
        people = conn.execute(select(users.c.id, users.c.username, users.c.role)).all()
        done = conn.execute(select(training_records.c.user_id, training_records.c.completed_on)
                            .order_by(training_records.c.completed_on.desc())).all()
    dates: dict[int, list[Any]] = {}
    for row in done:
        dates.setdefault(int(row.user_id), []).append(row.completed_on)
    return {str(p.username): (str(p.role), dates.get(int(p.id), [])) for p in people}


def policy_history(engine: Engine) -> list[PolicySummary]:
    """Every published policy version without its content, newest adoption first."""
    columns = [c for c in policy_versions.c if c.name != "content"]
    with engine.connect() as conn:
        return [cast("PolicySummary", dict(r)) for r in conn.execute(select(*columns).order_by(
            policy_versions.c.adopted_on.desc(), policy_versions.c.published_at.desc(),
            policy_versions.c.id.desc())).mappings().all()]


def policy_document(engine: Engine, version_id: int) -> PolicyVersion:
    """One policy version with its content (NotFound if there is none)."""
    with engine.connect() as conn:
        row = conn.execute(select(policy_versions).where(
            policy_versions.c.id == version_id)).mappings().first()
    if row is None:
        raise NotFound(f"no policy version {version_id}")
    return cast("PolicyVersion", dict(row))
