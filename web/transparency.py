"""The public transparency page (policy 462.9): no login, no personal data.

It shows the adopted policy and its history, the public hearing, the retention
period, the number of sites and cameras, reads, hits and searches in the last
30 days, the agencies data was shared with, and the last audit review's date.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, render_template, request

from controller.compliance import transparency
from web.security import engine, permission, settings

bp = Blueprint("transparency", __name__, url_prefix="/transparency")


@bp.get("")
@permission("public")
def index() -> str:
    """The program's public facts and the current policy."""
    facts = transparency.transparency(engine(), settings())
    return render_template("transparency/index.html", facts=facts,
                           text=transparency.policy_text(engine(), facts["current"]),
                           pdf=transparency.PDF)


@bp.get("/policy")
@permission("public")
def document() -> Response:
    """One published policy version as it was adopted (Markdown or PDF)."""
    row = transparency.published_policy(engine(), request.args.get("version", ""))
    label = re.sub(r"[^A-Za-z0-9._-]", "_", str(row["version"]))
    extension = "pdf" if row["content_type"] == transparency.PDF else "md"
    return Response(bytes(row["content"]), content_type=str(row["content_type"]), headers={
        "Content-Disposition": f'inline; filename="alpr-policy-{label}.{extension}"',
        "X-Content-SHA256": str(row["sha256"])})
