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
from controller.accounts import Caller, admin, authorize, sessions, tokens
from controller.app import Controller
from controller.commands import signin
from controller.commands.compose import web_factory
from controller.compliance import audit_log as audit_use
from controller.errors import ALL_ERRORS, AccessDenied, ConfigError, PurposeRequired
from controller.permissions import PRIVATE_UMASK, private_dir
from controller.sealing import bind_instance_secret, instance_secret, process_instance_secret
from controller.settings import Settings
from controller.settings.loader import load_settings
from controller.store.engine import make_engine
from controller.store.migrate import upgrade


class Context:
    """Lazily loaded settings, engine and signed-in user shared by the sub-commands."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None
        self._engine: Any = None
        self._migrated = False
        self._caller: Caller | None = None
        self.user: sessions.UserRow | None = None

    @property
    def settings(self) -> Settings:
        """The validated settings (loaded on first use)."""
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def engine(self, migrate: bool = True) -> Any:
        """The engine on the configured database (one per command), migrated to the schema."""
        settings = self.settings
        if self._engine is None:
            private_dir(settings.data_dir, enforce=True)
            self._engine = make_engine(settings.database_url(),
                                       pool_size=settings.database.pool_size,
                                       busy_timeout_ms=settings.database.busy_timeout_ms)
            # Closed when the command ends, also when it is invoked in-process (tests).
            click.get_current_context().call_on_close(self._engine.dispose)
            # Seal secrets and key the audit chain with the instance secret of this
            # command's settings (--config included), not those the environment selects.
            bind_instance_secret(self._engine, instance_secret(settings.data_dir))
        if migrate and not self._migrated:
            upgrade(self._engine)
            self._migrated = True
        return self._engine

    def caller(self) -> Caller:
        """The Sightline user signed in with ``sightline login`` (462.5.1, 462.11(a)).

        Their training gate is worked out here; ``NotSignedIn`` without a live token.
        """
        if self._caller is None:
            token = signin.read_token()
            if token is None:
                raise tokens.NotSignedIn(f"not signed in: {tokens.LOGIN_HINT}")
            engine = self.engine()
            address = tokens.cli_address()
            user = self.user = tokens.resolve(engine, token, client_addr=address)
            self._caller = tokens.caller_for(engine, self.settings.security, user,
                                             client_addr=address)
        return self._caller

    def authorized(self, permission: str, action: str, **data: Any) -> Caller:
        """The signed-in user, once the role table and training gate allow ``permission``.

        For commands whose work has no use case taking a ``Caller``: the check is the
        one every use case makes first (a refusal is audited as ``action``, denied).
        """
        caller = self.caller()
        authorize(self.engine(), caller, permission, action, data=data)
        return caller


pass_ctx = click.make_pass_decorator(Context)


# Exit statuses a script can tell apart: 1 any other error, 2 bad settings.
EXIT_REFUSED = 3  # the role table or the training gate refused (audited as denied)
EXIT_NOT_SIGNED_IN = 4  # no live `sightline login` token


class SightlineGroup(click.Group):
    """Turns Sightline's own errors into one clear line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, reporting expected errors without a traceback."""
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"configuration error:\n{exc}", err=True)
            sys.exit(2)
        except tokens.NotSignedIn as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_NOT_SIGNED_IN)
        except AccessDenied as exc:
            click.echo(f"refused: {exc}", err=True)
            sys.exit(EXIT_REFUSED)
        except PurposeRequired as exc:
            click.echo(f"error: {exc}: {purpose_cmd.HINT}", err=True)
            sys.exit(1)
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
    """Run the controller and the web application until SIGINT/SIGTERM.

    SIGUSR1 writes the stack of every thread to standard error and the controller runs
    on: what an operator (or bench/soak.py) sends a controller that does not stop.
    """
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
        # The migration's own step, not a person's: written by the system.
        line = audit_log.write_anchor(engine, ctx.settings, actor=audit_log.SYSTEM,
                                      client_addr=tokens.cli_address())
        click.echo(f"first audit anchor written: row {line['row_id']}, keyed chain from "
                   f"row {line['keyed_from']}")


