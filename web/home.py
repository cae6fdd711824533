"""The start page: the areas each role works in."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.security import permission

bp = Blueprint("home", __name__)


@bp.get("/")
@permission("home")
def index() -> str:
    """Show the signed-in user the areas their role opens."""
    return render_template("home.html")
