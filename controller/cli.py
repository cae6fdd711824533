"""The ``sightline`` command. Only this module composes ``controller`` with ``web``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

import click

from controller import audit as audit_log
from controller.accounts import users
from controller.app import Controller
from controller.commands.actor import cli_actor
from controller.commands.compose import web_factory
from controller.errors import ALL_ERRORS, ConfigError
from controller.permissions import PRIVATE_UMASK, private_dir
from controller.sealing import bind_instance_secret, instance_secret, process_instance_secret
from controller.settings import Settings
from controller.settings.loader import load_settings
from controller.store.engine import make_engine
from controller.store.migrate import upgrade


class Context:
    """Lazily loaded settings and engine shared by the sub-commands."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The validated settings (loaded on first use)."""
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def engine(self, migrate: bool = True) -> Any:
        """An engine on the configured database, migrated to the current schema."""
        settings = self.settings
        private_dir(settings.data_dir, enforce=True)
        engine = make_engine(settings.database_url(), pool_size=settings.database.pool_size,
                             busy_timeout_ms=settings.database.busy_timeout_ms)
        # Closed when the command ends, also when it is invoked in-process (tests).
        click.get_current_context().call_on_close(engine.dispose)
        # Seal secrets and key the audit chain with the instance secret of this command's
        # settings (--config included), not those the environment alone would select.
        bind_instance_secret(engine, instance_secret(settings.data_dir))
        if migrate:
            upgrade(engine)
        return engine


pass_ctx = click.make_pass_decorator(Context)


class SightlineGroup(click.Group):
    """Turns Sightline's own errors into one clear line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, reporting expected errors without a traceback."""
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"configuration error:\n{exc}", err=True)
            sys.exit(2)
        except ALL_ERRORS as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=SightlineGroup)
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="Settings file (default: $SIGHTLINE_CONFIG, else config/sightline.yaml).")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Sightline: a policy-enforcing controller for roadside licence-plate cameras."""
    # force: a library imported earlier may have configured the root logger already.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    # One line per HTTP request or migration context is noise; failures are still logged.
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Everything this process writes (database, images, spool, exports, anchors) is
    # owner-only, whichever module writes it (DESIGN.md section 8, at rest).
    previous = os.umask(PRIVATE_UMASK)
    ctx.call_on_close(lambda: os.umask(previous))  # invoked in-process (tests): restore
    ctx.obj = Context(config)


@main.command()
@pass_ctx
def run(ctx: Context) -> None:
    """Run the controller and the web application until SIGINT/SIGTERM."""
    controller = Controller(ctx.settings, web=web_factory())
    # The controller's engine seals and keys the audit chain with this command's settings.
    with process_instance_secret(instance_secret(ctx.settings.data_dir)):
        asyncio.run(controller.run_until_stopped())


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Apply all database migrations."""
    engine = ctx.engine(migrate=False)
    upgrade(engine)
    click.echo(f"database at the current schema: {engine.url.render_as_string()}")
    if audit_log.first_anchor_due(engine, ctx.settings):
        # Sign at once where the keyed chain starts (rows before it are SHA-256 only).
        line = audit_log.write_anchor(engine, ctx.settings, actor=cli_actor(),
                                      client_addr="local")
        click.echo(f"first audit anchor written: row {line['row_id']}, keyed chain from "
                   f"row {line['keyed_from']}")


