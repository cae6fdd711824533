"""``sightline purpose``: state, show or end the purpose window that covers plate data (462.5).

The same window as the web's /purpose form (one open per user, in the database):
a purpose stated here covers the user's pages too, and one stated on the web
covers their commands. Commands that show plate data refuse without one and
name the window's purpose and case number in their audit entries.
"""

from __future__ import annotations

from typing import Any

import click

from controller.accounts import purpose as use

HINT = ("run `sightline purpose state --purpose PURPOSE --case-number CASE --attest` "
        "first (`sightline purpose show` lists the purposes)")


def _describe(window: use.Window) -> str:
    case = f", case {window.case_number}" if window.case_number else ""
    return (f"purpose: {window.purpose}{case}; covers your views until "
            f"{window.expires_at:%Y-%m-%d %H:%M} UTC")


@click.group("purpose")
def command() -> None:
    """Why you are looking at plate data: a purpose and case number, stated once (462.5)."""


@command.command("state")
@click.option("--purpose", "purpose_text", required=True,
              help="One of the configured purposes (see `sightline purpose show`).")
@click.option("--case-number", default="", help="The case the work is for.")
@click.option("--attest", is_flag=True,
              help="Attest that this work is for official law-enforcement use.")
@click.pass_obj
def state_cmd(obj: Any, purpose_text: str, case_number: str, attest: bool) -> None:
    """Open your purpose window (replacing an open one); audited."""
    window = use.state(obj.engine(), obj.settings, obj.caller(), use.PurposeForm(
        purpose_text, case_number, "yes" if attest else ""))
    click.echo(_describe(window))


@command.command("show")
@click.pass_obj
def show_cmd(obj: Any) -> None:
    """Print your open purpose window (shared with the web), or the purposes to choose from."""
    caller = obj.authorized(use.PERMISSION, "purpose.show")
    window = use.current(obj.engine(), caller)
    if window is not None:
        click.echo(_describe(window))
        return
    click.echo("no purpose is open; plate data stays closed until you state one with "
               "`sightline purpose state`. Purposes:")
    for name in obj.settings.search.purposes:
        click.echo(f"  {name}")


@command.command("end")
@click.pass_obj
def end_cmd(obj: Any) -> None:
    """End your open purpose window now (audited)."""
    ended = use.end(obj.engine(), obj.caller())
    click.echo("purpose ended: plate data is closed until you state a new one" if ended
               else "no purpose was open")
