"""``sightline hold`` and ``sightline mask``: evidence holds and court-order lifts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from controller.bridge import ignore_change
from controller.compliance import court_orders, holds


@click.group("hold")
def hold() -> None:
    """Evidence holds (462.10): held reads are never purged."""


@hold.command("create")
@click.option("--case", "case_number", required=True, help="Case number.")
@click.option("--reason", required=True, help="Why the reads are held.")
@click.argument("read_uuids", nargs=-1, required=True)
@click.pass_obj
def hold_create(obj: Any, case_number: str, reason: str, read_uuids: tuple[str, ...]) -> None:
    """Place reads (by uuid) under a hold; print the hold id."""
    hold_id = holds.place_hold(obj.engine(), obj.caller(), case_number=case_number,
                               reason=reason, read_uuids=read_uuids)
    click.echo(hold_id)


@hold.command("list")
@click.pass_obj
def hold_list(obj: Any) -> None:
    """List the holds."""
    for row in holds.holds_on_file(obj.engine(), obj.caller()):
        state = "released" if row["released_at"] else "open"
        click.echo(f"{row['id']:>5} case {row['case_number']:<16} {row['read_count']:>6} reads "
                   f"{state}  {row['reason']}")


@hold.command("export")
@click.argument("hold_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder the evidence package is written into.")
@click.pass_obj
def hold_export(obj: Any, hold_id: int, out: Path) -> None:
    """Write the evidence package of a hold and print its folder (needs a purpose window)."""
    path = holds.export_hold(obj.engine(), obj.settings, obj.caller(), hold_id, out)
    click.echo(str(path))


@click.group("mask")
def mask() -> None:
    """Privacy masks under court order (462.7.1(1))."""


@mask.command("lift")
@click.argument("region_id", type=int)
@click.option("--order", "court_order", required=True, help="Court order number.")
@click.option("--court", required=True, help="The issuing court.")
@click.option("--expires", required=True, type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
              help="When the order expires (UTC), YYYY-MM-DDTHH:MM.")
@click.pass_obj
def mask_lift(obj: Any, region_id: int, court_order: str, court: str,
              expires: datetime) -> None:
    """Lift a privacy mask until the order expires (restored automatically)."""
    suspension_id = court_orders.lift_mask(
        obj.engine(), region_id=region_id, court_order=court_order, court=court,
        expires_at=expires.replace(tzinfo=UTC), notify=ignore_change,
        **obj.authorized("compliance.manage", "mask.lift", region_id=region_id).who())
    # ignore_change: no controller in this process; running ones read masks at refresh.
    click.echo(f"mask {region_id} lifted under order {court_order} until "
               f"{expires:%Y-%m-%d %H:%M} UTC (lift {suspension_id})")


@mask.command("restore-due")
@click.pass_obj
def mask_restore_due(obj: Any) -> None:
    """Restore now every mask whose court order has expired."""
    caller = obj.authorized("compliance.manage", "mask.restore")
    for lift in court_orders.restore_due(obj.engine(), notify=ignore_change,
                                         actor=caller.username):
        click.echo(f"mask {lift['region_id']} restored (order {lift['court_order']})")


groups = (hold, mask)
