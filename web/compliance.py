"""The administrator's paperwork (462.3.1): purges, audit reviews, court orders, policy.

Every form posts ids in its fields (no ids in URLs); every action is a use case
of ``controller.compliance.admin``, which checks the caller and is audited; bad
input re-renders the page with the message naming the field (400), a refusal by
the policy with its reason (403), and nothing stored changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from controller.compliance import admin, retention
from web.agency import form_time, local
from web.cameras import bridge
from web.forms import done, form_date, form_id, on_error, shown_on
from web.security import caller, engine, permission, settings

bp = Blueprint("compliance", __name__, url_prefix="/compliance")


@bp.get("")
@permission("compliance.manage")
def index() -> str:
    """The administrator's overview of every compliance area."""
    return render_template("compliance/index.html", **admin.overview(engine(), caller()))


# --- retention ------------------------------------------------------------

def _retention_page(**context: Any) -> str:
    return render_template("compliance/retention.html",
                           proposals=admin.purge_proposals(engine(), caller()),
                           retention_days=settings().retention.days,
                           missing=retention.missing_approvals, form=request.form, **context)


@bp.get("/retention")
@permission("compliance.manage")
def retention_page() -> str:
    """Purge proposals with their approvals (462.8)."""
    return _retention_page()


@bp.post("/retention/propose")
@permission("compliance.manage")
@on_error(shown_on(_retention_page))
def retention_propose() -> ResponseReturnValue:
    """Record a proposal for what is eligible now."""
    proposal = admin.propose_purge(engine(), settings(), caller())
    return done(f"Proposal {proposal['id']} lists {proposal['read_count']} reads.",
                "compliance.retention_page")


@bp.post("/retention/council")
@permission("compliance.manage")
@on_error(shown_on(_retention_page))
def retention_council() -> ResponseReturnValue:
    """Record the City Council's approval of a proposal."""
    proposal_id = form_id("proposal_id")
    admin.record_council_approval(engine(), caller(), proposal_id,
                                  meeting_on=form_date("council_meeting_on"),
                                  resolution=request.form.get("council_resolution", ""))
    return done(f"City Council approval recorded for proposal {proposal_id}.",
                "compliance.retention_page")


@bp.post("/retention/attorney")
@permission("compliance.manage")
@on_error(shown_on(_retention_page))
def retention_attorney() -> ResponseReturnValue:
    """Record the City Attorney's permission for a proposal."""
    proposal_id = form_id("proposal_id")
    admin.record_attorney_permission(engine(), caller(), proposal_id,
                                     name=request.form.get("attorney_name", ""),
                                     permitted_on=form_date("attorney_on"))
    return done(f"City Attorney permission recorded for proposal {proposal_id}.",
                "compliance.retention_page")


@bp.post("/retention/purge")
@permission("compliance.manage")
@on_error(shown_on(_retention_page))
def retention_purge() -> ResponseReturnValue:
    """Purge an approved proposal (refused while an approval is missing)."""
    report = admin.purge_approved(engine(), settings(), caller(), form_id("proposal_id"))
    return done(f"Purged proposal {report.proposal_id}: {report.reads} reads, {report.hits} "
                f"hits, {report.files} image files (verified gone).",
                "compliance.retention_page")


# --- quarterly audit ------------------------------------------------------------

def _audits_page(**context: Any) -> str:
    return render_template("compliance/audits.html", form=request.form,
                           **admin.audit_packages(engine(), settings(), caller()), **context)


@bp.get("/audits")
@permission("compliance.manage")
def audits() -> str:
    """Audit packages and the administrator's recorded reviews (462.6)."""
    return _audits_page()


@bp.post("/audits/export")
@permission("compliance.manage")
@on_error(shown_on(_audits_page))
def audit_export() -> ResponseReturnValue:
    """Build a quarter's audit package now."""
    path = admin.export_audit_package(engine(), settings(), caller(),
                                      request.form.get("quarter", ""))
    return done(f"Audit package {path.name} built: download it from the list.",
                "compliance.audits")


@bp.post("/audits/review")
@permission("compliance.manage")
@on_error(shown_on(_audits_page))
def audit_review() -> ResponseReturnValue:
    """Record the review of a quarter: date, findings, actions."""
    quarter = request.form.get("quarter", "")
    admin.record_audit_review(engine(), caller(), quarter=quarter,
                              reviewed_on=form_date("reviewed_on"),
                              findings=request.form.get("findings", ""),
                              actions=request.form.get("actions", ""))
    return done(f"Review of {quarter.upper()} recorded.", "compliance.audits")


# --- court orders ------------------------------------------------------------

def _orders_page(**context: Any) -> str:
    return render_template("compliance/court_orders.html", form=request.form,
                           now=datetime.now(UTC), **admin.court_orders_on_file(engine(), caller()),
                           **context)


@bp.get("/court-orders")
@permission("compliance.manage")
def court_orders_page() -> str:
    """Masks lifted under court order, current and past (462.7.1(1))."""
    return _orders_page()


@bp.post("/court-orders")
@permission("compliance.manage")
@on_error(shown_on(_orders_page))
def lift() -> ResponseReturnValue:
    """Lift a privacy mask under a court order until its expiry."""
    form = request.form
    region_id, expires = admin.lift_mask(
        engine(), caller(), region_id=form.get("region_id", ""),
        court_order=form.get("court_order", ""), court=form.get("court", ""),
        expires_at=form_time("expires_at"), notify=bridge().notify)
    return done(f"Mask {region_id} lifted until {local(expires)}.",
                "compliance.court_orders_page")


# --- policy publication ------------------------------------------------------------

def _policy_page(**context: Any) -> str:
    return render_template("compliance/policy.html",
                           history=admin.policy_versions(engine(), caller()),
                           form=request.form, **context)


def publish_policy_form() -> str:
    """Publish the policy version the posted form describes (version, title, adoption
    date, Markdown or PDF file; the first-run page posts the same form); return it."""
    file = request.files.get("file")
    chosen = file is not None and bool(file.filename)
    version = request.form.get("version", "")
    admin.publish_policy_document(
        engine(), caller(), version=version, title=request.form.get("title", ""),
        adopted_on=request.form.get("adopted_on", ""),
        filename=str(file.filename) if file is not None and chosen else "",
        data=file.read() if file is not None and chosen else None)
    return version.strip()


@bp.get("/policy")
@permission("compliance.manage")
def policy_page() -> str:
    """Published policy versions and the upload form (462.9)."""
    return _policy_page()


@bp.post("/policy")
@permission("compliance.manage")
@on_error(shown_on(_policy_page))
def policy_upload() -> ResponseReturnValue:
    """Publish a policy version from a Markdown or PDF file."""
    version = publish_policy_form()
    return done(f"Policy version {version} published; every user acknowledges it.",
                "compliance.policy_page")
