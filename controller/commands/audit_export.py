"""``sightline audit export``: the quarterly audit package (policy 462.6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from controller.compliance import exports


@click.command("export")
@click.option("--quarter", required=True, help="The quarter, e.g. 2026Q3.")
@click.option("--out", "out", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder the package folder (audit-QUARTER) is written into.")
@click.pass_obj
def command(obj: Any, quarter: str, out: Path) -> None:
    """Build a quarter's audit package: access log, summary with charts, flags, manifest."""
    caller = obj.authorized("compliance.manage", "export.audit", quarter=quarter)
    out.mkdir(parents=True, exist_ok=True)
    path = exports.build_audit_package(obj.engine(), obj.settings, quarter, out,
                                       **caller.who())
    problems = exports.verify_manifest(path)
    if problems:
        raise click.ClickException("manifest does not verify: " + "; ".join(problems))
    click.echo(str(path))
