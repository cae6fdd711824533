"""``sightline feed``: the official hotlist feeds, their status, and a fetch on demand."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Any

import click

from controller.alerts import feeds
from controller.alerts.feed_fetch import describe
from controller.compliance.exports import json_default


@click.group("feed")
def command() -> None:
    """Official hotlist feeds fetched on a schedule (policy 462.3, 462.7)."""


@command.command("list")
@click.pass_obj
def feed_list(obj: Any) -> None:
    """List the configured feeds: source, format, category and schedule."""
    rules = obj.settings.hotlists
    for feed in feeds.configured(obj.engine(), obj.caller(), rules):
        click.echo(f"{feed.name}\t{feed.source.kind} {describe(feed.source)}\t"
                   f"{feed.format.kind}\t{feed.category}\tevery {feed.every_minutes} min")
    if not rules.feeds:
        click.echo("no feed is configured (hotlists.feeds)")


def _report_lines(report: feeds.FeedReport) -> list[str]:
    lines = [f"line {n}: {why}" for n, why in report.rejected_lines]
    if report.rejected > len(report.rejected_lines):
        lines.append(f"... and {report.rejected - len(report.rejected_lines)} more")
    return lines


@command.command("fetch")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def feed_fetch(obj: Any, name: str, as_json: bool) -> None:
    """Fetch feed NAME now; exit 1 if the fetch failed (the list in force is kept).

    A running controller picks the new version up within its hotlist poll.
    """
    report = asyncio.run(feeds.fetch_now(obj.engine(), obj.caller(), obj.settings.hotlists,
                                         name))
    for line in _report_lines(report):
        click.echo(f"{name}: rejected {line}", err=True)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report)))
    elif report.failed:
        click.echo(f"failed: feed '{name}' not loaded ({report.error_kind}: {report.error}); "
                   "the list in force is kept")
    else:
        click.echo(f"{report.outcome}: '{name}' has {report.entries} entries ({report.added} "
                   f"added, {report.removed} removed, {report.kept} kept); "
                   f"{report.rejected} lines rejected")
    sys.exit(1 if report.failed else 0)


@command.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def feed_status(obj: Any, as_json: bool) -> None:
    """Each feed's last fetch, last good fetch, counts, rejected lines and health."""
    checks = feeds.statuses(obj.engine(), obj.caller(), obj.settings.hotlists)
    if as_json:
        click.echo(json.dumps([{"feed": h.feed, "state": h.state, "stale": h.stale,
                                "message": h.message, "status": h.status} for h in checks],
                              default=json_default, sort_keys=True))
        return
    for h in checks:
        click.echo(f"{h.feed}: {h.state} - {h.message}")
        row = h.status
        if row is None:
            continue
        click.echo(f"  last fetch {row['last_attempt_at']:%Y-%m-%d %H:%M} UTC: "
                   f"{row['last_outcome']}; {row['entries']} entries in force; "
                   f"{row['added']} added, {row['removed']} removed, {row['kept']} kept; "
                   f"{row['rejected']} lines rejected")
        if row["error"]:
            click.echo(f"  error: {row['error']}")
        for number, why in row["rejected_lines"]:
            click.echo(f"  line {number}: {why}")
    if not checks:
        click.echo("no feed is configured (hotlists.feeds)")
