"""Court orders (policy 462.7.1(1)): lift a privacy mask until an expiry, then restore it.

The lift is stored and this process's pipelines are told at once through the
controller's change notifier (``notify``, safe from any thread); other controller
processes pick it up within their pipeline manager's refresh. The
masker itself skips a lifted mask only until the order's expiry, so a mask is
back on the frames at the expiry even before the restore job marks it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from controller import audit
from controller.bridge import ChangeNotice
from controller.errors import NotFound, ValidationError
from controller.store import Engine
from controller.store import regions as region_repo
from controller.store.records import SuspensionRow
from controller.validation import required_text

log = logging.getLogger("sightline.court_orders")

SCHEDULER_ACTOR = "system:scheduler"




def lift_mask(engine: Engine, *, region_id: int, court_order: str, court: str,
              expires_at: datetime, actor: str, notify: ChangeNotice,
              client_addr: str | None = None, now: datetime | None = None) -> int:
    """Lift one privacy mask under a court order until ``expires_at``; audited.

    ``notify`` tells this process's controller that masks changed (the bridge's
    ``notify`` from a web thread, ``ignore_change`` in a process without one).
    """
    when = (now or datetime.now(UTC)).astimezone(UTC)
    court_order = required_text("court_order", court_order, 128)
    court = required_text("court", court, 200)
    if expires_at.tzinfo is None:
        raise ValidationError("expires_at", "give the expiry with its time zone (UTC)")
    if expires_at <= when:
        raise ValidationError("expires_at", "the order's expiry must be in the future")
    try:
        region = region_repo.get_region(engine, region_id)
    except NotFound:
        raise ValidationError("region", f"no privacy mask {region_id}") from None
    if region["kind"] != "privacy_mask":
        raise ValidationError("region", f"region {region_id} is a recognition zone, "
                                        "not a privacy mask")
    if any(s["region_id"] == region_id for s in region_repo.suspensions(engine, active_only=True)):
        raise ValidationError("region", f"mask {region_id} is already lifted under an order")
    suspension_id = region_repo.add_suspension(engine, region_id=region_id, court_order=court_order,
                                        court=court, actor=actor, now=when,
                                        expires_at=expires_at)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="mask.lift", client_addr=client_addr, case_number=court_order,
        data={"suspension_id": suspension_id, "region_id": region_id,
              "mask": region["name"], "camera_id": region["camera_id"],
              "camera": region["camera"], "court_order": court_order, "court": court,
              "expires_at": expires_at.astimezone(UTC).isoformat()}))
    notify("cameras")
    return suspension_id


def restore_due(engine: Engine, *, notify: ChangeNotice, now: datetime | None = None,
                actor: str = SCHEDULER_ACTOR) -> list[SuspensionRow]:
    """Mark every lift whose order has expired as restored; audit each; return them.

    ``notify`` is told "cameras" when any mask came back (see ``lift_mask``).
    """
    when = (now or datetime.now(UTC)).astimezone(UTC)
    restored = []
    for lift in region_repo.due_restorations(engine, when):
        if not region_repo.mark_restored(engine, int(lift["id"]), when):
            continue  # another controller process restored it first
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="mask.restore", case_number=lift["court_order"],
            data={"suspension_id": lift["id"], "region_id": lift["region_id"],
                  "mask": lift["mask"], "camera": lift["camera"],
                  "court_order": lift["court_order"],
                  "expires_at": lift["expires_at"].isoformat()}))
        restored.append(lift)
    if restored:
        notify("cameras")
    return restored


def active_lifts(engine: Engine) -> list[SuspensionRow]:
    """Masks currently lifted under a court order."""
    return region_repo.suspensions(engine, active_only=True)
