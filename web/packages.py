"""Downloads (462.5, 462.6, 462.10, 462.12): packages and CSV files leave in the browser.

Evidence and sharing packages go to their owner; a quarterly audit package to the
administrator, by the name the audits page lists; a search's results as CSV to the
searcher, for a search run under their open purpose statement; the access log as
CSV, with the page's filter, to those who read it. Each use case checks who may
have it and writes the access log entry; a refusal is a 403 with its reason, a bad
field a 400. Zips are sent as attachments from a spooled file; CSV is formula-safe.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, send_file
from flask.typing import ResponseReturnValue

from controller.compliance import audit_log, downloads, packages
from web.agency import zone
from web.forms import form_id
from web.security import caller, engine, permission, settings

bp = Blueprint("packages", __name__, url_prefix="/packages")


def _zip(package: packages.Download) -> ResponseReturnValue:
    return send_file(package.file, mimetype="application/zip", as_attachment=True,
                     download_name=package.filename, max_age=0)


def _csv(download: downloads.CsvDownload) -> ResponseReturnValue:
    # A byte-order mark, so a spreadsheet reads the UTF-8 names and notes as such.
    return Response("\ufeff" + download.text, mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{download.filename}"'})


def _send(kind: str) -> ResponseReturnValue:
    return _zip(packages.download(engine(), caller(), kind, form_id("package_id")))


@bp.post("/evidence/download")
@permission("holds.manage")
def evidence_download() -> ResponseReturnValue:
    """Download one's own evidence package (a zip with its SHA-256 manifest)."""
    return _send("evidence")


@bp.post("/sharing/download")
@permission("compliance.manage")
def sharing_download() -> ResponseReturnValue:
    """Download one's own sharing package, for the requesting agency's handler."""
    return _send("sharing")


@bp.post("/audit/download")
@permission("compliance.manage")
def audit_download() -> ResponseReturnValue:
    """Download a quarterly audit package by its name (a zip with its manifest)."""
    return _zip(downloads.audit_package(engine(), settings(), caller(),
                                        request.form.get("name", "")))


@bp.post("/search.csv")
@permission("search")
def search_csv() -> ResponseReturnValue:
    """Download the results of one's own search, just run, as CSV."""
    return _csv(downloads.search_csv(engine(), caller(), request.form.get("search_id", "")))


@bp.get("/access-log.csv")
@permission("audit.view")
def audit_log_csv() -> ResponseReturnValue:
    """Download the access log with the audit page's filter as CSV (its days are the
    agency's, as on the page, so the file holds the rows the page showed)."""
    args = request.args
    return _csv(downloads.audit_log_csv(engine(), caller(), audit_log.AuditFilters(
        actor=args.get("actor", ""), action=args.get("action", ""),
        plate=args.get("plate", ""), since=args.get("since", ""),
        until=args.get("until", ""), zone=zone())))
