"""``sightline client``: API clients (462.4, 462.5): add (token shown once), list, revoke."""

from __future__ import annotations

from typing import Any

import click

from controller.accounts import clients
from controller.accounts.clients import ClientRow


def _show(row: ClientRow) -> str:
    state = ("revoked" if row.revoked_at else "active")
    used = f"{row.last_used_at:%Y-%m-%d %H:%M} UTC from {row.last_used_addr}" \
        if row.last_used_at else "never used"
    return (f"{row.name:<24} {row.role:<10} {state:<8} owner {row.owner:<16} "
            f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC  {used}")


@click.group("client")
def command() -> None:
    """API clients: programs that call /api/v1 under a role, owned by an administrator."""


@command.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(clients.CLIENT_ROLES),
              help="The role the client acts under (never administrator).")
@click.option("--expires", required=True, metavar="YYYY-MM-DD",
              help=f"Last day of validity (UTC), at most {clients.MAX_DAYS} days ahead.")
@click.pass_obj
def client_add(obj: Any, name: str, role: str, expires: str) -> None:
    """Create a client owned by you and print its token (shown once; audited)."""
    token, row = clients.add_client(obj.engine(), obj.caller(),
                                    clients.ClientForm(name=name, role=role, expires=expires))
    click.echo(_show(row))
    click.echo(f"token: {token}")
    click.echo("Keep it now: it is stored hashed and never shown again.", err=True)


@command.command("list")
@click.pass_obj
def client_list(obj: Any) -> None:
    """List every client with its role, owner, expiry and last use (never its token)."""
    for row in clients.clients(obj.engine(), obj.caller()):
        click.echo(_show(row))


@command.command("revoke")
@click.argument("name")
@click.pass_obj
def client_revoke(obj: Any, name: str) -> None:
    """Revoke a client at once: its token is refused from now on (audited)."""
    click.echo(_show(clients.revoke_client(obj.engine(), obj.caller(), name)))
