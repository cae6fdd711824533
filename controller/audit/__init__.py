"""The record of access (policy 462.5): an append-only, keyed-hash-chained audit log.

Each row stores ``prev_hash`` (the previous row's hash, 64 zeros for the first)
and ``hash = HMAC-SHA256(key, prev_hash || canonical JSON of the row's content)``.
The key is not in the database (``SIGHTLINE_AUDIT_KEY``, else derived from the
instance secret), so someone with only database access cannot recompute a hash
after an edit. Rows written before the keyed chain (up to ``keyed_from``) keep
their plain SHA-256 links and are checked with that rule.

The chain head is signed and appended, at least daily and with every quarterly
package, to an anchor file outside the database (:mod:`controller.audit.anchors`,
:func:`write_anchor`); :func:`verify` checks the chain against every anchor, so
cutting rows from the end, reordering, backdating and wiping the log are found
even where the head row in the database was moved to match.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine

from controller.audit import anchors
from controller.errors import ConfigError
from controller.sealing import derive_key, instance_secret_for
from controller.settings import Settings
from controller.store import audit as repo
from controller.store.schema import audit_events

GENESIS = "0" * 64
SYSTEM = "system"
ENV_AUDIT_KEY = "SIGHTLINE_AUDIT_KEY"
AUDIT_KEY_LABEL = b"sightline audit chain"
MIN_KEY_CHARS = 32
# Longest string kept in a row's data; longer untrusted input is cut (and marked).
DATA_STRING_LIMIT = 4096

Outcome = Literal["allowed", "denied"]

# Keys given for one engine (use_key): a tool verifying with a key it was handed.
_BOUND_KEYS: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()


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
    """The result of verifying the chain and its anchors."""

    ok: bool
    rows: int
    first_broken_id: int | None = None
    reason: str = ""
    anchors: int = 0
    first_bad_anchor: int | None = None
    legacy_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready mapping."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "first_broken_id": self.first_broken_id,
            "reason": self.reason,
            "anchors": self.anchors,
            "first_bad_anchor": self.first_bad_anchor,
            "legacy_rows": self.legacy_rows,
        }


# --- the key ------------------------------------------------------------------------------------

def _key_from_environment() -> bytes | None:
    explicit = os.environ.get(ENV_AUDIT_KEY, "")
    if not explicit:
        return None
    if len(explicit) < MIN_KEY_CHARS:
        raise ConfigError(f"{ENV_AUDIT_KEY}: at least {MIN_KEY_CHARS} characters "
                          "(for example the output of `openssl rand -hex 32`)")
    return explicit.encode("utf-8")


def key_from_settings(settings: Settings) -> bytes:
    """The audit key: ``SIGHTLINE_AUDIT_KEY``, else derived from the instance secret.

    The instance secret is ``SIGHTLINE_SECRET_KEY`` or the owner-only key file the
    controller keeps in the data directory (created on first use, as the web's
    session key is), so the demo and tests need no set-up.
    """
    # Imported here: the composition root imports nearly everything, audit included.
    from controller.sealing import instance_secret
    return _key_from_environment() or derive_key(instance_secret(settings.data_dir),
                                                 AUDIT_KEY_LABEL)


def use_key(engine: Engine, key: bytes) -> None:
    """Chain and verify rows on ``engine`` with ``key`` (overrides every other source)."""
    _BOUND_KEYS[engine] = key


def key_for(engine: Engine) -> bytes:
    """The key that chains rows on ``engine``: a bound one, ``SIGHTLINE_AUDIT_KEY``, else
    derived from the engine's instance secret (:func:`controller.sealing.instance_secret_for`)."""
    bound = _BOUND_KEYS.get(engine)
    if bound is not None:
        return bound
    return _key_from_environment() or derive_key(instance_secret_for(engine), AUDIT_KEY_LABEL)


# --- hashing --------------------------------------------------------------------------------------