@main.group()
def user() -> None:
    """Manage user accounts (every change is audited)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["administrator", "officer", "dispatcher", "analyst", "vendor"]))
@click.option("--full-name", default="", help="The person's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def user_add(ctx: Context, name: str, role: str, full_name: str, password_stdin: bool) -> None:
    """Create a named user account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = ctx.engine()
    users.add_user(engine, ctx.settings.security, username=name, role=role, password=password,
                   actor=cli_actor(), full_name=full_name, client_addr="local")
    click.echo(f"user {name} added with role {role}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def user_list(ctx: Context, as_json: bool) -> None:
    """List user accounts."""
    rows = users.list_users(ctx.engine())
    if as_json:
        click.echo(json.dumps([
            {"username": r["username"], "role": r["role"], "disabled": r["disabled"],
             "full_name": r["full_name"]} for r in rows]))
        return
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        click.echo(f"{r['username']:<24} {r['role']:<14} {state}")


@user.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(ctx: Context, name: str) -> None:
    """Disable a user account (accounts are never deleted)."""
    users.disable_user(ctx.engine(), username=name, actor=cli_actor(), client_addr="local")
    click.echo(f"user {name} disabled")


@user.command("unlock")
@click.argument("name")
@pass_ctx
def user_unlock(ctx: Context, name: str) -> None:
    """Lift a login lockout (every address's and the account's) before it expires."""
    users.unlock(ctx.engine(), username=name, actor=cli_actor(), client_addr="local")
    click.echo(f"user {name} unlocked")


@main.group()
def audit() -> None:
    """The record of access (policy 462.5)."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def audit_verify(ctx: Context, as_json: bool) -> None:
    """Verify the audit log's keyed chain and every anchor; exit 1 naming the first fault."""
    report = audit_log.verify(ctx.engine(), audit_log.anchor_dir(ctx.settings))
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    elif report.ok:
        legacy = (f", {report.legacy_rows} of them from before the keyed chain"
                  if report.legacy_rows else "")
        click.echo(f"OK: {report.rows} audit rows{legacy}, hash chain intact, "
                   f"{report.anchors} anchors match")
    else:
        where = (f"row {report.first_broken_id}" if report.first_bad_anchor is None
                 else f"anchor {report.first_bad_anchor}")
        click.echo(f"BROKEN at {where}: {report.reason} ({report.rows} rows read)")
    sys.exit(0 if report.ok else 1)


@audit.command("anchor")
@pass_ctx
def audit_anchor(ctx: Context) -> None:
    """Sign the chain head and append it to the anchor file (run at least daily)."""
    line = audit_log.write_anchor(ctx.engine(), ctx.settings, actor=cli_actor(),
                                  client_addr="local")
    click.echo(f"anchor {line['seq']}: row {line['row_id']} written to "
               f"{audit_log.anchor_dir(ctx.settings)}")


@main.group("config")
def config_group() -> None:
    """Settings files."""


@config_group.command("check")
@pass_ctx
def config_check(ctx: Context) -> None:
    """Validate the settings file and print the effective database URL."""
    settings = ctx.settings
    click.echo(f"OK: database {settings.database_url()}, web {settings.web.base_url()}")


# Command groups contributed by the other areas (one module each).
from controller.commands import audit_export as audit_export_cmd  # noqa: E402
from controller.commands import camera as camera_cmd  # noqa: E402
from controller.commands import compliance as compliance_cmd  # noqa: E402
from controller.commands import demo as demo_cmd  # noqa: E402
from controller.commands import discover as discover_cmd  # noqa: E402
from controller.commands import eval as eval_cmd  # noqa: E402
from controller.commands import hotlist as hotlist_cmd  # noqa: E402
from controller.commands import program as program_cmd  # noqa: E402
from controller.commands import provision as provision_cmd  # noqa: E402
from controller.commands import retention as retention_cmd  # noqa: E402
from controller.commands import sink as sink_cmd  # noqa: E402
from controller.commands import site as site_cmd  # noqa: E402

main.add_command(demo_cmd.command)
main.add_command(eval_cmd.command)
main.add_command(hotlist_cmd.command)
main.add_command(camera_cmd.command)
main.add_command(discover_cmd.command)
main.add_command(site_cmd.command)
main.add_command(provision_cmd.command)
main.add_command(program_cmd.command)
audit.add_command(audit_export_cmd.command)
main.add_command(retention_cmd.command)
main.add_command(sink_cmd.command)
for _group in compliance_cmd.groups:
    main.add_command(_group)
