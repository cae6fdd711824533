"""The administrator's paperwork (462.3.1): purges, audit reviews, court orders, policy.

Every form posts ids in its fields (no ids in URLs); every action is audited by
the controller function it calls; bad input re-renders the page with the
message naming the field, and nothing stored changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from controller.compliance import court_orders, exports, retention, transparency
from controller.errors import PolicyViolation, ValidationError
from controller.store import compliance as repo
from controller.store import compliance_reports as reports
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from web.forms import parse_time
from web.security import client_addr, engine, permission, settings

bp = Blueprint("compliance", __name__, url_prefix="/compliance")


def who() -> dict[str, Any]:
    """The actor and client address every controller call records."""
    return {"actor": str(g.user["username"]), "client_addr": client_addr()}


def form_date(field: str) -> date:
    """A YYYY-MM-DD form field, or a ValidationError naming it."""
    try:
        return date.fromisoformat(request.form.get(field, "").strip())
    except ValueError:
        raise ValidationError(field, "enter a date as YYYY-MM-DD") from None


def form_int(field: str) -> int:
    """A whole-number form field, or a ValidationError naming it."""
    try:
        return int(request.form.get(field, "").strip())
    except ValueError:
        raise ValidationError(field, "a number is required") from None


def act(action: Callable[[], str], page: Callable[..., str], back: str) -> ResponseReturnValue:
    """Run a form action: flash its message and go back, or show the error (400/403)."""
    try:
        message = action()
    except ValidationError as exc:
        return page(error=str(exc)), 400
    except PolicyViolation as exc:
        return page(error=str(exc)), 403
    flash(message, "info")
    return redirect(url_for(back), 303)


@bp.get("")
@permission("compliance.manage")
def index() -> str:
    """The administrator's overview of every compliance area."""
    return render_template("compliance/index.html",
                           proposals=repo.list_proposals(engine(), 5),
                           reviews=repo.list_reviews(engine())[:5],
                           lifts=court_orders.active_lifts(engine()))


# --- retention ------------------------------------------------------------

def _retention_page(**context: Any) -> str:
    return render_template("compliance/retention.html",
                           proposals=repo.list_proposals(engine()),
                           retention_days=settings().retention.days,
                           missing=retention.missing_approvals, form=request.form, **context)


@bp.get("/retention")
@permission("compliance.manage")
def retention_page() -> str:
    """Purge proposals with their approvals (462.8)."""
    return _retention_page()


@bp.post("/retention/propose")
@permission("compliance.manage")
def retention_propose() -> ResponseReturnValue:
    """Record a proposal for what is eligible now."""
    def go() -> str:
        proposal = retention.propose(engine(), settings(), **who())
        assert proposal is not None
        return f"Proposal {proposal['id']} lists {proposal['read_count']} reads."
    return act(go, _retention_page, "compliance.retention_page")


@bp.post("/retention/council")
@permission("compliance.manage")
def retention_council() -> ResponseReturnValue:
    """Record the City Council's approval of a proposal."""
    def go() -> str:
        proposal_id = form_int("proposal_id")
        retention.record_council(engine(), proposal_id,
                                 meeting_on=form_date("council_meeting_on"),
                                 resolution=request.form.get("council_resolution", ""), **who())
        return f"City Council approval recorded for proposal {proposal_id}."
    return act(go, _retention_page, "compliance.retention_page")


@bp.post("/retention/attorney")
@permission("compliance.manage")
def retention_attorney() -> ResponseReturnValue:
    """Record the City Attorney's permission for a proposal."""
    def go() -> str:
        proposal_id = form_int("proposal_id")
        retention.record_attorney(engine(), proposal_id,
                                  name=request.form.get("attorney_name", ""),
                                  permitted_on=form_date("attorney_on"), **who())
        return f"City Attorney permission recorded for proposal {proposal_id}."
    return act(go, _retention_page, "compliance.retention_page")


@bp.post("/retention/purge")
@permission("compliance.manage")
def retention_purge() -> ResponseReturnValue:
    """Purge an approved proposal (refused while an approval is missing)."""
    def go() -> str:
        report = retention.purge(engine(), settings(), form_int("proposal_id"), **who())
        return (f"Purged proposal {report.proposal_id}: {report.reads} reads, {report.hits} "
                f"hits, {report.files} image files (verified gone).")
    return act(go, _retention_page, "compliance.retention_page")


