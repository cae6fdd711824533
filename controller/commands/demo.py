"""``sightline demo``: everything on one machine, on the embedded default."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from pathlib import Path

import click

from controller import users
from controller.app import Controller
from controller.commands.compose import web_factory
from controller.errors import NotFound
from controller.settings import Settings
from controller.settings.loader import ENV_DATA_DIR, load_settings
from controller.store import users as user_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

DEMO_DATA_DIR = Path("demo-data")
DEMO_ADMIN = "demo.chief"


def demo_settings(config: str | None) -> Settings:
    """The embedded default, with data under ./demo-data unless SIGHTLINE_DATA_DIR says else."""
    settings = load_settings(config)
    if not os.environ.get(ENV_DATA_DIR):
        settings = settings.model_copy(update={"data_dir": DEMO_DATA_DIR})
    return settings


def ensure_admin(settings: Settings) -> str:
    """Create the demo administrator, or give it a new password; return the password."""
    engine = make_engine(settings.database_url())
    try:
        upgrade(engine)
        # 20 URL-safe characters: a passphrase under the CJIS rules, printed once.
        password = secrets.token_urlsafe(15)
        actor = "demo"
        try:
            user_repo.get(engine, DEMO_ADMIN)
        except NotFound:
            users.add_user(engine, settings.security, username=DEMO_ADMIN, role="administrator",
                           password=password, actor=actor, full_name="Demo ALPR Administrator")
        else:
            users.reset_password(engine, settings.security, username=DEMO_ADMIN,
                                 password=password, actor=actor)
        return password
    finally:
        engine.dispose()


@click.command("demo")
@click.option("--for", "seconds", type=click.FloatRange(min=1), default=None,
              help="Stop by itself after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
@click.pass_context
def command(ctx: click.Context, seconds: float | None, as_json: bool) -> None:
    """Run Sightline on this machine: SQLite in ./demo-data, the web UI, an administrator."""
    settings = demo_settings(ctx.obj.config)
    password = ensure_admin(settings)
    url = settings.web.base_url()
    click.echo(f"Sightline demo: {url}/  (data in {settings.data_dir.resolve()})")
    click.echo(f"  administrator: {DEMO_ADMIN}")
    click.echo(f"  password:      {password}")
    click.echo("  stop with Ctrl-C", err=True)
    sys.stdout.flush()
    controller = Controller(settings, web=web_factory())
    asyncio.run(controller.run_until_stopped(seconds))
    if as_json:
        click.echo(json.dumps({"url": url, "administrator": DEMO_ADMIN,
                               "data_dir": str(settings.data_dir.resolve())}))
