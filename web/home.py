"""The start page: the areas each role works in."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from web.security import permission

bp = Blueprint("home", __name__)


@bp.get("/")
@permission("home")
def index() -> ResponseReturnValue:
    """Send vendors to camera health; show everyone else the areas their role opens."""
    if g.user["role"] == "vendor":
        return redirect(url_for("cameras.index"))
    return render_template("home.html")
