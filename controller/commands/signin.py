"""``sightline login|logout|whoami|password|bootstrap|policy``: the CLI as a Sightline user.

``login`` checks password and second factor exactly as the web login does and
keeps a short-lived token in a file only its owner can read (or prints it for
``SIGHTLINE_TOKEN``); every data command runs as that user (policy 462.5.1,
462.11(a)). ``bootstrap`` creates the first administrator of a fresh install,
with their training and policy acknowledgement, and only while none exists.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from controller.accounts import bootstrap as first_admin
from controller.accounts import self_service, sessions, tokens
from controller.errors import ValidationError

# Names of environment variables, not secrets.
ENV_TOKEN = "SIGHTLINE_TOKEN"  # noqa: S105
ENV_TOKEN_FILE = "SIGHTLINE_TOKEN_FILE"  # noqa: S105
ENV_PASSWORD = "SIGHTLINE_PASSWORD"  # noqa: S105


def token_path() -> Path:
    """Where ``login`` keeps the token: $SIGHTLINE_TOKEN_FILE, else the user's state dir."""
    named = os.environ.get(ENV_TOKEN_FILE)
    if named:
        return Path(named)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "sightline" / "token"


def read_token() -> str | None:
    """The token of this shell: $SIGHTLINE_TOKEN, else the token file; None if neither."""
    given = os.environ.get(ENV_TOKEN, "").strip()
    if given:
        return given
    path = token_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Someone else could have read it: the sign-in is not trusted (462.5.2).
        raise tokens.NotSignedIn(f"the token file {path} is readable by others; "
                                 f"delete it and {tokens.LOGIN_HINT}")
    return path.read_text(encoding="ascii", errors="replace").strip() or None


def _save_token(token: str) -> Path:
    path = token_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return path


def _ask_code(given: str | None) -> tokens.CodePrompt:
    def ask(step: str, uri: str | None, secret: str | None) -> str:
        if step == "enrol":
            click.echo("No authenticator is enrolled for this account yet. Add this key to "
                       "your authenticator app (or import the otpauth:// line):", err=True)
            click.echo(f"  key: {secret}", err=True)
            click.echo(f"  {uri}", err=True)
        if given:
            return given
        return str(click.prompt("Code from your authenticator", err=True))
    return ask


@click.command("login")
@click.option("-u", "--username", envvar="SIGHTLINE_USERNAME", default=None,
              help="Your Sightline username (or $SIGHTLINE_USERNAME; asked for if absent).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input "
                   f"(else ${ENV_PASSWORD}, else it is asked for). There is no password option: "
                   "other users of the machine could read it in the process list.")
@click.option("--code", envvar="SIGHTLINE_TOTP_CODE", default=None,
              help="The current code from your authenticator (asked for if absent).")
@click.option("--print-token", is_flag=True,
              help=f"Print the token for ${ENV_TOKEN} instead of keeping it in the token file.")
@click.pass_obj
def login(obj: Any, username: str | None, password_stdin: bool, code: str | None,
          print_token: bool) -> None:
    """Sign in with password and second factor; commands then run as you (462.5.1)."""
    settings = obj.settings
    engine = obj.engine()
    name = username or str(click.prompt("Username", err=True))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get(ENV_PASSWORD):
        password = os.environ[ENV_PASSWORD]
    else:
        password = str(click.prompt("Password", hide_input=True, err=True))
    token, expires, user = tokens.login(
        engine, settings.security, name, password, _ask_code(code),
        client_addr=tokens.cli_address())
    where = "printed for SIGHTLINE_TOKEN"
    if print_token:
        click.echo(token)
    else:
        where = f"kept in {_save_token(token)}"
    click.echo(f"signed in as {user['username']} ({user['role']}) until "
               f"{expires:%Y-%m-%d %H:%M} UTC; token {where}", err=True)
    for item in sessions.missing_for_access(engine, settings.security, user):
        click.echo(f"before any data command: {item.message}", err=True)


