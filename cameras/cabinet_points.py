"""A roadside cabinet's Modbus point map and IR illuminator schedule (per site).

These are operational data: the store keeps them per site and hands them to
``cameras.cabinet.CabinetMonitor`` as these models. Signals are named; a few
names have a meaning the monitor acts on (``WELL_KNOWN``), any other name is
polled and reported as it is.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

DOOR = "door"
VEHICLE_PRESENCE = "vehicle_presence"
TEMPERATURE = "temperature"
SUPPLY_VOLTAGE = "supply_voltage"
LIGHT_LEVEL = "light_level"
IR_ILLUMINATOR = "ir_illuminator"
WELL_KNOWN = (DOOR, VEHICLE_PRESENCE, TEMPERATURE, SUPPLY_VOLTAGE, LIGHT_LEVEL, IR_ILLUMINATOR)

# Modbus limits per request (spec: 2000 bits, 125 registers); the monitor reads
# each table in one request, so a map must fit.
MAX_BITS_PER_READ = 2000
MAX_REGISTERS_PER_READ = 125
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiscretePoint(_Model):
    """A discrete input (function code 2), e.g. a door contact or an induction loop."""

    address: int = Field(
        ge=0, le=65535, title="Address", description="Zero-based discrete input address."
    )
    active_low: bool = Field(
        default=False, title="Active low",
        description="True when the contact reads 0 while the signal is active.",
    )


class RegisterPoint(_Model):
    """An input register (function code 4) with a linear scale to engineering units."""

    address: int = Field(
        ge=0, le=65535, title="Address", description="Zero-based input register address."
    )
    scale: float = Field(
        default=1.0, title="Scale", description="Engineering value = raw * scale + offset."
    )
    offset: float = Field(default=0.0, title="Offset", description="Added after scaling.")
    signed: bool = Field(
        default=False, title="Signed", description="Read the register as a 16-bit signed value."
    )
    alarm_below: float | None = Field(
        default=None, title="Low alarm", description="A value below this raises a health alarm."
    )
    alarm_above: float | None = Field(
        default=None, title="High alarm", description="A value above this raises a health alarm."
    )

    def decode(self, raw: int) -> float:
        """Convert a raw 16-bit register value to engineering units."""
        value = raw - 0x10000 if self.signed and raw & 0x8000 else raw
        return value * self.scale + self.offset


class CoilPoint(_Model):
    """A coil (function codes 1 and 5): an output the controller switches."""

    address: int = Field(ge=0, le=65535, title="Address", description="Zero-based coil address.")


class IlluminatorSchedule(_Model):
    """When the IR illuminator is on: between two local times, or in the dark, or both."""

    on_at: time | None = Field(
        default=None, title="On at", description="Local time the illuminator switches on."
    )
    off_at: time | None = Field(
        default=None, title="Off at", description="Local time it switches off (may be next day)."
    )
    below_light_level: float | None = Field(
        default=None, title="Light threshold",
        description="Also on while the light_level register reads below this.",
    )
    timezone: str = Field(
        default="UTC", title="Time zone",
        description="IANA zone of the site, e.g. America/Los_Angeles.",
    )

    @model_validator(mode="after")
    def _hours_come_in_pairs(self) -> IlluminatorSchedule:
        if (self.on_at is None) != (self.off_at is None):
            raise ValueError("on_at and off_at are set together or not at all")
        if self.on_at is None and self.below_light_level is None:
            raise ValueError("a schedule needs hours (on_at/off_at) or below_light_level")
        return self


def illuminator_should_be_on(
    schedule: IlluminatorSchedule, now: datetime, light_level: float | None
) -> bool:
    """Whether the schedule wants the illuminator on at ``now`` (aware) and ``light_level``."""
    if schedule.on_at is not None and schedule.off_at is not None:
        local = now.astimezone(ZoneInfo(schedule.timezone)).time()
        on, off = schedule.on_at, schedule.off_at
        # A night window (19:00-07:00) wraps midnight.
        in_window = on <= local < off if on <= off else local >= on or local < off
        if in_window:
            return True
    threshold = schedule.below_light_level
    return threshold is not None and light_level is not None and light_level < threshold


class CabinetPointMap(_Model):
    """Named signals of one site's cabinet and where they live on its Modbus server."""

    device_id: int = Field(
        default=1, ge=0, le=247, title="Device id", description="Modbus unit/device id."
    )
    inputs: dict[str, DiscretePoint] = Field(
        default_factory=dict, title="Discrete inputs",
        description="Named discrete inputs; 'door' and 'vehicle_presence' are acted on.",
    )
    registers: dict[str, RegisterPoint] = Field(
        default_factory=dict, title="Input registers",
        description="Named input registers; 'temperature', 'supply_voltage', 'light_level'.",
    )
    coils: dict[str, CoilPoint] = Field(
        default_factory=dict, title="Coils",
        description="Named outputs; 'ir_illuminator' follows the illuminator schedule.",
    )
    illuminator: IlluminatorSchedule | None = Field(
        default=None, title="IR illuminator schedule",
        description="When the 'ir_illuminator' coil is switched on; none leaves it alone.",
    )

    @model_validator(mode="after")
    def _check(self) -> CabinetPointMap:
        for table in (self.inputs, self.registers, self.coils):
            for name in table:
                if not _NAME.match(name):
                    raise ValueError(f"signal name {name!r}: use lower-case letters, digits, _")
        _check_span("inputs", [p.address for p in self.inputs.values()], MAX_BITS_PER_READ)
        _check_span("coils", [p.address for p in self.coils.values()], MAX_BITS_PER_READ)
        _check_span(
            "registers", [p.address for p in self.registers.values()], MAX_REGISTERS_PER_READ
        )
        if self.illuminator is not None:
            if IR_ILLUMINATOR not in self.coils:
                raise ValueError("illuminator: the map has no 'ir_illuminator' coil")
            if self.illuminator.below_light_level is not None and LIGHT_LEVEL not in self.registers:
                raise ValueError("illuminator.below_light_level: no 'light_level' register")
        return self


def _check_span(table: str, addresses: list[int], limit: int) -> None:
    """Refuse a table whose addresses do not fit one Modbus read."""
    if addresses and max(addresses) - min(addresses) + 1 > limit:
        raise ValueError(f"{table}: addresses span more than {limit}; one read must cover them")


def block(addresses: list[int]) -> tuple[int, int]:
    """The (start, count) of one read covering every address."""
    start = min(addresses)
    return start, max(addresses) - start + 1
