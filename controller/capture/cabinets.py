"""Roadside cabinets: Modbus I/O per site, wired to the audit log, health and sampling.

A door opening is audited and raised as a health alarm; the vehicle-presence loop
raises that site's sampling rate (``present``); the illuminator follows its
schedule inside ``cameras.cabinet``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from cameras.cabinet import CabinetEvent, CabinetEventKind, CabinetMonitor
from controller import audit
from controller.errors import ValidationError
from controller.settings.cabinet import parse_cabinet
from controller.store import Engine
from controller.store import sites as site_repo

log = logging.getLogger("sightline.cabinets")

AUDITED = {
    CabinetEventKind.DOOR_OPENED: "cabinet.door_opened",
    CabinetEventKind.DOOR_CLOSED: "cabinet.door_closed",
    CabinetEventKind.CONNECTION_LOST: "cabinet.connection_lost",
    CabinetEventKind.CONNECTION_RESTORED: "cabinet.connection_restored",
}


def configure_cabinet(engine: Engine, code: str, raw: Any, *, actor: str,
                      client_addr: str | None = None) -> None:
    """Store a validated cabinet configuration on a site (audited)."""
    config = parse_cabinet(raw)
    site_repo.set_cabinet(engine, code, config.model_dump(mode="json"))
    audit.record(engine, audit.AuditEvent(actor=actor, action="cabinet.configure",
                                          client_addr=client_addr,
                                          data={"site": code, "host": config.host,
                                                "port": config.port}))


class Cabinets:
    """One monitor per configured cabinet at this node's sites."""

    def __init__(self, engine: Engine, site_codes: tuple[str, ...] = ()) -> None:
        self._engine = engine
        self._sites = site_codes
        self.monitors: dict[str, CabinetMonitor] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def present(self, site_code: str) -> bool:
        """Whether the site's presence loop sees a vehicle now."""
        monitor = self.monitors.get(site_code)
        return bool(monitor and monitor.vehicle_present)

    async def start(self) -> None:
        """Start a monitor for every site with a cabinet."""
        loop = asyncio.get_running_loop()

        def on_event(event: CabinetEvent) -> None:
            task = loop.create_task(self._record(event))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        for site in await asyncio.to_thread(site_repo.list_sites, self._engine, self._sites):
            if not site["cabinet"]:
                continue
            try:
                config = parse_cabinet(site["cabinet"])
            except ValidationError as exc:
                log.error("site %s: cabinet not started: %s", site["code"], exc)
                continue
            monitor = CabinetMonitor(
                site["code"], config.host, config.port, config.points,
                on_event=on_event)
            await monitor.start()
            self.monitors[site["code"]] = monitor

    async def _record(self, event: CabinetEvent) -> None:
        action = AUDITED.get(event.kind)
        if event.kind is CabinetEventKind.DOOR_OPENED:
            log.warning("ALARM: cabinet door opened at site %s", event.site)
        if action is None:
            return
        try:
            await asyncio.to_thread(audit.record, self._engine, audit.AuditEvent(
                actor=f"cabinet:{event.site}", action=action,
                data={"site": event.site, "message": event.message,
                      "at": event.at.isoformat()}))
        except Exception:  # the alarm is still in health if the database is away
            log.exception("cabinet event %s at %s not audited", event.kind, event.site)

    async def stop(self) -> None:
        """Stop every monitor."""
        for monitor in self.monitors.values():
            await monitor.stop()
        self.monitors.clear()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def health(self) -> list[dict[str, Any]]:
        """Per-cabinet health for the web UI and /metrics."""
        out = []
        for site, monitor in sorted(self.monitors.items()):
            health = monitor.health()
            out.append({"site": site, "state": str(health.state),
                        "door_open": health.door_open,
                        "vehicle_present": monitor.vehicle_present,
                        "alarms": [a.code for a in health.alarms]})
        return out
