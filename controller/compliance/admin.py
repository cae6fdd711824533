"""The ALPR administrator's compliance use cases (462.3.1): purges, audits, court orders, policy.

Every function needs ``compliance.manage`` (administrators only) and current
training; a refusal is audited under the action it would have taken. The work
itself, and its audit record, is done by the module that owns it (``retention``,
``exports``, ``court_orders``, ``transparency``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from controller.accounts import Caller, authorize
from controller.bridge import ChangeNotice
from controller.compliance import court_orders, exports, retention, transparency
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from controller.store import audit_samples as sample_repo
from controller.store import regions as region_repo
from controller.store import retention as retention_repo
from controller.store import sites as site_repo
from controller.store.records import PolicySummary, PurgeProposal
from controller.validation import parse_time, record_id, required_day

PERMISSION = "compliance.manage"
OVERVIEW_ROWS = 5


def overview(engine: Engine, caller: Caller) -> dict[str, Any]:
    """The newest purge proposals and audit reviews, and the masks lifted now."""
    authorize(engine, caller, PERMISSION, "compliance.view")
    return {"proposals": retention_repo.list_proposals(engine, OVERVIEW_ROWS),
            "reviews": audit_repo.list_reviews(engine)[:OVERVIEW_ROWS],
            "lifts": court_orders.active_lifts(engine)}


# --- retention (462.8, 462.10) ------------------------------------------------------

def purge_proposals(engine: Engine, caller: Caller) -> list[PurgeProposal]:
    """Purge proposals with their approvals, newest first."""
    authorize(engine, caller, PERMISSION, "retention.view")
    return retention_repo.list_proposals(engine)


def propose_purge(engine: Engine, settings: Settings, caller: Caller) -> PurgeProposal:
    """Record a proposal listing what is eligible for purging now (audited)."""
    authorize(engine, caller, PERMISSION, "retention.propose")
    proposal = retention.propose(engine, settings, **caller.who())
    assert proposal is not None  # a person's proposal is always recorded, even empty
    return proposal


def record_council_approval(engine: Engine, caller: Caller, proposal_id: int, *,
                            meeting_on: date, resolution: str) -> None:
    """Record the City Council's approval of a proposal (audited)."""
    authorize(engine, caller, PERMISSION, "retention.council", data={"proposal": proposal_id})
    retention.record_council(engine, proposal_id, meeting_on=meeting_on,
                             resolution=resolution, **caller.who())


def record_attorney_permission(engine: Engine, caller: Caller, proposal_id: int, *,
                               name: str, permitted_on: date) -> None:
    """Record the City Attorney's permission for a proposal (audited)."""
    authorize(engine, caller, PERMISSION, "retention.attorney", data={"proposal": proposal_id})
    retention.record_attorney(engine, proposal_id, name=name, permitted_on=permitted_on,
                              **caller.who())


def purge_approved(engine: Engine, settings: Settings, caller: Caller,
                   proposal_id: int) -> retention.PurgeReport:
    """Purge an approved proposal; refused (PolicyViolation) while an approval is missing."""
    authorize(engine, caller, PERMISSION, "retention.purge", data={"proposal": proposal_id})
    return retention.purge(engine, settings, proposal_id, **caller.who())


# --- quarterly audit (462.6) ------------------------------------------------------------

def audit_packages(engine: Engine, settings: Settings, caller: Caller) -> dict[str, Any]:
    """Recorded reviews, the audit packages on disk and where they are."""
    authorize(engine, caller, PERMISSION, "audit.packages")
    folder = exports.audit_export_dir(settings)
    packages = sorted((p.name for p in folder.iterdir() if p.is_dir() and
                       not p.name.startswith(".")), reverse=True) if folder.exists() else []
    return {"reviews": audit_repo.list_reviews(engine), "packages": packages, "folder": folder,
            "default_quarter": exports.previous_quarter(datetime.now(UTC).date())}


def export_audit_package(engine: Engine, settings: Settings, caller: Caller,
                         quarter: str) -> Path:
    """Build a quarter's audit package now (audited); return its folder."""
    authorize(engine, caller, PERMISSION, "export.audit", data={"quarter": quarter})
    out = exports.audit_export_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    return exports.build_audit_package(engine, settings, quarter, out, **caller.who())


