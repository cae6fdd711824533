"""``sightline program``: the public hearing and adoption that activate recording (462.9)."""

from __future__ import annotations

from datetime import datetime

import click

from controller.compliance import program


@click.group("program")
def command() -> None:
    """Program activation: no read is recorded before hearing and adoption are on record."""


@command.command("activate")
@click.option("--hearing", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Date of the City Council's public hearing (YYYY-MM-DD).")
@click.option("--adopted", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Date the Council adopted the policy (YYYY-MM-DD).")
@click.option("--resolution", required=True, help="Council resolution number.")
@click.pass_obj
def activate(obj: object, hearing: datetime, adopted: datetime, resolution: str) -> None:
    """Record the public hearing and adoption (audited)."""
    caller = obj.authorized("compliance.manage", "program.activate")  # type: ignore[attr-defined]
    engine = obj.engine()  # type: ignore[attr-defined]
    program.activate(engine, hearing_on=hearing.date(), adopted_on=adopted.date(),
                     resolution=resolution, **caller.who())
    click.echo(program.status(engine).reason)


@command.command("status")
@click.pass_obj
def status(obj: object) -> None:
    """Say whether cameras may record reads, and why not."""
    obj.authorized("home", "program.status")  # type: ignore[attr-defined]
    state = program.status(obj.engine())  # type: ignore[attr-defined]
    click.echo(state.reason)
