"""``sightline mask requests|approve|refuse|withdraw|court-order``: mask change requests.

Policy 462.7.1(1): removing, shrinking or retyping a privacy mask is a request
that takes effect only when a second administrator approves it or a court
order is recorded for it. These commands call the same use cases as the web's
``/masks/requests`` page (``controller.operations.masks``), as the Sightline
user signed in with ``sightline login``: the role table, the training gate, the
second-administrator rule and the audit entries are the use cases' own.
``controller.cli`` adds them to the ``mask`` group beside ``mask lift``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from controller.bridge import ignore_change
from controller.compliance.exports import json_default
from controller.operations import masks
from controller.store.records import MaskRequestRow


def _changes(row: MaskRequestRow) -> str:
    return ", ".join(f"{c['change']} {c['before']['name']!r} (region {c['region_id']})"
                     for c in row["changes"])


@click.command("requests")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def requests_cmd(obj: Any, as_json: bool) -> None:
    """List the mask change requests waiting for a decision."""
    rows = masks.requests(obj.engine(), obj.caller())["pending"]
    if as_json:
        click.echo(json.dumps(rows, default=json_default, sort_keys=True))
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['camera']}\tby {row['requested_by']} "
                   f"{row['requested_at']:%Y-%m-%d %H:%M}\t{_changes(row)}\t{row['reason']}")
    if not rows:
        click.echo("no mask change waits for a decision")


# ignore_change: no controller runs in this process; running ones read masks at refresh.

@click.command("approve")
@click.argument("request_id", type=int)
@click.option("--note", default="", help="A note kept with the decision.")
@click.pass_obj
def approve_cmd(obj: Any, request_id: int, note: str) -> None:
    """Approve another administrator's mask change: it takes effect now."""
    row = masks.approve(obj.engine(), obj.caller(), request_id, note=note,
                        notify=ignore_change)
    click.echo(f"mask change {row['id']} on {row['camera']} approved and in force")


@click.command("refuse")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why the change is refused.")
@click.pass_obj
def refuse_cmd(obj: Any, request_id: int, reason: str) -> None:
    """Refuse another administrator's mask change: the masks stay as they are."""
    row = masks.refuse(obj.engine(), obj.caller(), request_id, note=reason)
    click.echo(f"mask change {row['id']} on {row['camera']} refused")


@click.command("withdraw")
@click.argument("request_id", type=int)
@click.pass_obj
def withdraw_cmd(obj: Any, request_id: int) -> None:
    """Withdraw one's own mask change request: the masks stay as they are."""
    row = masks.withdraw(obj.engine(), obj.caller(), request_id)
    click.echo(f"mask change {row['id']} on {row['camera']} withdrawn")


@click.command("court-order")
@click.argument("request_id", type=int)
@click.option("--order", "court_order", required=True, help="Court order number.")
@click.option("--court", required=True, help="The issuing court.")
@click.pass_obj
def court_order_cmd(obj: Any, request_id: int, court_order: str, court: str) -> None:
    """Carry out a mask change under a court order (no second approval needed)."""
    row = masks.apply_court_order(obj.engine(), obj.caller(), request_id,
                                  court_order=court_order, court=court, notify=ignore_change)
    click.echo(f"mask change {row['id']} on {row['camera']} carried out under court order "
               f"{row['court_order']} ({row['court']})")


commands = (requests_cmd, approve_cmd, refuse_cmd, withdraw_cmd, court_order_cmd)
