"""``sightline demo``: everything on one machine, on the embedded default."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import click

from controller.app import Controller
from controller.commands.compose import web_factory
from controller.demo import world
from controller.permissions import private_dir
from controller.sealing import instance_secret, process_instance_secret
from controller.settings import Settings
from controller.settings.loader import ENV_DATA_DIR, load_settings
from controller.store import reads as read_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

DEMO_DATA_DIR = Path("demo-data")


def demo_settings(config: str | None) -> Settings:
    """The embedded default, with data under ./demo-data unless SIGHTLINE_DATA_DIR says else."""
    settings = load_settings(config)
    if not os.environ.get(ENV_DATA_DIR):
        settings = settings.model_copy(update={"data_dir": DEMO_DATA_DIR})
    return settings


def _counts(settings: Settings) -> tuple[int, int]:
    engine = make_engine(settings.database_url())
    try:
        return read_repo.count_reads_and_hits(engine)
    finally:
        engine.dispose()


@click.command("demo")
@click.option("--for", "seconds", type=click.FloatRange(min=1), default=None,
              help="Stop by itself after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
@click.pass_context
def command(ctx: click.Context, seconds: float | None, as_json: bool) -> None:
    """Run Sightline on this machine: a virtual camera, SQLite, the web UI, dispatch."""
    settings = demo_settings(ctx.obj.config)
    private_dir(settings.data_dir, enforce=True)
    # The demo's own key (demo-data/secret.key, owner-only, made on first run) seals the
    # secrets and keys the audit chain of every engine this process opens.
    with process_instance_secret(instance_secret(settings.data_dir)):
        _run_demo(settings, seconds, as_json)


def _run_demo(settings: Settings, seconds: float | None, as_json: bool) -> None:
    engine = make_engine(settings.database_url())
    peers = world.start_peers()
    try:
        upgrade(engine)
        password = world.ensure_admin(engine, settings)
        world.provision(engine, peers.stream_uri)
        world.register_receiver(engine, peers.receiver.url)
        engine.dispose()
        before = _counts(settings)
        url = settings.web.base_url()
        click.echo(f"Sightline demo: {url}/  (data in {settings.data_dir.resolve()})")
        click.echo(f"  administrator: {world.DEMO_ADMIN}")
        click.echo(f"  password:      {password}")
        click.echo(f"  camera:        {peers.stream_uri} (virtual, loopback only)")
        click.echo(f"  dispatch:      {peers.receiver.url} (prints each hit it receives)")
        click.echo("  stop with Ctrl-C", err=True)
        sys.stdout.flush()
        controller = Controller(world.with_receiver(settings, peers.receiver), web=web_factory())
        asyncio.run(controller.run_until_stopped(seconds))
    finally:
        peers.stop()
        engine.dispose()
    after = _counts(settings)
    if as_json:
        click.echo(json.dumps({
            "url": url, "administrator": world.DEMO_ADMIN,
            "reads": after[0] - before[0], "hits": after[1] - before[1],
            "hits_delivered": len(peers.receiver.received.hits),
            "data_dir": str(settings.data_dir.resolve())}))