@click.command("logout")
@click.pass_obj
def logout(obj: Any) -> None:
    """End the command-line sign-in of this shell and delete the token file."""
    token = None
    # A token file others could read is not used: it is deleted below.
    with contextlib.suppress(tokens.NotSignedIn):
        token = read_token()
    name = None
    if token is not None:
        name = tokens.logout(obj.engine(), token, client_addr=tokens.cli_address())
    path = token_path()
    if not os.environ.get(ENV_TOKEN, "").strip():
        path.unlink(missing_ok=True)
    click.echo(f"signed out {name}" if name else "no live sign-in; nothing to end")


@click.command("whoami")
@click.pass_obj
def whoami(obj: Any) -> None:
    """Say who commands run as, and what the training gate still needs."""
    caller = obj.caller()
    click.echo(f"{caller.username} ({caller.role})")
    for item in sessions.missing_for_access(obj.engine(), obj.settings.security, obj.user):
        click.echo(f"data commands refuse you until: {item.message}")


@click.command("password")
@click.option("--password-stdin", is_flag=True,
              help="Read the current and the new password from the first two lines of "
                   "standard input.")
@click.pass_obj
def change_password(obj: Any, password_stdin: bool) -> None:
    """Change your own password (CJIS rules: none of the last 10), e.g. a temporary one."""
    obj.caller()  # signed in; no training needed to change one's password (462.5.2)
    if password_stdin:
        current = sys.stdin.readline().rstrip("\r\n")
        new = sys.stdin.readline().rstrip("\r\n")
    else:
        current = str(click.prompt("Current password", hide_input=True, err=True))
        new = str(click.prompt("New password", hide_input=True, confirmation_prompt=True,
                               err=True))
    sessions.change_password(obj.engine(), obj.settings.security, obj.user, current, new,
                             client_addr=tokens.cli_address())
    click.echo("password changed")


@click.command("bootstrap")
@click.argument("name")
@click.option("--full-name", default="", help="The administrator's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--course", required=True, help="The ALPR training course you completed.")
@click.option("--trained-on", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="When you completed it (YYYY-MM-DD).")
@click.option("--trainer", required=True, help="Who gave the training.")
@click.option("--acknowledge-policy", "policy_version", default=None, metavar="VERSION",
              help="The published policy version you read (required when one is published).")
@click.pass_obj
def bootstrap(obj: Any, name: str, *, full_name: str, password_stdin: bool, course: str,
              trained_on: datetime, trainer: str, policy_version: str | None) -> None:
    """Create the first administrator of a fresh install (only while none exists)."""
    engine = obj.engine()
    # Refused before the password is asked for, once an administrator exists.
    first_admin.refuse_once_done(engine, name, client_addr=tokens.cli_address())
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    first_admin.bootstrap_administrator(
        engine, obj.settings.security, username=name, password=password,
        full_name=full_name, course=course, completed_on=trained_on.date(), trainer=trainer,
        policy_version=policy_version, client_addr=tokens.cli_address())
    click.echo(f"administrator {name} created with training of {trained_on:%Y-%m-%d} on "
               f"record; sign in (`sightline login` or the web) to enrol a second factor")


@click.group("policy")
def policy() -> None:
    """The department's ALPR policy as published (462.9, 462.13)."""


@policy.command("show")
@click.pass_obj
def policy_show(obj: Any) -> None:
    """Print the current policy version and whether you acknowledged it."""
    view = self_service.policy_to_read(obj.engine(), obj.caller())
    if view.current is None:
        click.echo("no policy version is published")
        return
    state = "acknowledged" if view.done else "not yet acknowledged"
    click.echo(f"version {view.current['version']}: {view.current['title']} ({state})")
    if view.text:
        click.echo(view.text)


@policy.command("acknowledge")
@click.argument("version")
@click.pass_obj
def policy_acknowledge(obj: Any, version: str) -> None:
    """Acknowledge that you read the current policy VERSION (audited)."""
    engine, caller = obj.engine(), obj.caller()
    view = self_service.policy_to_read(engine, caller)
    if view.current is None or view.current["version"] != version:
        raise ValidationError("version", "that is not the current policy version")
    self_service.acknowledge_policy(engine, caller, str(view.current["id"]))
    click.echo(f"policy version {version} acknowledged")


commands = (login, logout, whoami, change_password, bootstrap, policy)
