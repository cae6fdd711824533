"""A roadside cabinet's configuration: where its Modbus TCP server is and what its points are.

It is stored on the site (not in the settings file), but it is a validated pydantic
model like every settings section, and both bulk provisioning (``operations``) and the
running cabinets (``capture``) need it: settings is the layer below both.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from cameras.cabinet import CabinetPointMap
from controller.errors import ValidationError


class CabinetConfig(BaseModel):
    """How to reach a site's cabinet and what its points are (stored on the site)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, title="Host", description="Modbus TCP address.")
    port: int = Field(default=502, ge=1, le=65535, title="Port", description="Modbus port.")
    points: CabinetPointMap = Field(title="Point map", description="Named signals.")


def parse_cabinet(raw: Any) -> CabinetConfig:
    """Validate a cabinet configuration; errors name the field."""
    try:
        return CabinetConfig.model_validate(raw)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "cabinet"
        raise ValidationError(f"cabinet.{where}", first["msg"]) from None
