"""``sightline retention``: purge proposals, their two approvals, and the purge (462.8)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from controller.compliance import admin, retention
from controller.store.records import PurgeProposal


@click.group("retention")
def command() -> None:
    """Retention: nothing is purged without the City Council and the City Attorney."""


def _show(proposal: PurgeProposal) -> str:
    span = ""
    if proposal["oldest"] is not None:
        span = f" seen {proposal['oldest']:%Y-%m-%d} to {proposal['newest']:%Y-%m-%d}"
    return (f"proposal {proposal['id']}: {proposal['read_count']} reads before "
            f"{proposal['cutoff']:%Y-%m-%d}{span}; status {proposal['status']}")


@command.command("propose")
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@click.pass_obj
def propose(obj: Any, as_json: bool) -> None:
    """Record what is eligible for purging now and print the proposal id."""
    proposal = admin.propose_purge(obj.engine(), obj.settings, obj.caller())
    if as_json:
        click.echo(json.dumps({"id": proposal["id"], "reads": proposal["read_count"],
                               "cutoff": proposal["cutoff"].isoformat()}))
    else:
        click.echo(proposal["id"])
        click.echo(_show(proposal), err=True)


@command.command("approve")
@click.argument("proposal_id", type=int)
@click.option("--council", "council", metavar="YYYY-MM-DD:RESOLUTION",
              help="City Council approval: meeting date and resolution number.")
@click.option("--attorney", "attorney", metavar="YYYY-MM-DD:NAME",
              help="City Attorney permission: date and the attorney's name.")
@click.pass_obj
def approve(obj: Any, proposal_id: int, council: str | None, attorney: str | None) -> None:
    """Record one approval of a proposal (exactly one of --council or --attorney)."""
    if (council is None) == (attorney is None):
        raise click.UsageError("give exactly one of --council or --attorney")
    value = council or attorney or ""
    day_text, sep, rest = value.partition(":")
    try:
        day = datetime.strptime(day_text, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter("start with the date as YYYY-MM-DD, then ':'",
                                 param_hint="--council" if council else "--attorney") from None
    if not sep or not rest.strip():
        raise click.BadParameter("after the date and ':' give the resolution number or name",
                                 param_hint="--council" if council else "--attorney")
    engine = obj.engine()
    if council:
        caller = obj.authorized("compliance.manage", "retention.council",
                                proposal=proposal_id)
        proposal = retention.record_council(engine, proposal_id, meeting_on=day,
                                            resolution=rest, **caller.who())
    else:
        caller = obj.authorized("compliance.manage", "retention.attorney",
                                proposal=proposal_id)
        proposal = retention.record_attorney(engine, proposal_id, name=rest, permitted_on=day,
                                             **caller.who())
    click.echo(_show(proposal))
    for item in retention.missing_approvals(proposal):
        click.echo(f"still missing: {item}")


@command.command("purge")
@click.argument("proposal_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def purge(obj: Any, proposal_id: int, as_json: bool) -> None:
    """Purge a proposal's reads; exits non-zero while an approval is missing."""
    report = admin.purge_approved(obj.engine(), obj.settings, obj.caller(), proposal_id)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    else:
        click.echo(f"purged proposal {proposal_id}: {report.reads} reads, {report.hits} hits, "
                   f"{report.files} image files (verified gone) in {report.seconds:.1f} s")
