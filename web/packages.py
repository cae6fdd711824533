"""Package downloads (462.10, 462.12): evidence and sharing packages leave by their owner.

Each download posts the package's id (CSRF-checked, no ids in URLs); the use case
checks the caller owns the package, verifies its manifest and writes the access
log entry; a refusal is a 403 with its reason, a bad id a 400.
"""

from __future__ import annotations

from flask import Blueprint, send_file
from flask.typing import ResponseReturnValue

from controller.compliance import packages
from web.forms import form_id
from web.security import caller, engine, permission

bp = Blueprint("packages", __name__, url_prefix="/packages")


def _send(kind: str) -> ResponseReturnValue:
    package = packages.download(engine(), caller(), kind, form_id("package_id"))
    return send_file(package.file, mimetype="application/zip", as_attachment=True,
                     download_name=package.filename, max_age=0)


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
