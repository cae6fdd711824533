"""The shared base for every settings model: unknown keys are an error."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of all settings sections: strict about unknown keys, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
