"""The record of access (policy 462.5): an append-only, hash-chained audit log.

Each row stores ``prev_hash`` (the previous row's hash, 64 zeros for the first)
and ``hash = SHA-256(prev_hash || canonical JSON of the row's own content)``. A
row edited in place no longer matches its hash; a row removed breaks the next
row's ``prev_hash``; rows cut from the end disagree with the chain head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine

from controller.store import audit as repo

GENESIS = "0" * 64
SYSTEM = "system"

Outcome = Literal["allowed", "denied"]


@dataclass(frozen=True)
class AuditEvent:
    """One access or change: who, what, on which data, why, from where, and the outcome."""

    actor: str
    action: str
    outcome: Outcome = "allowed"
    plate: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    purpose: str | None = None
    case_number: str | None = None
    client_addr: str | None = None


@dataclass(frozen=True)
class ChainReport:
    """The result of verifying the chain."""

    ok: bool
    rows: int
    first_broken_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready mapping."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "first_broken_id": self.first_broken_id,
            "reason": self.reason,
        }


def _content(row: Mapping[str, Any]) -> dict[str, Any]:
    at = row["at"]
    return {
        "id": int(row["id"]),
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": row["actor"],
        "action": row["action"],
        "outcome": row["outcome"],
        "plate": row["plate"],
        "data": row["data"],
        "purpose": row["purpose"],
        "case_number": row["case_number"],
        "client_addr": row["client_addr"],
    }


def chain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """Return the hash of a row given its predecessor's hash."""
    canonical = json.dumps(_content(row), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def record(engine: Engine, event: AuditEvent, *, at: datetime | None = None) -> int:
    """Append ``event`` to the log and return its sequence number."""
    if event.outcome not in ("allowed", "denied"):
        raise ValueError(f"outcome must be allowed or denied, not {event.outcome!r}")
    # Microsecond precision is what both databases keep; hash what is stored.
    when = (at or datetime.now(UTC)).astimezone(UTC)

    def build(seq: int, prev_hash: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": seq,
            "at": when,
            "actor": event.actor,
            "action": event.action,
            "outcome": event.outcome,
            "plate": event.plate,
            "data": json.loads(json.dumps(dict(event.data), default=str)),
            "purpose": event.purpose,
            "case_number": event.case_number,
            "client_addr": event.client_addr,
            "prev_hash": prev_hash,
        }
        row["hash"] = chain_hash(prev_hash, row)
        return row

    return int(repo.append(engine, build)["id"])


def verify(engine: Engine) -> ChainReport:
    """Walk the whole chain and report the first row that does not verify."""
    prev_hash = GENESIS
    expected_id = 1
    rows = 0
    for row in repo.scan(engine):
        rows += 1
        row_id = int(row["id"])
        if row_id != expected_id:
            return ChainReport(False, rows, expected_id, f"row {expected_id} is missing")
        if row["prev_hash"] != prev_hash:
            return ChainReport(False, rows, row_id, "previous-hash link does not match")
        if chain_hash(prev_hash, row) != row["hash"]:
            return ChainReport(False, rows, row_id, "content does not match its hash")
        prev_hash = row["hash"]
        expected_id += 1
    last_id, last_hash = repo.head(engine)
    if last_id != expected_id - 1 or last_hash != prev_hash:
        return ChainReport(
            False, rows, expected_id, f"chain head records row {last_id}; rows after "
            f"{expected_id - 1} were removed"
        )
    return ChainReport(True, rows)
