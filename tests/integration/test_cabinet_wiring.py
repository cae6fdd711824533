"""A site's cabinet (pymodbus's own server) drives the audit log and the sampling rate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from cli_runner import sightline, signed_in
from integration_peers import free_port
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from sqlalchemy import Engine

from controller.app import Controller
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import sites

DEV, DI = 2, 2


@pytest.fixture
async def cabinet() -> AsyncIterator[ModbusTcpServer]:
    device = SimDevice(id=DEV, simdata=(
        [SimData(0, count=8, values=False, datatype=DataType.BITS)],
        [SimData(0, count=8, values=False, datatype=DataType.BITS)],
        [SimData(0, count=4, values=0, datatype=DataType.REGISTERS)],
        [SimData(0, count=4, values=0, datatype=DataType.REGISTERS)]))
    server = ModbusTcpServer(device, address=("127.0.0.1", free_port()))
    await server.serve_forever(background=True)
    yield server
    await server.shutdown()


async def until(check: object, seconds: float = 10) -> bool:
    for _ in range(int(seconds * 10)):
        if check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.1)
    return False


async def test_door_is_audited_and_presence_is_seen(settings: Settings, engine: Engine,
                                                    cabinet: ModbusTcpServer,
                                                    cli_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    port = int(cabinet.comm_params.source_address[1])
    sites.create_site(engine, code="S1", name="site one")
    config = tmp_path / "cabinet.yaml"
    config.write_text(yaml.safe_dump({"host": "127.0.0.1", "port": port, "points": {
        "device_id": DEV, "inputs": {"door": {"address": 0},
                                     "vehicle_presence": {"address": 1}}}}))
    result = sightline(signed_in(cli_env, "ann.admin"), "site", "cabinet", "S1",
                       str(config))  # the database only
    assert result.exit_code == 0, result.stderr
    controller = Controller(settings)
    await controller.start()
    try:
        runtime = controller.runtime
        assert runtime is not None
        assert await until(lambda: runtime.cabinets.health() and
                           runtime.cabinets.health()[0]["state"] == "ok")
        await cabinet.async_setValues(DEV, DI, 1, [True])
        assert await until(lambda: runtime.cabinets.present("S1"))
        await cabinet.async_setValues(DEV, DI, 0, [True])
        assert await until(lambda: bool(audit_repo.search(engine, action="cabinet.door_opened")))
        assert runtime.cabinets.health()[0]["door_open"] is True
    finally:
        await controller.stop()
    event = audit_repo.search(engine, action="cabinet.door_opened")[0]
    assert event["actor"] == "cabinet:S1" and event["data"]["site"] == "S1"


def test_bad_cabinet_file_names_the_field(engine: Engine, cli_env: dict[str, str],
                                          tmp_path: Path) -> None:
    sites.create_site(engine, code="S1", name="site one")
    config = tmp_path / "cabinet.yaml"
    config.write_text(yaml.safe_dump({"host": "127.0.0.1", "port": 70000, "points": {}}))
    result = sightline(signed_in(cli_env, "ann.admin"), "site", "cabinet", "S1", str(config))
    assert result.exit_code == 1
    assert "cabinet.port" in result.stderr
    assert sites.list_sites(engine)[0]["cabinet"] is None