def _canonical(row: Mapping[str, Any]) -> str:
    content = {
        "id": int(row["id"]),
        "at": row["at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": row["actor"],
        "action": row["action"],
        "outcome": row["outcome"],
        "plate": row["plate"],
        "data": row["data"],
        "purpose": row["purpose"],
        "case_number": row["case_number"],
        "client_addr": row["client_addr"],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(key: bytes, prev_hash: str, row: Mapping[str, Any]) -> str:
    """The keyed hash of a row given its predecessor's hash."""
    message = (prev_hash + _canonical(row)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def legacy_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The unkeyed SHA-256 link of rows written before the keyed chain."""
    return hashlib.sha256((prev_hash + _canonical(row)).encode("utf-8")).hexdigest()


# --- bounding untrusted strings ---------------------------------------------------------------

def neutralise(text: str, limit: int) -> str:
    """``text`` with control characters escaped and cut to ``limit`` characters (marked).

    Untrusted input (a typed username, a header) must neither break a log line
    nor grow a row without bound; what is cut is said, with the original length.
    """
    if text.isprintable() and len(text) <= limit:
        return text
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                      for c in text[:limit])
    if len(text) <= limit and len(escaped) <= limit:
        return escaped
    marker = f"...[{len(text)} chars]"
    if len(marker) >= limit:  # no room to say what was cut
        return escaped[:limit]
    return escaped[: limit - len(marker)] + marker


def _bounded(value: Any) -> Any:
    # Data values come from code, but some carry what a user typed: keep each string bounded.
    if isinstance(value, str):
        return value if len(value) <= DATA_STRING_LIMIT else neutralise(value, DATA_STRING_LIMIT)
    if isinstance(value, Mapping):
        return {str(k): _bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(v) for v in value]
    return value


def _column(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    length = getattr(audit_events.c[name].type, "length", None)
    return neutralise(value, int(length)) if length else value


# --- writing ----------------------------------------------------------------------------------

def _append(engine: Engine, event: AuditEvent, at: datetime | None) -> Mapping[str, Any]:
    if event.outcome not in ("allowed", "denied"):
        raise ValueError(f"outcome must be allowed or denied, not {event.outcome!r}")
    key = key_for(engine)
    data = _bounded(json.loads(json.dumps(dict(event.data), default=str)))

    def build(seq: int, prev_hash: str, prev_at: datetime | None) -> dict[str, Any]:
        # The time is taken under the chain lock, so rows are in time order.
        when = (at or datetime.now(UTC)).astimezone(UTC)
        if prev_at is not None and when < prev_at:
            if at is not None:
                raise ValueError(f"audit rows are appended in time order: {when.isoformat()} "
                                 f"is before row {seq - 1} ({prev_at.isoformat()})")
            when = prev_at  # the clock stepped back: never write a row before its predecessor
        row: dict[str, Any] = {
            "id": seq, "at": when, "actor": _column("actor", event.actor),
            "action": _column("action", event.action), "outcome": event.outcome,
            "plate": _column("plate", event.plate), "data": data,
            "purpose": _column("purpose", event.purpose),
            "case_number": _column("case_number", event.case_number),
            "client_addr": _column("client_addr", event.client_addr), "prev_hash": prev_hash,
        }
        row["hash"] = chain_hash(key, prev_hash, row)
        return row

    return repo.append(engine, build)


def record(engine: Engine, event: AuditEvent, *, at: datetime | None = None) -> int:
    """Append ``event`` to the log and return its sequence number.

    ``at`` (default now) may not be earlier than the last row's time: the log
    is in time order, which is what makes backdating detectable.
    """
    return int(_append(engine, event, at)["id"])


def anchor_dir(settings: Settings) -> Path:
    """Where this installation's anchor file lives."""
    return settings.audit.anchor_path(settings.data_dir)


def write_anchor(engine: Engine, settings: Settings, *, actor: str = SYSTEM,
                 client_addr: str | None = None) -> dict[str, Any]:
    """Sign the chain head and append it to the anchor file; return the anchor line.

    The anchoring is itself an audit row (``audit.anchor``, naming the anchor's
    number), and that row is the head the anchor signs: deleting the last line
    of the anchor file leaves a row that names a missing anchor.
    """
    key = key_for(engine)
    start = repo.keyed_from(engine)

    def head(seq: int) -> dict[str, Any]:
        row = _append(engine, AuditEvent(actor=actor, action="audit.anchor",
                                         client_addr=client_addr, data={"anchor": seq}), None)
        return {"row_id": int(row["id"]), "hash": str(row["hash"]),
                "at": row["at"].isoformat(timespec="microseconds"), "keyed_from": start,
                "anchored_at": datetime.now(UTC).isoformat(timespec="microseconds")}

    return anchors.append_anchor(anchor_dir(settings), key, head)


def first_anchor_due(engine: Engine, settings: Settings) -> bool:
    """Tell whether the log holds rows but no anchor signs them yet (a database upgraded
    from the unkeyed chain: its first anchor records where the keyed chain starts)."""
    return repo.count(engine) > 0 and not anchors.read_anchors(anchor_dir(settings))


# --- verifying ----------------------------------------------------------------------------------

def verify(engine: Engine, anchor_directory: Path | None = None) -> ChainReport:
    """Walk the whole chain, then check it against every anchor; report the first fault.

    Without ``anchor_directory`` only the chain and the database's head are
    checked (what a copy of the database alone can prove).
    """
    from controller.audit.verify import verify_chain
    return verify_chain(engine, key_for(engine), anchor_directory)


def _keep_verify_function() -> None:
    # Importing a submodule binds its name on the package: the first verify() call
    # (which imports controller.audit.verify) replaced this function with the module,
    # so a second call in one process failed. Loaded once here, the function is put back.
    function = verify
    importlib.import_module("controller.audit.verify")
    globals()["verify"] = function


_keep_verify_function()
