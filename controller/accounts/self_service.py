"""One's own account (462.4.1, 462.13): the policy to acknowledge, training on record.

These need only ``account`` (any signed-in user, training or not: they are how
an untrained user sees what is missing). The sign-in steps themselves live in
``controller.accounts.sessions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.accounts import Caller, authorize, users
from controller.errors import NotFound, ValidationError
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store.records import PolicyVersion, TrainingRecord, UserRow

PERMISSION = "account"
PDF = "application/pdf"


@dataclass(frozen=True)
class PolicyToRead:
    """The current policy version, its text (empty for a PDF) and whether it is acknowledged."""

    current: PolicyVersion | None
    text: str
    done: bool


def signing_in(engine: Engine, user_id: int) -> UserRow | None:
    """The user between password and second factor, or None if the account is gone."""
    try:
        return account_repo.get_user_by_id(engine, user_id)
    except NotFound:
        return None


def policy_to_read(engine: Engine, caller: Caller) -> PolicyToRead:
    """The current policy for the caller to read and whether they acknowledged it."""
    authorize(engine, caller, PERMISSION, "policy.read")
    current = account_repo.current_policy(engine)
    done = current is not None and caller.user_id is not None and account_repo.acknowledged(
        engine, caller.user_id, int(current["id"]))
    # A PDF version is linked (served by the transparency page), not shown as text.
    text = current["content"].decode("utf-8", "replace") if current and \
        current["content_type"] != PDF else ""
    return PolicyToRead(current, text, done)


def acknowledge_policy(engine: Engine, caller: Caller, policy_id: str) -> None:
    """Record that the caller read and acknowledged the current version (audited)."""
    authorize(engine, caller, PERMISSION, "policy.acknowledge")
    try:
        wanted = int(policy_id or "0")
    except ValueError:
        raise ValidationError("policy", "that is not the current policy version") from None
    users.acknowledge_policy(engine, user={"id": caller.user_id, "username": caller.username},
                             policy_id=wanted, client_addr=caller.client_addr)


def own_training(engine: Engine, caller: Caller) -> list[TrainingRecord]:
    """The caller's training records, newest first."""
    authorize(engine, caller, PERMISSION, "training.own")
    if caller.user_id is None:
        return []
    return account_repo.list_training(engine, caller.user_id)
