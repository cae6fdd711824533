"""The start page: the areas each role works in; for administrators, what is overdue."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from controller.accounts import dormancy
from controller.compliance import admin
from web.security import caller, can, engine, permission, settings

bp = Blueprint("home", __name__)


@bp.get("/")
@permission("home")
def index() -> ResponseReturnValue:
    """Send vendors to camera health; show everyone else the areas their role opens.

    Administrators also see every quarterly review that is overdue (policy 462.6) and the
    accounts due for this quarter's reconfirmation or suspended (462.4).
    """
    if g.user["role"] == "vendor":
        return redirect(url_for("cameras.index"))
    overdue = admin.overdue_for(engine(), settings(), caller()) \
        if can("compliance.manage") else []
    accounts = dormancy.reconfirmation(engine(), caller()) if can("users.manage") else None
    return render_template("home.html", overdue=overdue, accounts=accounts)
