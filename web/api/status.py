"""Program status and health: whether cameras may record (462.9) and the system is up."""

from __future__ import annotations

from datetime import date

from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from controller.compliance import program
from controller.system import database_reachable
from web.api import bp
from web.api.auth import api_caller
from web.security import engine, permission

TAG = Tag(name="status", description="Program status and health")


class Status(BaseModel):
    """The program's state (462.9) and the system's health."""

    program_active: bool = Field(description="whether cameras may record reads")
    reason: str = Field(description="why, in words")
    hearing_on: date | None = Field(description="the public hearing's date")
    adopted_on: date | None = Field(description="the policy's adoption date")
    database_reachable: bool
    client: str = Field(description="the calling API client")
    role: str = Field(description="the role it acts under")


@bp.get("/status", tags=[TAG], responses={200: Status}, operation_id="getStatus")
@permission("home")
def get_status() -> dict[str, object]:
    """Program status and health, and who is calling (every trained client's role)."""
    state = program.status(engine())
    caller = api_caller()
    return Status(program_active=state.active, reason=state.reason,
                  hearing_on=state.hearing_on, adopted_on=state.adopted_on,
                  database_reachable=database_reachable(engine()),
                  client=str(caller.client_name), role=caller.role).model_dump(mode="json")