@main.group()
def user() -> None:
    """Manage user accounts (an administrator's login; every change is audited)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["administrator", "officer", "dispatcher", "analyst", "vendor"]))
@click.option("--full-name", default="", help="The person's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def user_add(ctx: Context, name: str, role: str, full_name: str, password_stdin: bool) -> None:
    """Create a named user account with a temporary password (changed at first login)."""
    caller = ctx.caller()  # before the password is asked for
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Temporary password", hide_input=True,
                                confirmation_prompt=True)
    admin.add_account(ctx.engine(), ctx.settings.security, caller, username=name, role=role,
                      password=password, full_name=full_name)
    click.echo(f"user {name} added with role {role}; they choose their own password at "
               f"first login")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def user_list(ctx: Context, as_json: bool) -> None:
    """List user accounts with their training state."""
    rows = admin.overview(ctx.engine(), ctx.settings.security, ctx.caller())["rows"]
    if as_json:
        click.echo(json.dumps([
            {"username": r["username"], "role": r["role"], "disabled": r["disabled"],
             "full_name": r["full_name"], "training": r["training"]} for r in rows]))
        return
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        click.echo(f"{r['username']:<24} {r['role']:<14} {state:<9} training {r['training']}")


@user.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(ctx: Context, name: str) -> None:
    """Disable a user account (accounts are never deleted)."""
    admin.set_account_enabled(ctx.engine(), ctx.caller(), name, False)
    click.echo(f"user {name} disabled")


@user.command("unlock")
@click.argument("name")
@pass_ctx
def user_unlock(ctx: Context, name: str) -> None:
    """Lift a login lockout (every address's and the account's) before it expires."""
    admin.unlock_account(ctx.engine(), ctx.caller(), name)
    click.echo(f"user {name} unlocked")


@user.command("training")
@click.argument("name")
@click.option("--course", required=True, help="The ALPR course completed.")
@click.option("--completed-on", required=True, metavar="YYYY-MM-DD",
              help="The date the course was completed.")
@click.option("--trainer", required=True, help="Who gave the training.")
@pass_ctx
def user_training(ctx: Context, name: str, course: str, completed_on: str,
                  trainer: str) -> None:
    """Record a user's completed ALPR training (462.4.1)."""
    admin.record_training(ctx.engine(), ctx.caller(), name, course=course,
                          completed_on=completed_on, trainer=trainer)
    click.echo(f"training of {name} on {completed_on} recorded")


@main.group()
def audit() -> None:
    """The record of access (policy 462.5)."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def audit_verify(ctx: Context, as_json: bool) -> None:
    """Verify the audit log's keyed chain and every anchor; exit 1 naming the first fault."""
    report = audit_use.verify_log(ctx.engine(), ctx.caller(), ctx.settings)
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
    caller = ctx.authorized(audit_use.PERMISSION, "audit.anchor")
    line = audit_log.write_anchor(ctx.engine(), ctx.settings, **caller.who())
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
from controller.commands import client as client_cmd  # noqa: E402
from controller.commands import compliance as compliance_cmd  # noqa: E402
from controller.commands import demo as demo_cmd  # noqa: E402
from controller.commands import discover as discover_cmd  # noqa: E402
from controller.commands import eval as eval_cmd  # noqa: E402
from controller.commands import feed as feed_cmd  # noqa: E402
from controller.commands import hotlist as hotlist_cmd  # noqa: E402
from controller.commands import masks as masks_cmd  # noqa: E402
from controller.commands import program as program_cmd  # noqa: E402
from controller.commands import provision as provision_cmd  # noqa: E402
from controller.commands import purpose as purpose_cmd  # noqa: E402
from controller.commands import retention as retention_cmd  # noqa: E402
from controller.commands import sink as sink_cmd  # noqa: E402
from controller.commands import site as site_cmd  # noqa: E402

for _command in signin.commands:
    main.add_command(_command)

main.add_command(demo_cmd.command)
main.add_command(eval_cmd.command)
main.add_command(hotlist_cmd.command)
main.add_command(feed_cmd.command)
main.add_command(camera_cmd.command)
main.add_command(discover_cmd.command)
main.add_command(site_cmd.command)
main.add_command(provision_cmd.command)
main.add_command(program_cmd.command)
main.add_command(purpose_cmd.command)
audit.add_command(audit_export_cmd.command)
main.add_command(retention_cmd.command)
main.add_command(sink_cmd.command)
main.add_command(client_cmd.command)
for _group in compliance_cmd.groups:
    main.add_command(_group)
for _command in masks_cmd.commands:  # mask change requests, beside `mask lift`
    compliance_cmd.mask.add_command(_command)
