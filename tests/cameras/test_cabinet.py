"""Cabinet I/O against pymodbus's own Modbus TCP server (a real peer on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from cameras.cabinet import (
    CabinetEvent,
    CabinetEventKind,
    CabinetMonitor,
    CabinetPointMap,
    CoilPoint,
    DiscretePoint,
    IlluminatorSchedule,
    RegisterPoint,
)
from cameras.cabinet_points import illuminator_should_be_on
from cameras.errors import CabinetExceptionReply, CabinetUnreachable
from cameras.health import HealthState

DI, IR, COILS = 2, 4, 1  # Modbus function codes the simulator's get/set use
DEV = 3


def make_server(port: int) -> ModbusTcpServer:
    device = SimDevice(
        id=DEV,
        simdata=(
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=8, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=8, values=0, datatype=DataType.REGISTERS)],
        ),
    )
    return ModbusTcpServer(device, address=("127.0.0.1", port))


@pytest.fixture
async def server(free_port: Callable[[], int]) -> AsyncIterator[ModbusTcpServer]:
    srv = make_server(free_port())
    await srv.serve_forever(background=True)
    yield srv
    await srv.shutdown()


def port_of(srv: ModbusTcpServer) -> int:
    return int(srv.comm_params.source_address[1])


POINTS = CabinetPointMap(
    device_id=DEV,
    inputs={"door": DiscretePoint(address=0), "vehicle_presence": DiscretePoint(address=1),
            "spare": DiscretePoint(address=5, active_low=True)},
    registers={
        "temperature": RegisterPoint(address=0, scale=0.1, signed=True, alarm_above=60),
        "supply_voltage": RegisterPoint(address=1, scale=0.01, alarm_below=11.0),
        "light_level": RegisterPoint(address=2),
    },
    coils={"ir_illuminator": CoilPoint(address=0), "heater": CoilPoint(address=3)},
)


async def wait_for(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.02)


def kinds(events: list[CabinetEvent]) -> list[CabinetEventKind]:
    return [e.kind for e in events]


async def test_door_and_presence_changes_become_events(server: ModbusTcpServer) -> None:
    events: list[CabinetEvent] = []
    await server.async_setValues(DEV, DI, 5, [True])  # spare is active-low: inactive
    await server.async_setValues(DEV, IR, 0, [0x10000 - 55, 1230])  # -5.5 C, 12.3 V
    monitor = CabinetMonitor("site-a", "127.0.0.1", port_of(server), POINTS,
                             on_event=events.append, poll_interval=0.05)
    first = await monitor.poll_once()
    assert first.inputs == {"door": False, "vehicle_presence": False, "spare": False}
    assert first.registers["temperature"] == pytest.approx(-5.5)
    assert first.registers["supply_voltage"] == pytest.approx(12.3)
    assert events == []
    assert monitor.health().state is HealthState.OK

    await monitor.start()
    try:
        await server.async_setValues(DEV, DI, 0, [True])
        await wait_for(lambda: CabinetEventKind.DOOR_OPENED in kinds(events))
        door = events[-1]
        assert (door.site, door.signal, door.value) == ("site-a", "door", True)
        health = monitor.health()
        assert health.door_open and health.state is HealthState.WARNING
        assert [a.code for a in health.alarms] == ["door_open"]

        await server.async_setValues(DEV, DI, 1, [True])
        await wait_for(lambda: monitor.vehicle_present)
        await server.async_setValues(DEV, DI, 1, [False])
        await server.async_setValues(DEV, DI, 0, [False])
        await wait_for(lambda: CabinetEventKind.DOOR_CLOSED in kinds(events))
        await wait_for(lambda: CabinetEventKind.VEHICLE_CLEARED in kinds(events))
        assert kinds(events).count(CabinetEventKind.VEHICLE_PRESENT) == 1
        assert kinds(events).count(CabinetEventKind.DOOR_OPENED) == 1
        await wait_for(lambda: monitor.health().state is HealthState.OK)
    finally:
        await monitor.stop()


async def test_register_thresholds_raise_alarms(server: ModbusTcpServer) -> None:
    await server.async_setValues(DEV, IR, 0, [655, 1050])  # 65.5 C, 10.5 V
    monitor = CabinetMonitor("site-a", "127.0.0.1", port_of(server), POINTS)
    try:
        await monitor.poll_once()
        codes = sorted(a.code for a in monitor.health().alarms)
        assert codes == ["supply_voltage_low", "temperature_high"]
    finally:
        await monitor.stop()


def test_schedule_windows() -> None:
    night = IlluminatorSchedule(on_at=time(19), off_at=time(7), timezone="America/Los_Angeles")
    # 04:00 UTC is 20:00 the day before in Los Angeles (PST, UTC-8).
    assert illuminator_should_be_on(night, datetime(2026, 1, 10, 4, tzinfo=UTC), None)
    assert not illuminator_should_be_on(night, datetime(2026, 1, 10, 20, tzinfo=UTC), None)
    day = IlluminatorSchedule(on_at=time(9), off_at=time(17), below_light_level=50)
    assert illuminator_should_be_on(day, datetime(2026, 1, 10, 9, tzinfo=UTC), 900)
    assert not illuminator_should_be_on(day, datetime(2026, 1, 10, 17, tzinfo=UTC), 900)
    assert illuminator_should_be_on(day, datetime(2026, 1, 10, 17, tzinfo=UTC), 10)


async def test_illuminator_coil_follows_the_schedule(server: ModbusTcpServer) -> None:
    points = POINTS.model_copy(update={"illuminator": IlluminatorSchedule(
        on_at=time(19), off_at=time(7), below_light_level=100)})
    now = [datetime(2026, 3, 1, 22, 0, tzinfo=UTC)]
    events: list[CabinetEvent] = []
    await server.async_setValues(DEV, IR, 2, [800])  # bright
    monitor = CabinetMonitor("site-a", "127.0.0.1", port_of(server), points,
                             on_event=events.append, clock=lambda: now[0])

    async def coil() -> bool:
        return bool((await server.async_getValues(DEV, COILS, 0, 1))[0])

    try:
        await monitor.poll_once()
        assert await coil() is True, "on at night"
        assert monitor.health().illuminator_on is True
        now[0] = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
        await monitor.poll_once()
        assert await coil() is False, "off in daylight"
        await server.async_setValues(DEV, IR, 2, [40])  # overcast: below the threshold
        await monitor.poll_once()
        assert await coil() is True, "on when dark by day"
        # Someone switches it off by hand at the cabinet: the schedule wins again.
        await server.async_setValues(DEV, COILS, 0, [False])
        await monitor.poll_once()
        assert await coil() is True
        switched = [e.value for e in events if e.kind is CabinetEventKind.OUTPUT_SET]
        assert switched == [True, False, True, True]
        await monitor.write_output("heater", True)
        assert (await server.async_getValues(DEV, COILS, 3, 1))[0]
    finally:
        await monitor.stop()


async def test_exception_reply_is_reported_and_polling_goes_on(server: ModbusTcpServer) -> None:
    bad = POINTS.model_copy(update={"registers": {"temperature": RegisterPoint(address=100)}})
    events: list[CabinetEvent] = []
    monitor = CabinetMonitor("site-b", "127.0.0.1", port_of(server), bad,
                             on_event=events.append, poll_interval=0.05)
    with pytest.raises(CabinetExceptionReply, match=r"site-b.*read registers.*code 2") as info:
        await monitor.poll_once()
    assert info.value.code == 2
    health = monitor.health()
    assert health.state is HealthState.WARNING and health.connected is False
    await monitor.start()
    try:
        await asyncio.sleep(0.3)  # several polls, all refused
        replies = [e for e in events if e.kind is CabinetEventKind.EXCEPTION_REPLY]
        assert len(replies) == 1, "reported once, not on every poll"
    finally:
        await monitor.stop()


async def test_dropped_connection_is_reported_and_recovered(
    free_port: Callable[[], int],
) -> None:
    port = free_port()
    srv = make_server(port)
    await srv.serve_forever(background=True)
    events: list[CabinetEvent] = []
    monitor = CabinetMonitor("site-c", "127.0.0.1", port, POINTS, on_event=events.append,
                             poll_interval=0.05, timeout=0.3, backoff_initial=0.05,
                             backoff_cap=0.2)
    await monitor.start()
    try:
        await wait_for(lambda: monitor.health().connected)
        await srv.shutdown()
        await wait_for(lambda: CabinetEventKind.CONNECTION_LOST in kinds(events))
        health = monitor.health()
        assert health.state is HealthState.DOWN and not health.connected
        assert health.alarms[0].code == "CabinetUnreachable"
        await asyncio.sleep(0.5)  # retries during the outage are not re-reported
        assert kinds(events).count(CabinetEventKind.CONNECTION_LOST) == 1

        srv = make_server(port)
        await srv.serve_forever(background=True)
        await srv.async_setValues(DEV, DI, 0, [True])
        await wait_for(lambda: CabinetEventKind.CONNECTION_RESTORED in kinds(events))
        await wait_for(lambda: CabinetEventKind.DOOR_OPENED in kinds(events))
        assert monitor.health().connected
    finally:
        await monitor.stop()
        await srv.shutdown()


async def test_nothing_listening_is_unreachable(free_port: Callable[[], int]) -> None:
    monitor = CabinetMonitor("site-d", "127.0.0.1", free_port(), POINTS, timeout=0.5)
    with pytest.raises(CabinetUnreachable, match="site-d"):
        await monitor.poll_once()
    assert monitor.health().state is HealthState.DOWN


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"inputs": {"Door!": DiscretePoint(address=0)}}, "signal name"),
        ({"registers": {"a": RegisterPoint(address=0), "b": RegisterPoint(address=200)}}, "span"),
        ({"illuminator": IlluminatorSchedule(below_light_level=5), "coils": {}}, "ir_illuminator"),
    ],
)
def test_bad_point_maps_are_refused(update: dict[str, object], message: str) -> None:
    data = POINTS.model_dump() | update
    with pytest.raises(ValidationError, match=message):
        CabinetPointMap.model_validate(data)
