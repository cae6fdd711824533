"""``sightline site``: roadside sites (audited)."""

from __future__ import annotations

import click

from controller.operations.cameras import add_site
from controller.store import sites as repo


@click.group("site")
def command() -> None:
    """Roadside sites that cameras belong to."""


@command.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Descriptive name, e.g. the intersection.")
@click.option("--lat", "latitude", type=float, default=None, help="Latitude (WGS 84).")
@click.option("--lon", "longitude", type=float, default=None, help="Longitude (WGS 84).")
@click.pass_obj
def site_add(obj: object, code: str, name: str, latitude: float | None,
             longitude: float | None) -> None:
    """Create a site."""
    caller = obj.authorized("cameras.manage", "site.add", site=code)  # type: ignore[attr-defined]
    engine = obj.engine()  # type: ignore[attr-defined]
    site_id = add_site(engine, code=code, name=name, latitude=latitude, longitude=longitude,
                       **caller.who())
    click.echo(f"site {code} added (id {site_id})")


@command.command("list")
@click.pass_obj
def site_list(obj: object) -> None:
    """List sites and their cameras."""
    obj.authorized("cameras.view", "site.list")  # type: ignore[attr-defined]
    engine = obj.engine()  # type: ignore[attr-defined]
    cameras = repo.list_cameras(engine)
    for camera in cameras:
        state = "enabled" if camera["enabled"] else "disabled"
        click.echo(f"{camera['site_code']:<16} {camera['name']:<24} {state:<9} "
                   f"{camera['stream_uri'] or '-'}")
    if not cameras:
        click.echo("no cameras")


@command.command("cabinet")
@click.argument("code")
@click.argument("config_file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def site_cabinet(obj: object, code: str, config_file: str) -> None:
    """Set a site's cabinet from a YAML file: host, port and the Modbus point map."""
    from controller.capture.cabinets import configure_cabinet
    from controller.settings.loader import load_yaml_bounded

    caller = obj.authorized("cameras.manage", "cabinet.configure", site=code)  # type: ignore[attr-defined]
    with open(config_file, encoding="utf-8") as handle:
        raw = load_yaml_bounded(handle.read())
    configure_cabinet(obj.engine(), code, raw, **caller.who())  # type: ignore[attr-defined]
    click.echo(f"cabinet of site {code} configured; running controllers pick it up at restart")
