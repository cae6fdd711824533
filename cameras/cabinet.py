"""Roadside cabinet I/O over Modbus TCP (pymodbus's asyncio client).

``CabinetMonitor`` polls one site's cabinet: discrete inputs (door, vehicle
presence loop), input registers (temperature, supply voltage, light level)
and coils (the IR illuminator and other outputs). Changes become
``CabinetEvent`` objects handed to a callback on the event loop; the
controller writes the audit row for a door opening and raises the health
alarm. The illuminator coil is switched to follow its schedule.

Errors are translated at the boundary: an exception reply (``rr.isError()``,
which pymodbus returns rather than raises) becomes ``CabinetExceptionReply``;
a dropped connection, refusal or timeout becomes ``CabinetUnreachable``. The
monitor survives both: exception replies are reported and polling goes on,
transport errors close the client and reconnect with backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from cameras.cabinet_points import (
    DOOR,
    IR_ILLUMINATOR,
    LIGHT_LEVEL,
    SUPPLY_VOLTAGE,
    TEMPERATURE,
    VEHICLE_PRESENCE,
    CabinetPointMap,
    CoilPoint,
    DiscretePoint,
    IlluminatorSchedule,
    RegisterPoint,
    block,
    illuminator_should_be_on,
)
from cameras.errors import CabinetError, CabinetExceptionReply, CabinetUnreachable
from cameras.health import Alarm, CabinetHealth, Severity, overall_state
from cameras.masking import utc_now

__all__ = [
    "CabinetEvent",
    "CabinetEventKind",
    "CabinetMonitor",
    "CabinetPointMap",
    "CabinetReading",
    "CoilPoint",
    "DiscretePoint",
    "IlluminatorSchedule",
    "RegisterPoint",
]

log = logging.getLogger(__name__)


class CabinetEventKind(StrEnum):
    """What happened at a cabinet."""

    DOOR_OPENED = "door_opened"
    DOOR_CLOSED = "door_closed"
    VEHICLE_PRESENT = "vehicle_present"
    VEHICLE_CLEARED = "vehicle_cleared"
    INPUT_CHANGED = "input_changed"
    OUTPUT_SET = "output_set"
    CONNECTION_LOST = "connection_lost"
    CONNECTION_RESTORED = "connection_restored"
    EXCEPTION_REPLY = "exception_reply"


# (kind when the signal becomes active, kind when it clears) per well-known input.
_EDGE_KINDS = {
    DOOR: (CabinetEventKind.DOOR_OPENED, CabinetEventKind.DOOR_CLOSED),
    VEHICLE_PRESENCE: (CabinetEventKind.VEHICLE_PRESENT, CabinetEventKind.VEHICLE_CLEARED),
}


@dataclass(frozen=True)
class CabinetEvent:
    """One change at a cabinet, for the audit log, health and the pipeline."""

    site: str
    kind: CabinetEventKind
    at: datetime
    message: str
    signal: str | None = None
    value: bool | float | None = None


@dataclass(frozen=True)
class CabinetReading:
    """One poll's values, already decoded to booleans and engineering units."""

    at: datetime
    inputs: dict[str, bool] = field(default_factory=dict)
    registers: dict[str, float] = field(default_factory=dict)
    coils: dict[str, bool] = field(default_factory=dict)


EventCallback = Callable[[CabinetEvent], None]


