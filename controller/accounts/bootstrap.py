"""The first administrator of a fresh install (policy 462.3.1, 462.4.1, 462.13).

Nobody can sign in before an account exists, so creating the first
administrator is the one change to accounts made without a Sightline login,
and only while no administrator account exists (disabled ones count: a
disabled administrator is restored by another, never replaced from a shell).
The same step records that administrator's ALPR training and, when a policy
version is published, their acknowledgement of it, so the training gate lets
them in on the web and the command line without anyone editing the database.
Every step is audited under the new administrator's name with the client
address of the command (``cli:<os account>``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from controller import audit
from controller.accounts import users
from controller.errors import AccessDenied, ValidationError
from controller.settings import SecuritySettings
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import cli_tokens as token_repo
from controller.validation import required_text

ACTION = "user.bootstrap"


def administrator_exists(engine: Engine) -> bool:
    """Tell whether any administrator account exists (disabled ones included)."""
    return token_repo.administrators(engine) > 0


def refuse_once_done(engine: Engine, username: str, *, client_addr: str) -> None:
    """Refuse (``AccessDenied``, audited) once an administrator exists."""
    if not administrator_exists(engine):
        return
    audit.record(engine, audit.AuditEvent(
        actor=audit.neutralise(username.strip(), 64) or "(blank)", action=ACTION,
        outcome="denied", client_addr=client_addr,
        data={"reason": "an administrator exists already", "client": "cli"}))
    raise AccessDenied("an administrator exists already: sign in as one "
                       "(`sightline login`) and use `sightline user add`")


def bootstrap_administrator(engine: Engine, rules: SecuritySettings, *, username: str,
                            password: str, full_name: str, course: str, completed_on: date,
                            trainer: str, policy_version: str | None,
                            client_addr: str) -> int:
    """Create the first administrator with their training and policy acknowledgement.

    Refused (``AccessDenied``, audited) once an administrator exists. Every field
    is checked before anything is stored, so a refusal leaves no half-made account.
    ``policy_version`` must name the current published version when there is one
    (the administrator states which version they read). Return the new user's id.
    """
    username = username.strip()
    refuse_once_done(engine, username, client_addr=client_addr)
    course = required_text("course", course, 200)
    trainer = required_text("trainer", trainer, 200)
    if completed_on > datetime.now(UTC).date():
        raise ValidationError("completed_on", "the training completion date is in the future")
    current = account_repo.current_policy(engine)
    if current is not None and (policy_version or "").strip() != current["version"]:
        raise ValidationError(
            "acknowledge_policy", f"policy version {current['version']} ({current['title']}) "
            f"is published: read it and give --acknowledge-policy {current['version']}")
    user_id = users.add_user(engine, rules, username=username, role="administrator",
                             password=password, full_name=full_name.strip(), actor=username,
                             client_addr=client_addr)
    users.record_training(engine, username=username, course=course, completed_on=completed_on,
                          trainer=trainer, actor=username, client_addr=client_addr)
    if current is not None:
        users.acknowledge_policy(engine, user={"id": user_id, "username": username},
                                 policy_id=int(current["id"]), client_addr=client_addr)
    audit.record(engine, audit.AuditEvent(
        actor=username, action=ACTION, client_addr=client_addr,
        data={"user_id": user_id, "client": "cli", "trained_on": completed_on.isoformat(),
              "policy_version": current["version"] if current else None}))
    return user_id
