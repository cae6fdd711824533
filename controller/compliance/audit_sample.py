"""The quarterly audit's random sample of searches (policy 462.6, issue 14 point 8).

Each quarter's audit package carries a sample of the quarter's searches that a
supervisor (an administrator) marks justified or not, with a note. So that an
auditor can check that nobody picked the sample by hand, it is drawn from a seed
nobody chooses and the package records the seed and the method (``METHOD``):

- seed = SHA-256 (hex) of ``"<quarter>|<row id>|<row hash>"``, where the row is
  the audit chain's head as anchored outside the database when the package is
  built (the anchor is in the package, ``audit-anchor.json``);
- every search of the quarter (an access-log entry whose action starts with
  ``search.`` and whose outcome is ``allowed``) gets the key SHA-256 (hex) of
  ``"<seed>|<entry id>"``;
- the sample is the ``size`` entries with the smallest keys (ties: smaller id), in
  that order.

The sample is drawn once per quarter and kept in the database; a package built
again for the same quarter carries the same sample. The quarter's review cannot
be recorded while a sampled search is unmarked (``exports.record_review``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from controller import audit
from controller.accounts import Caller, authorize, record
from controller.compliance import audit_flags
from controller.errors import AccessDenied, Conflict, ValidationError
from controller.store import Engine
from controller.store import audit as audit_repo
from controller.store import audit_samples as sample_repo
from controller.store.audit_samples import SampleItemRow, SampleRow
from controller.validation import required_text

__all__ = ["METHOD", "PERMISSION", "VERDICTS", "draw", "mark", "pending_items", "review_page",
           "sample_keys", "seed_for"]

PERMISSION = "compliance.manage"
VERDICTS = {"justified": "Justified", "not_justified": "Not justified"}
NOTE_LIMIT = 500
METHOD = (
    "seed = sha256_hex('<quarter>|<anchored chain head row id>|<its hash>'); each search of "
    "the quarter (access-log action 'search.*', outcome 'allowed') gets key = "
    "sha256_hex('<seed>|<entry id>'); the sample is the <size> searches with the smallest "
    "keys (ties: smaller id), in that order."
)


def seed_for(quarter: str, head_id: int, head_hash: str) -> str:
    """The seed of ``quarter``'s sample from the anchored chain head."""
    return hashlib.sha256(f"{quarter}|{head_id}|{head_hash}".encode()).hexdigest()


def sample_keys(seed: str, event_ids: Iterable[int]) -> list[tuple[str, int]]:
    """``(key, id)`` of every candidate, in the order the method draws them."""
    return sorted((hashlib.sha256(f"{seed}|{i}".encode()).hexdigest(), i) for i in event_ids)


def draw(engine: Engine, *, quarter: str, events: Sequence[Mapping[str, Any]],
         anchor: Mapping[str, Any], size: int, actor: str) -> SampleRow:
    """Draw ``quarter``'s sample from its access-log ``events`` (once; audited).

    A quarter that already has a sample keeps it: the stored one is returned.
    """
    existing = sample_repo.get_sample(engine, quarter)
    if existing is not None:
        return existing
    searches = {int(e["id"]): str(e["actor"]) for e in events if audit_flags.is_search(e)}
    head_id, head_hash = int(anchor["row_id"]), str(anchor["hash"])
    seed = seed_for(quarter, head_id, head_hash)
    chosen = [i for _key, i in sample_keys(seed, searches)[:size]]
    sample: SampleRow = {
        "quarter": quarter, "seed": seed, "method": METHOD, "size": size,
        "population": len(searches), "chain_head_id": head_id, "chain_head_hash": head_hash,
        "drawn_at": datetime.now(UTC), "drawn_by": actor}
    try:
        sample_repo.save_sample(engine, sample, [(i, searches[i]) for i in chosen])
    except Conflict:  # another builder drew it first: theirs stands
        stored = sample_repo.get_sample(engine, quarter)
        assert stored is not None
        return stored
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="audit.sample", data={
            "quarter": quarter, "seed": seed, "size": size, "population": len(searches),
            "chain_head_id": head_id, "sampled": chosen}))
    return sample