# --- quarterly audit ------------------------------------------------------------

def _audits_page(**context: Any) -> str:
    folder = exports.audit_export_dir(settings())
    packages = sorted((p.name for p in folder.iterdir() if p.is_dir() and
                       not p.name.startswith(".")), reverse=True) if folder.exists() else []
    return render_template("compliance/audits.html", reviews=repo.list_reviews(engine()),
                           packages=packages, folder=folder, form=request.form,
                           default_quarter=exports.previous_quarter(datetime.now(UTC).date()),
                           **context)


@bp.get("/audits")
@permission("compliance.manage")
def audits() -> str:
    """Audit packages and the administrator's recorded reviews (462.6)."""
    return _audits_page()


@bp.post("/audits/export")
@permission("compliance.manage")
def audit_export() -> ResponseReturnValue:
    """Build a quarter's audit package now."""
    def go() -> str:
        out = exports.audit_export_dir(settings())
        out.mkdir(parents=True, exist_ok=True)
        path = exports.build_audit_package(engine(), settings(),
                                           request.form.get("quarter", ""), out, **who())
        return f"Audit package written to {path}."
    return act(go, _audits_page, "compliance.audits")


@bp.post("/audits/review")
@permission("compliance.manage")
def audit_review() -> ResponseReturnValue:
    """Record the review of a quarter: date, findings, actions."""
    def go() -> str:
        quarter = request.form.get("quarter", "")
        exports.record_review(engine(), quarter=quarter, reviewed_on=form_date("reviewed_on"),
                              findings=request.form.get("findings", ""),
                              actions=request.form.get("actions", ""), **who())
        return f"Review of {quarter.upper()} recorded."
    return act(go, _audits_page, "compliance.audits")


# --- court orders ------------------------------------------------------------

def _orders_page(**context: Any) -> str:
    cameras = site_repo.list_cameras(engine())
    masks = [dict(r, camera=c["name"]) for c in cameras
             for r in region_repo.with_lifts(engine(), [c["id"]]) if r["kind"] == "privacy_mask"]
    return render_template("compliance/court_orders.html", masks=masks,
                           lifts=repo.suspensions(engine()), now=datetime.now(UTC),
                           form=request.form, **context)


@bp.get("/court-orders")
@permission("compliance.manage")
def court_orders_page() -> str:
    """Masks lifted under court order, current and past (462.7.1(1))."""
    return _orders_page()


@bp.post("/court-orders")
@permission("compliance.manage")
def lift() -> ResponseReturnValue:
    """Lift a privacy mask under a court order until its expiry."""
    def go() -> str:
        expires = parse_time("expires_at", request.form.get("expires_at", ""))
        if expires is None:
            raise ValidationError("expires_at", "the order's expiry is required")
        region_id = form_int("region_id")
        court_orders.lift_mask(engine(), region_id=region_id,
                               court_order=request.form.get("court_order", ""),
                               court=request.form.get("court", ""), expires_at=expires, **who())
        return f"Mask {region_id} lifted until {expires:%Y-%m-%d %H:%M} UTC."
    return act(go, _orders_page, "compliance.court_orders_page")


# --- policy publication ------------------------------------------------------------

def _policy_page(**context: Any) -> str:
    return render_template("compliance/policy.html",
                           history=reports.policy_history(engine()),
                           form=request.form, **context)


@bp.get("/policy")
@permission("compliance.manage")
def policy_page() -> str:
    """Published policy versions and the upload form (462.9)."""
    return _policy_page()


@bp.post("/policy")
@permission("compliance.manage")
def policy_upload() -> ResponseReturnValue:
    """Publish a policy version from a Markdown or PDF file."""
    def go() -> str:
        file = request.files.get("file")
        if file is None or not file.filename:
            raise ValidationError("file", "choose the policy file to upload")
        version = request.form.get("version", "")
        transparency.publish_document(
            engine(), version=version, title=request.form.get("title", ""),
            adopted_on=form_date("adopted_on"), filename=Path(file.filename).name,
            data=file.read(), **who())
        return f"Policy version {version.strip()} published; every user acknowledges it."
    return act(go, _policy_page, "compliance.policy_page")