def record_audit_review(engine: Engine, caller: Caller, *, quarter: str, reviewed_on: date,
                        findings: str, actions: str) -> int:
    """Record the review of a quarter: date, findings, actions (audited)."""
    authorize(engine, caller, PERMISSION, "audit.review", data={"quarter": quarter})
    return exports.record_review(engine, quarter=quarter, reviewed_on=reviewed_on,
                                 findings=findings, actions=actions, **caller.who())


@dataclass(frozen=True)
class OverdueReview:
    """A quarter whose audit package exists but whose review is not recorded in time."""

    quarter: str
    due_on: date
    days_late: int
    unmarked_sample: int


def overdue_reviews(engine: Engine, settings: Settings,
                    today: date | None = None) -> list[OverdueReview]:
    """Quarters whose package is built (sample drawn, or folder on disk) and whose review
    is not recorded ``settings.audit.review_due_days`` after the quarter's end.

    Policy 462.6: the ALPR Administrator performs audits on a quarterly basis; a
    quarter's audit is late once the next quarter is under way by the configured
    number of days (30 by default). No plate data: counts and quarter labels only.
    """
    today = today or datetime.now(UTC).date()
    built = {q["quarter"] for q in sample_repo.sampled_quarters(engine)}
    folder = exports.audit_export_dir(settings)
    if folder.is_dir():
        built |= {p.name.removeprefix("audit-") for p in folder.iterdir()
                  if p.is_dir() and p.name.startswith("audit-")}
    reviewed = {r["quarter"] for r in audit_repo.list_reviews(engine)}
    late = []
    for quarter in sorted(built - reviewed):
        try:
            label, _start, end = exports.parse_quarter(quarter)
        except ValidationError:
            continue  # a folder someone named by hand
        due = end.date() + timedelta(days=settings.audit.review_due_days)
        if today > due:
            late.append(OverdueReview(label, due, (today - due).days,
                                      sample_repo.unreviewed_count(engine, label)))
    return late


def overdue_for(engine: Engine, settings: Settings, caller: Caller) -> list[OverdueReview]:
    """The overdue reviews the administrator's start page shows (``compliance.manage``)."""
    authorize(engine, caller, PERMISSION, "audit.overdue")
    return overdue_reviews(engine, settings)


# --- court orders (462.7.1(1)) -------------------------------------------------------------

def court_orders_on_file(engine: Engine, caller: Caller) -> dict[str, Any]:
    """Every privacy mask (with its camera and any lift) and every lift, current and past."""
    authorize(engine, caller, PERMISSION, "mask.view")
    cameras = site_repo.list_cameras(engine)
    masks = [dict(r, camera=c["name"]) for c in cameras
             for r in region_repo.with_lifts(engine, [c["id"]]) if r["kind"] == "privacy_mask"]
    return {"masks": masks, "lifts": region_repo.suspensions(engine)}


def lift_mask(engine: Engine, caller: Caller, *, region_id: str, court_order: str, court: str,
              expires_at: str, notify: ChangeNotice) -> tuple[int, datetime]:
    """Lift a privacy mask under a court order until its expiry (audited).

    ``notify`` tells the controller that masks changed (the bridge's, from a web
    thread). Return the mask's id and the expiry, as read from the typed fields.
    """
    authorize(engine, caller, PERMISSION, "mask.lift", data={"region_id": region_id})
    expires = parse_time("expires_at", expires_at)
    if expires is None:
        raise ValidationError("expires_at", "the order's expiry is required")
    region = record_id("region_id", region_id)
    court_orders.lift_mask(engine, region_id=region, court_order=court_order, court=court,
                           expires_at=expires, notify=notify, **caller.who())
    return region, expires


# --- policy publication (462.9) -----------------------------------------------------------

def policy_versions(engine: Engine, caller: Caller) -> list[PolicySummary]:
    """Every published policy version, newest first."""
    authorize(engine, caller, PERMISSION, "policy.view")
    return account_repo.policy_history(engine)


def publish_policy_document(engine: Engine, caller: Caller, *, version: str, title: str,
                            adopted_on: str, filename: str, data: bytes | None) -> int:
    """Publish a policy version from a Markdown or PDF file; every user acknowledges it."""
    authorize(engine, caller, PERMISSION, "policy.publish", data={"version": version})
    if data is None:
        raise ValidationError("file", "choose the policy file to upload")
    return transparency.publish_document(engine, version=version, title=title,
                                         adopted_on=required_day("adopted_on", adopted_on),
                                         filename=Path(filename).name, data=data,
                                         **caller.who())