def package_record(engine: Engine, sample: SampleRow) -> dict[str, Any]:
    """What the package's ``sample.json`` holds: seed, method, the sampled searches."""
    sampled = sample_repo.items(engine, sample["quarter"])
    entries = {e["id"]: e for e in (audit_repo.audit_event(engine, s["event_id"])
                                    for s in sampled) if e is not None}
    return {
        **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in sample.items()},
        "searches": [{
            "position": s["position"], "event_id": s["event_id"], "actor": s["actor"],
            "at": entries[s["event_id"]]["at"].isoformat() if s["event_id"] in entries else None,
            "action": entries[s["event_id"]]["action"] if s["event_id"] in entries else None,
            "plate": entries[s["event_id"]]["plate"] if s["event_id"] in entries else None,
            "purpose": entries[s["event_id"]]["purpose"] if s["event_id"] in entries else None,
            "case_number": entries[s["event_id"]]["case_number"]
            if s["event_id"] in entries else None,
            "verdict": s["verdict"], "note": s["note"], "reviewed_by": s["reviewed_by"],
        } for s in sampled],
    }


def pending_items(engine: Engine, quarter: str) -> int:
    """How many sampled searches of ``quarter`` are still unmarked."""
    return sample_repo.unreviewed_count(engine, quarter)


# --- use cases: the supervisor's review -----------------------------------------------------

def review_page(engine: Engine, caller: Caller, quarter: str = "") -> dict[str, Any]:
    """The quarters with a sample and, for one, its searches with their entries."""
    authorize(engine, caller, PERMISSION, "audit.sample_view", data={"quarter": quarter})
    quarters = sample_repo.sampled_quarters(engine)
    chosen = quarter.strip().upper() or (quarters[0]["quarter"] if quarters else "")
    sample = sample_repo.get_sample(engine, chosen) if chosen else None
    rows: list[dict[str, Any]] = []
    if sample is not None:
        for item in sample_repo.items(engine, chosen):
            entry = audit_repo.audit_event(engine, item["event_id"])
            rows.append({**item, "entry": entry,
                         "own": item["actor"] == caller.username})
    return {"quarters": quarters, "quarter": chosen, "sample": sample, "items": rows}


def mark(engine: Engine, caller: Caller, item_id: int, *, verdict: str,
         note: str) -> SampleItemRow:
    """Mark one sampled search justified or not, with a note (audited, once).

    Nobody marks their own searches: that refusal is audited as denied.
    """
    authorize(engine, caller, PERMISSION, "audit.sample_review", data={"item": item_id})
    item = sample_repo.get_item(engine, item_id)
    if item is None:
        raise ValidationError("item", f"no sampled search {item_id}")
    if verdict not in VERDICTS:
        raise ValidationError("verdict", "mark the search justified or not justified")
    text = required_text("note", note, NOTE_LIMIT)
    if item["actor"] == caller.username:
        reason = "nobody reviews their own searches (policy 462.6)"
        record(engine, caller, "audit.sample_review", outcome="denied",
               data={"quarter": item["quarter"], "item": item_id, "event_id": item["event_id"],
                     "reason": reason})
        raise AccessDenied(reason)
    if not sample_repo.set_verdict(engine, item_id, verdict=verdict, note=text,
                                   reviewer=caller.username, now=datetime.now(UTC)):
        raise ValidationError("item", f"sampled search {item_id} is already marked")
    record(engine, caller, "audit.sample_review",
           data={"quarter": item["quarter"], "item": item_id, "event_id": item["event_id"],
                 "searched_by": item["actor"], "verdict": verdict, "note": text})
    marked = sample_repo.get_item(engine, item_id)
    assert marked is not None
    return marked
