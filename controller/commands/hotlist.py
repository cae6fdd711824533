"""``sightline hotlist``: import hotlist files (audited)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from controller.alerts import hotlists


@click.group("hotlist")
def command() -> None:
    """Hotlists checked against every read (policy 462.3, 462.7)."""


@command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_name", required=True, help="Name of the hotlist to replace.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def import_cmd(obj: object, file: Path, list_name: str, as_json: bool) -> None:
    """Import FILE as the new active version of a hotlist; exit 1 if it was refused."""
    ctx = obj
    engine = ctx.engine()  # type: ignore[attr-defined]
    settings = ctx.settings  # type: ignore[attr-defined]
    report = hotlists.import_hotlist(engine, settings.hotlists, file, list_name,
                                     **ctx.authorized(  # type: ignore[attr-defined]
                                         "hotlists.manage", "hotlist.import",
                                         list=list_name).who())
    for line, reason in report.rejected:
        click.echo(f"{file}:{line}: {reason}", err=True)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    elif report.refused:
        click.echo(f"refused: list '{list_name}' unchanged ({len(report.rejected)} bad rows)")
    else:
        click.echo(f"imported {report.imported} entries into '{list_name}' "
                   f"(version {report.version}); {len(report.rejected)} rows rejected")
    sys.exit(1 if report.refused else 0)
