"""``sightline discover``: find ONVIF cameras by WS-Discovery (multicast and CIDR sweep)."""

from __future__ import annotations

import asyncio
import json

import click

from cameras.onvif.discovery import discover
from cameras.onvif.models import DiscoveredDevice
from controller.settings import Settings
from controller.settings.cameras import CameraSettings


def camera_settings(ctx: click.Context) -> CameraSettings:
    """The loaded settings' camera section, or the defaults when run on its own."""
    root = ctx.find_root().obj
    settings = getattr(root, "settings", None)
    return settings.cameras if isinstance(settings, Settings) else CameraSettings()


def _print(devices: list[DiscoveredDevice]) -> None:
    if not devices:
        click.echo("no cameras answered")
    for device in devices:
        label = device.name or device.endpoint
        extra = ", ".join(x for x in (device.hardware, device.location) if x)
        click.echo(f"{label}  {' '.join(device.xaddrs)}" + (f"  ({extra})" if extra else ""))


@click.command("discover")
@click.option("--interface", default="0.0.0.0", show_default=True,  # noqa: S104 (source address)
              help="Local IPv4 address to probe from (selects the interface).")
@click.option("--cidr", "cidrs", multiple=True,
              help="Range to sweep by unicast (repeatable); default: cameras.discovery_cidrs.")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=60), default=None,
              help="Seconds to wait for answers (default: cameras.discovery_timeout_seconds).")
@click.option("--no-multicast", is_flag=True, help="Only sweep the ranges.")
@click.option("--json", "as_json", is_flag=True, help="End with a JSON list of the cameras.")
@click.pass_context
def command(ctx: click.Context, *, interface: str, cidrs: tuple[str, ...], timeout: float | None,
            no_multicast: bool, as_json: bool) -> None:
    """Find ONVIF cameras on the local segment and in routed ranges."""
    settings = camera_settings(ctx)
    try:
        devices = asyncio.run(discover(
            interface=interface,
            cidrs=cidrs or settings.discovery_cidrs,
            timeout=timeout if timeout is not None else settings.discovery_timeout_seconds,
            multicast=not no_multicast,
        ))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cidr") from exc
    except OSError as exc:
        raise click.ClickException(f"discovery from {interface} failed: {exc}") from exc
    if as_json:
        click.echo(json.dumps([d.to_json() for d in devices]))
    else:
        _print(devices)


if __name__ == "__main__":
    command()
