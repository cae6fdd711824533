"""``sightline camera probe|watch``: onboard a camera over ONVIF, or watch its stream."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import click

from cameras.errors import CameraError
from cameras.onvif.device import probe_camera
from cameras.onvif.models import ProbeResult
from cameras.stream import CameraStream, StreamOptions
from controller.commands.discover import camera_settings
from controller.runtime import stream_options


def split_host(value: str, default_port: int = 80) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` to (host, port)."""
    host, port = value, default_port
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif value.count(":") == 1:
        host, _, text = value.partition(":")
        port = int(text)
    if not host or not 0 < port < 65536:
        raise ValueError(value)
    return host, port


@click.group("camera")
def command() -> None:
    """Talk to one camera directly (no database needed)."""


def _print_probe(result: ProbeResult) -> None:
    click.echo(f"{result.manufacturer} {result.model}, firmware {result.firmware}, "
               f"serial {result.serial_number}")
    for profile in result.profiles:
        mark = "*" if profile.token == result.profile_token else " "
        click.echo(f" {mark} {profile.token}: {profile.encoding} {profile.width}x{profile.height}"
                   f" {profile.fps or '?'} fps")
    click.echo(f"stream:   {result.stream_uri}")
    click.echo(f"snapshot: {result.snapshot_uri or '-'}")
    click.echo(f"clock drift: {result.clock_drift_seconds} s")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@command.command("probe")
@click.argument("host")
@click.option("--username", required=True, help="ONVIF user (WS-Security UsernameToken).")
@click.option("--password", required=True, envvar="SIGHTLINE_CAMERA_PASSWORD",
              help="ONVIF password (or $SIGHTLINE_CAMERA_PASSWORD, kept out of `ps`).")
@click.option("--profile", "profile_token", default=None,
              help="Media profile token (default: the H.264 profile with the most pixels).")
@click.option("--json", "as_json", is_flag=True, help="End with the result as one JSON object.")
@click.pass_context
def probe(ctx: click.Context, *, host: str, username: str, password: str,
          profile_token: str | None, as_json: bool) -> None:
    """Onboard HOST[:PORT]: identity, profiles, stream and snapshot URIs, clock drift."""
    settings = camera_settings(ctx)
    try:
        name, port = split_host(host)
    except ValueError as exc:
        raise click.BadParameter(f"{host!r} is not HOST[:PORT]", param_hint="HOST") from exc
    try:
        result = asyncio.run(probe_camera(
            name, port, username, password, profile_token=profile_token,
            timeout=settings.onvif_timeout_seconds,
            drift_limit_seconds=settings.clock_drift_warning_seconds,
        ))
    except CameraError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        _print_probe(result)


async def _watch(url: str, seconds: float, wait: float, options: StreamOptions) -> dict[str, Any]:
    stream = CameraStream("watch", url, options)
    started = time.monotonic()
    await stream.start()
    try:
        first = await stream.get(timeout=wait)
        arrivals = [first.monotonic]
        while (remaining := seconds - (time.monotonic() - first.monotonic)) > 0:
            try:
                arrivals.append((await stream.get(timeout=remaining)).monotonic)
            except TimeoutError:
                break
        stats = stream.stats()
    except TimeoutError as exc:
        reason = stream.stats().last_error or "no answer"
        raise CameraError(url, f"no frame within {wait:g} s ({reason})") from exc
    finally:
        await stream.stop()
    return {
        "url": url, "frames": len(arrivals), "fps": round(_steady_fps(arrivals), 2),
        "first_frame_seconds": round(first.monotonic - started, 3),
        "width": first.width, "height": first.height, "codec": stats.codec,
        "dropped_frames": stats.dropped_frames, "decode_errors": stats.decode_errors,
        "reconnects": stats.reconnects, "keyframes_only": options.keyframes_only,
    }


def _steady_fps(arrivals: list[float]) -> float:
    """Frames per second after the first second, when frames buffered while the
    stream was opened have come out in a burst."""
    warm = arrivals[0] + min(1.0, (arrivals[-1] - arrivals[0]) / 3)
    steady = [t for t in arrivals if t >= warm]
    if len(steady) < 2 or steady[-1] <= steady[0]:
        return 0.0
    return (len(steady) - 1) / (steady[-1] - steady[0])


@command.command("watch")
@click.argument("url")
@click.option("--seconds", type=click.FloatRange(min=0.5, max=3600), default=10.0,
              show_default=True, help="How long to watch after the first frame.")
@click.option("--wait", type=click.FloatRange(min=0.5, max=600), default=None,
              help="Seconds to wait for the first frame (default: cameras.open_timeout_seconds).")
@click.option("--keyframes-only", is_flag=True, help="Decode keyframes only.")
@click.option("--json", "as_json", is_flag=True, help="End with the statistics as one object.")
@click.pass_context
def watch(ctx: click.Context, *, url: str, seconds: float, wait: float | None,
          keyframes_only: bool, as_json: bool) -> None:
    """Pull RTSP_URL (TCP) for a while and report fps, resolution and codec."""
    settings = camera_settings(ctx)
    options = stream_options(settings, keyframes_only=keyframes_only)
    first_wait = wait if wait is not None else settings.open_timeout_seconds
    try:
        report = asyncio.run(_watch(url, seconds, first_wait, options))
    except CameraError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"{report['codec']} {report['width']}x{report['height']}: "
                   f"{report['frames']} frames, {report['fps']} fps, first frame after "
                   f"{report['first_frame_seconds']} s, {report['dropped_frames']} dropped")


if __name__ == "__main__":
    command()


@command.command("adopt")
@click.argument("host")
@click.option("--site", "site_code", required=True, help="Code of the site the camera is at.")
@click.option("--name", required=True, help="Camera name, unique within the site.")
@click.option("--username", required=True, help="ONVIF user (WS-Security UsernameToken).")
@click.option("--password", required=True, envvar="SIGHTLINE_CAMERA_PASSWORD",
              help="ONVIF password (or $SIGHTLINE_CAMERA_PASSWORD); stored encrypted.")
@click.option("--profile", "profile_token", default=None,
              help="Media profile token (default: the H.264 profile with the most pixels).")
@click.pass_context
def adopt(ctx: click.Context, *, host: str, site_code: str, name: str, username: str,
          password: str, profile_token: str | None) -> None:
    """Probe HOST[:PORT] and store it at a site; a running controller starts it within seconds."""
    from controller.operations.cameras import adopt_camera
    from controller.sealing import instance_secret

    root = ctx.find_root().obj
    settings = root.settings
    # Signed in and allowed before the camera is contacted with its credentials.
    caller = root.authorized("cameras.manage", "camera.adopt", site=site_code, camera=name)
    try:
        address, port = split_host(host)
    except ValueError as exc:
        raise click.BadParameter(f"{host!r} is not HOST[:PORT]", param_hint="HOST") from exc
    try:
        result = asyncio.run(probe_camera(
            address, port, username, password, profile_token=profile_token,
            timeout=settings.cameras.onvif_timeout_seconds,
            drift_limit_seconds=settings.cameras.clock_drift_warning_seconds))
    except CameraError as exc:
        raise click.ClickException(str(exc)) from exc
    camera_id = adopt_camera(root.engine(), site_code=site_code, name=name, probe=result,
                             username=username, password=password,
                             secret_key=instance_secret(settings.data_dir), **caller.who())
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"camera {name} adopted at {site_code} (id {camera_id}): {result.stream_uri}")