class CabinetMonitor:
    """Polls one cabinet, reports changes, and drives the illuminator coil."""

    def __init__(
        self,
        site: str,
        host: str,
        port: int,
        points: CabinetPointMap,
        *,
        on_event: EventCallback | None = None,
        poll_interval: float = 0.5,
        timeout: float = 1.0,
        backoff_initial: float = 0.5,
        backoff_cap: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.site = site
        self.host = host
        self.port = port
        self.points = points
        self._on_event = on_event
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._backoff_initial = backoff_initial
        self._backoff_cap = backoff_cap
        self._clock = clock
        self._client: AsyncModbusTcpClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: CabinetReading | None = None
        self._connected = False
        self._outage_reported = False
        self._reported_reply: str | None = None
        self._error: CabinetError | None = None
        self._last_poll_at: datetime | None = None

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Start polling in a background task."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"cabinet-{self.site}")

    async def stop(self) -> None:
        """Stop polling and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._close()

    async def run(self) -> None:
        """Poll until cancelled; never raises for cabinet faults."""
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
                delay = self._poll_interval
            except CabinetExceptionReply:
                delay = self._poll_interval  # the link is fine; keep polling
            except CabinetUnreachable:
                failures += 1
                delay = self._backoff(failures)
            await asyncio.sleep(delay)

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with jitter, capped."""
        ceiling = min(self._backoff_cap, self._backoff_initial * 2 ** (failures - 1))
        # Equal jitter: never zero, so a dead cabinet is not hammered.
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 (not crypto)

    # -- one poll ------------------------------------------------------------------

    async def poll_once(self) -> CabinetReading:
        """Connect if needed, read every point, emit events, follow the schedule."""
        try:
            client = await self._connect()
            reading = await self._read(client)
            await self._follow_schedule(client, reading)
        except CabinetError as exc:
            self._fail(exc)
            raise
        self._connected = True
        if self._outage_reported:
            self._outage_reported = False
            self._emit(CabinetEventKind.CONNECTION_RESTORED, "connection restored")
        self._error = None
        self._reported_reply = None
        self._last_poll_at = reading.at
        self._compare(reading)
        self._last = reading
        return reading

    async def write_output(self, name: str, value: bool) -> None:
        """Switch a named coil; raises CabinetError on failure."""
        point = self.points.coils.get(name)
        if point is None:
            raise CabinetError(self.site, f"no output named {name!r}")
        client = await self._connect()
        await self._call(
            f"write {name}",
            lambda: client.write_coil(point.address, value, device_id=self.points.device_id),
        )
        state = "on" if value else "off"
        self._emit(CabinetEventKind.OUTPUT_SET, f"{name} set {state}", name, value)

    async def _connect(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        self._close()
        # reconnect_delay=0: pymodbus must not reconnect on its own; the monitor
        # owns the backoff so that health sees every outage.
        client = AsyncModbusTcpClient(
            self.host, port=self.port, timeout=self._timeout, retries=0, reconnect_delay=0
        )
        try:
            ok = await client.connect()
        except (ModbusException, OSError) as exc:
            client.close()
            raise CabinetUnreachable(
                self.site, f"connect to {self.host}:{self.port}: {exc}"
            ) from exc
        if not ok:
            client.close()
            raise CabinetUnreachable(self.site, f"connect to {self.host}:{self.port} refused")
        self._client = client
        return client

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _call(self, what: str, request: Callable[[], Awaitable[Any]]) -> Any:
        """Run one request; translate transport errors and exception replies."""
        try:
            rr = await request()
        except (ModbusException, OSError, TimeoutError) as exc:
            self._close()
            raise CabinetUnreachable(self.site, f"{what}: {exc}") from exc
        if rr.isError():
            code = int(getattr(rr, "exception_code", 0))
            raise CabinetExceptionReply(self.site, f"{what}: exception reply code {code}", code)
        return rr

    async def _read(self, client: AsyncModbusTcpClient) -> CabinetReading:
        dev = self.points.device_id
        reading = CabinetReading(at=self._clock())
        if self.points.inputs:
            start, count = block([p.address for p in self.points.inputs.values()])
            rr = await self._call(
                "read inputs",
                lambda: client.read_discrete_inputs(start, count=count, device_id=dev),
            )
            for name, point in self.points.inputs.items():
                raw = bool(_at(rr.bits, point.address - start, self.site, name))
                reading.inputs[name] = raw != point.active_low
        if self.points.registers:
            start, count = block([p.address for p in self.points.registers.values()])
            rr = await self._call(
                "read registers",
                lambda: client.read_input_registers(start, count=count, device_id=dev),
            )
            for name, reg in self.points.registers.items():
                reading.registers[name] = reg.decode(
                    int(_at(rr.registers, reg.address - start, self.site, name))
                )
        if self.points.coils:
            start, count = block([p.address for p in self.points.coils.values()])
            rr = await self._call(
                "read coils", lambda: client.read_coils(start, count=count, device_id=dev)
            )
            for name, coil in self.points.coils.items():
                reading.coils[name] = bool(_at(rr.bits, coil.address - start, self.site, name))
        return reading

    async def _follow_schedule(self, client: AsyncModbusTcpClient, reading: CabinetReading) -> None:
        schedule = self.points.illuminator
        if schedule is None:
            return
        want = illuminator_should_be_on(schedule, reading.at, reading.registers.get(LIGHT_LEVEL))
        if reading.coils.get(IR_ILLUMINATOR) == want:
            return
        address = self.points.coils[IR_ILLUMINATOR].address
        await self._call(
            "switch illuminator",
            lambda: client.write_coil(address, want, device_id=self.points.device_id),
        )
        reading.coils[IR_ILLUMINATOR] = want
        self._emit(
            CabinetEventKind.OUTPUT_SET,
            f"IR illuminator switched {'on' if want else 'off'} by schedule",
            IR_ILLUMINATOR,
            want,
        )

    # -- events and health ---------------------------------------------------------

    def _compare(self, reading: CabinetReading) -> None:
        """Emit an event for every input that changed (or starts out active)."""
        before = self._last.inputs if self._last is not None else {}
        for name, active in reading.inputs.items():
            previous = before.get(name)
            if previous == active or (previous is None and not active):
                continue
            on_kind, off_kind = _EDGE_KINDS.get(
                name, (CabinetEventKind.INPUT_CHANGED, CabinetEventKind.INPUT_CHANGED)
            )
            kind = on_kind if active else off_kind
            self._emit(kind, f"{name} {'active' if active else 'inactive'}", name, active)

    def _fail(self, exc: CabinetError) -> None:
        """Record a failure; report each distinct fault once, not on every retry."""
        self._error = exc
        if isinstance(exc, CabinetExceptionReply):
            if self._reported_reply != str(exc):
                self._reported_reply = str(exc)
                self._emit(CabinetEventKind.EXCEPTION_REPLY, str(exc))
            return
        self._connected = False
        if not self._outage_reported:
            self._outage_reported = True
            self._emit(CabinetEventKind.CONNECTION_LOST, str(exc))

    def _emit(
        self, kind: CabinetEventKind, message: str, signal: str | None = None,
        value: bool | float | None = None,
    ) -> None:
        event = CabinetEvent(self.site, kind, self._clock(), message, signal, value)
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            # A faulty subscriber must not stop the cabinet from being watched.
            log.exception("cabinet %s: event callback failed for %s", self.site, kind)

    @property
    def vehicle_present(self) -> bool:
        """Whether the presence loop saw a vehicle at the last poll (sample faster)."""
        return bool(self._last and self._last.inputs.get(VEHICLE_PRESENCE))

    def health(self) -> CabinetHealth:
        """The cabinet's health model for the controller, web UI and /metrics."""
        alarms: list[Alarm] = []
        if self._error is not None:
            reply = isinstance(self._error, CabinetExceptionReply)
            severity = Severity.WARNING if reply else Severity.ERROR
            alarms.append(Alarm(type(self._error).__name__, str(self._error), severity))
        last = self._last
        if last is not None:
            if last.inputs.get(DOOR):
                alarms.append(Alarm("door_open", "cabinet door is open"))
            alarms.extend(_register_alarms(self.points, last))
        return CabinetHealth(
            site=self.site,
            state=overall_state(tuple(alarms), known=last is not None or self._error is not None),
            connected=self._connected,
            door_open=last.inputs.get(DOOR) if last else None,
            vehicle_present=last.inputs.get(VEHICLE_PRESENCE) if last else None,
            temperature_c=last.registers.get(TEMPERATURE) if last else None,
            supply_voltage_v=last.registers.get(SUPPLY_VOLTAGE) if last else None,
            illuminator_on=last.coils.get(IR_ILLUMINATOR) if last else None,
            last_poll_at=self._last_poll_at,
            alarms=tuple(alarms),
        )


def _register_alarms(points: CabinetPointMap, reading: CabinetReading) -> list[Alarm]:
    alarms = []
    for name, value in reading.registers.items():
        reg = points.registers[name]
        if reg.alarm_below is not None and value < reg.alarm_below:
            alarms.append(Alarm(f"{name}_low", f"{name} {value:g} below {reg.alarm_below:g}"))
        if reg.alarm_above is not None and value > reg.alarm_above:
            alarms.append(Alarm(f"{name}_high", f"{name} {value:g} above {reg.alarm_above:g}"))
    return alarms


def _at(values: list[Any], index: int, site: str, name: str) -> Any:
    """Index a reply, refusing a short one (a malformed reply is a cabinet fault)."""
    if not 0 <= index < len(values):
        raise CabinetExceptionReply(site, f"reply too short for {name}", 0)
    return values[index]
