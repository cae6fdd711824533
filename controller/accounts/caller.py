"""Who calls a use case, and the one check every use case makes first (462.4, 462.4.1, 462.5).

A use case is a controller function the web, the JSON API and the CLI share. It
takes a ``Caller``, checks the caller's role against ``roles.PERMISSIONS`` and
the training gate, and writes the audit record itself, so that no front end can
forget either. A refusal is written to the audit log under the use case's own
action with the outcome ``denied`` (the quarterly flags count those), then
raised as ``AccessDenied``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from controller import audit
from controller.accounts import roles
from controller.errors import AccessDenied
from controller.store import Engine


class Who(TypedDict):
    """How the audited controller functions name who acted and from where."""

    actor: str
    client_addr: str | None


@dataclass(frozen=True)
class Caller:
    """A signed-in person, or an API client answerable to one, calling a use case.

    ``gate_ok`` says the caller's training, password and policy acknowledgement
    are current (462.4.1, 462.13); the front end that authenticated the caller
    works it out once per request. An API client (``controller.accounts.clients``)
    is named ``client:NAME``, carries its own role, its id (``client_id``: its purpose
    windows are its own) and its ``owner``'s name and id (``user_id``).
    """

    username: str
    role: str
    user_id: int | None = None
    client_addr: str | None = None
    gate_ok: bool = False
    client_name: str | None = None
    owner: str | None = None
    client_id: int | None = None

    def who(self) -> Who:
        """The ``actor`` and ``client_addr`` keywords the audited controller functions take."""
        return {"actor": self.username, "client_addr": self.client_addr}


def record(engine: Engine, caller: Caller, action: str, *, outcome: audit.Outcome = "allowed",
           plate: str | None = None, purpose: str | None = None,
           case_number: str | None = None, data: Mapping[str, Any] | None = None) -> int:
    """Write one audit entry for ``caller`` and return its number."""
    details = dict(data or {})
    if caller.client_name:
        # An API client is named beside the person it acts for (462.5: who).
        details.setdefault("client", caller.client_name)
        details.setdefault("owner", caller.owner)
    return audit.record(engine, audit.AuditEvent(
        actor=caller.username, action=action, outcome=outcome, plate=plate, purpose=purpose,
        case_number=case_number, client_addr=caller.client_addr, data=details))


def authorize(engine: Engine, caller: Caller, permission: str, action: str, *,
              plate: str | None = None, data: Mapping[str, Any] | None = None) -> None:
    """Refuse (audited as ``action``, outcome denied) unless role and training allow it.

    Raise ``AccessDenied`` naming the reason; return quietly when the call may go on.
    """
    reason = None
    if not roles.allowed(permission, caller.role):
        reason = f"the {caller.role} role may not use {permission} (policy 462.4)"
    elif roles.needs_training(permission) and not caller.gate_ok:
        reason = "training or policy acknowledgement missing (policy 462.4.1)"
    if reason is None:
        return
    record(engine, caller, action, outcome="denied", plate=plate,
           data={**(data or {}), "permission": permission, "reason": reason})
    raise AccessDenied(reason)
