"""Repository functions for the agency profile (one row, ``id`` 1) and the first-run
facts the store alone can tell: a user's acknowledgement of a policy version, and how
many sites and cameras exist."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from controller.store.engine import reading
from controller.store.records import AgencyProfileRow
from controller.store.schema import agency_profile, cameras, policy_acknowledgements, sites

ROW_ID = 1
_COLUMNS = (agency_profile.c.name, agency_profile.c.time_zone, agency_profile.c.logo_type,
            agency_profile.c.logo_sha256, agency_profile.c.updated_at,
            agency_profile.c.updated_by)


def profile(engine: Engine) -> AgencyProfileRow | None:
    """The stored profile without the logo's bytes, or None when never edited."""
    with reading(engine) as conn:
        row = conn.execute(select(*_COLUMNS).where(agency_profile.c.id == ROW_ID)
                           ).mappings().first()
    return cast("AgencyProfileRow", dict(row)) if row else None


def logo(engine: Engine) -> tuple[bytes, str] | None:
    """The logo's bytes and content type, or None when there is none."""
    with engine.connect() as conn:
        row = conn.execute(select(agency_profile.c.logo, agency_profile.c.logo_type)
                           .where(agency_profile.c.id == ROW_ID)).first()
    if row is None or row[0] is None:
        return None
    return bytes(row[0]), str(row[1])


def save(engine: Engine, *, actor: str, now: datetime, **values: Any) -> None:
    """Set the given columns of the profile (creating the row at first use)."""
    values = {**values, "updated_at": now, "updated_by": actor}
    with engine.begin() as conn:
        if conn.execute(update(agency_profile).where(agency_profile.c.id == ROW_ID)
                        .values(**values)).rowcount:
            return
        try:
            with conn.begin_nested():
                conn.execute(agency_profile.insert().values(id=ROW_ID, **values))
        except IntegrityError:
            # Another request made the row between the update and the insert.
            conn.execute(update(agency_profile).where(agency_profile.c.id == ROW_ID)
                         .values(**values))


def acknowledged_at(engine: Engine, user_id: int, policy_id: int) -> datetime | None:
    """When the user acknowledged that policy version, or None."""
    with engine.connect() as conn:
        value = conn.execute(select(policy_acknowledgements.c.acknowledged_at).where(
            policy_acknowledgements.c.user_id == user_id,
            policy_acknowledgements.c.policy_version_id == policy_id)).scalar()
    return cast("datetime | None", value)


def site_and_camera_counts(engine: Engine) -> tuple[int, int]:
    """How many sites and cameras (enabled or not) are on record."""
    with engine.connect() as conn:
        return (int(conn.execute(select(func.count()).select_from(sites)).scalar_one()),
                int(conn.execute(select(func.count()).select_from(cameras)).scalar_one()))
