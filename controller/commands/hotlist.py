"""``sightline hotlist``: import hotlist files, approve hand-entered lists, a plate's history."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from controller.alerts import hotlists
from controller.compliance.exports import json_default


def _dump(value: Any) -> str:
    return json.dumps(value, default=json_default, sort_keys=True)


@click.group("hotlist")
def command() -> None:
    """Hotlists checked against every read (policy 462.3, 462.7, 462.7.1(2)(3))."""


@command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_name", required=True, help="Name of the hotlist.")
@click.option("--case-number", default="",
              help="Case number (required for a list entered by hand, not an official feed).")
@click.option("--reason", default="", help="Why the list is entered (hand-entered lists).")
@click.option("--expires", "expires_at", default="",
              help="Expiry, YYYY-MM-DDTHH:MM UTC (hand-entered lists).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def import_cmd(obj: Any, *, file: Path, list_name: str, case_number: str, reason: str,
               expires_at: str, as_json: bool) -> None:
    """Import FILE as a new version of a hotlist; exit 1 if it was refused.

    An official feed (hotlists.official_feeds) is in force at once; any other list
    waits for another administrator's approval (``sightline hotlist approve``).
    """
    report = hotlists.import_hotlist(obj.engine(), obj.settings.hotlists, file, list_name,
                                     **obj.authorized("hotlists.manage", "hotlist.import",
                                                      list=list_name).who(),
                                     case_number=case_number, reason=reason,
                                     expires_at=expires_at)
    for line, reason_text in report.rejected:
        click.echo(f"{file}:{line}: {reason_text}", err=True)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    elif report.refused:
        click.echo(f"refused: list '{list_name}' unchanged ({len(report.rejected)} bad rows)")
    else:
        waits = (f"; version id {report.version_id} waits for another administrator's "
                 "approval") if report.pending else ""
        click.echo(f"imported {report.imported} entries into '{list_name}' "
                   f"(version {report.version}); {len(report.rejected)} rows rejected{waits}")
    sys.exit(1 if report.refused else 0)


@command.command("pending")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def pending_cmd(obj: Any, as_json: bool) -> None:
    """List the hand-entered versions waiting for approval."""
    rows = hotlists.pending_versions(obj.engine(), obj.caller())
    if as_json:
        click.echo(_dump(rows))
        return
    for v in rows:
        click.echo(f"{v['id']}\t{v['list_name']} v{v['version']}\t{v['entry_count']} entries\t"
                   f"by {v['submitted_by']}\tcase {v['case_number']}\t{v['reason']}\t"
                   f"expires {v['expires_at']:%Y-%m-%d %H:%M}")
    if not rows:
        click.echo("nothing waits for approval")


def _decide(obj: Any, version_id: int, approve: bool, note: str) -> None:
    version = hotlists.decide_version(obj.engine(), obj.caller(), version_id,
                                      approve=approve, note=note)
    click.echo(f"{version['list_name']} v{version['version']}: {version['status']}"
               + (" (raises hits from now)" if approve else ""))


@command.command("approve")
@click.argument("version_id", type=int)
@click.option("--note", default="", help="A note kept with the decision.")
@click.pass_obj
def approve_cmd(obj: Any, version_id: int, note: str) -> None:
    """Approve the pending version VERSION_ID (not one you entered)."""
    _decide(obj, version_id, True, note)


@command.command("reject")
@click.argument("version_id", type=int)
@click.option("--note", required=True, help="Why the version is rejected.")
@click.pass_obj
def reject_cmd(obj: Any, version_id: int, note: str) -> None:
    """Reject the pending version VERSION_ID."""
    _decide(obj, version_id, False, note)


@command.command("history")
@click.argument("plate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def history_cmd(obj: Any, plate: str, as_json: bool) -> None:
    """Every kept list version that held PLATE: who entered and approved it, when, its hits."""
    items = hotlists.plate_history(obj.engine(), obj.caller(), plate)
    if as_json:
        click.echo(_dump([{"entry": i.entry, "hits": i.hits} for i in items]))
        return
    for item in items:
        e = item.entry
        kind = "official feed" if e["official"] else "by hand"
        since = e["active_from"].isoformat() if e["active_from"] else "never in force"
        until = e["active_until"].isoformat() if e["active_until"] else (
            "now" if e["active_from"] else "")
        click.echo(f"{e['list_name']} v{e['version']} ({kind}): listed {e['plate']}; entered by "
                   f"{e['submitted_by']} case {e['case_number'] or '-'}; {e['status']}"
                   f"{' by ' + e['decided_by'] if e['decided_by'] else ''}; in force {since}"
                   f"{' to ' + until if until else ''}; {len(item.hits)} hits")
        for hit in item.hits:
            click.echo(f"  hit {hit['uuid']} {hit['created_at'].isoformat()} {hit['plate']} "
                       f"{hit['camera']} ({hit['site']}) {hit['verification']}")
    if not items:
        click.echo(f"no kept list version held {plate.upper()}")


@command.group("historical")
def historical() -> None:
    """Match a listed plate against past reads: a search, approved first."""


@historical.command("request")
@click.argument("entry_id")
@click.option("--purpose", required=True, help="One of the configured search purposes.")
@click.option("--case-number", required=True, help="The case the match is for.")
@click.pass_obj
def historical_request(obj: Any, entry_id: str, purpose: str, case_number: str) -> None:
    """Ask to match hotlist entry ENTRY_ID against past reads."""
    request_id = hotlists.request_historical(obj.engine(), obj.settings, obj.caller(), entry_id,
                                             purpose=purpose, case_number=case_number)
    click.echo(f"request {request_id} recorded; it runs once another administrator approves it")


@historical.command("approve")
@click.argument("request_id", type=int)
@click.option("--refuse", is_flag=True, help="Refuse instead of approving.")
@click.pass_obj
def historical_approve(obj: Any, request_id: int, refuse: bool) -> None:
    """Approve (or refuse) historical-match request REQUEST_ID (not your own)."""
    req = hotlists.decide_historical(obj.engine(), obj.caller(), request_id,
                                     approve=not refuse)
    click.echo(f"request {request_id}: {req['status']}")


@historical.command("run")
@click.argument("request_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def historical_run(obj: Any, request_id: int, as_json: bool) -> None:
    """Run your approved request REQUEST_ID (recorded as a search)."""
    result = hotlists.run_historical(obj.engine(), obj.settings, obj.caller(), request_id)
    rows = [{"uuid": r["uuid"], "plate": r["plate"], "seen_at": r["seen_at"].isoformat(),
             "camera": r["camera_name"], "site": r["site_code"]} for r in result.reads]
    if as_json:
        click.echo(_dump({"search_id": result.search_id, "reads": rows}))
        return
    click.echo(f"audit entry #{result.search_id}: {len(rows)} reads")
    for row in rows:
        click.echo(f"{row['seen_at']}\t{row['plate']}\t{row['camera']}\t{row['site']}")
