"""``sightline import FILE.yaml``: provision sites and cameras in bulk (audited)."""

from __future__ import annotations

from pathlib import Path

import click

from controller.operations.provision import provision
from controller.sealing import instance_secret


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def command(obj: object, file: Path) -> None:
    """Add the sites, cameras and cabinets a YAML file describes; all or nothing."""
    settings = obj.settings  # type: ignore[attr-defined]
    caller = obj.authorized("cameras.manage", "provision.import", file=file.name)  # type: ignore[attr-defined]
    counts = provision(obj.engine(), file.read_text(encoding="utf-8"), str(file),  # type: ignore[attr-defined]
                       secret_key=instance_secret(settings.data_dir), **caller.who())
    click.echo(f"imported {counts['sites']} sites and {counts['cameras']} cameras from {file}")
