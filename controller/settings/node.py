"""Node settings: which sites this controller process runs, and for whom it stands in.

With PostgreSQL, several nodes share the database and each camera is run by the one
node holding its lease (``controller.capture.ownership``); with SQLite there is one
node, which runs every camera of its sites.
"""

from __future__ import annotations

import socket

from pydantic import Field, model_validator

from controller.settings.base import Section


def verify_lease_timing(lease_seconds: float, renew_seconds: float) -> None:
    """A lease must outlive two renewal periods, so one slow renewal does not lose it
    (ValueError otherwise)."""
    if renew_seconds * 2 >= lease_seconds:
        raise ValueError(f"renew_seconds: {renew_seconds:g} s is too long for a "
                         f"{lease_seconds:g} s lease; renew at least twice per lease "
                         "(renew_seconds * 2 < lease_seconds)")


class NodeSettings(Section):
    """This controller node's name, its own sites and the sites it may stand in for."""

    name: str = Field(
        default_factory=socket.gethostname, min_length=1, max_length=128,
        pattern=r"^[A-Za-z0-9._-]+$", title="Node name",
        description="Unique among the nodes sharing a database; shown in health and the "
                    "audit log (as node:NAME).",
    )
    sites: tuple[str, ...] = Field(
        default=(), title="Own sites",
        description="Site codes whose cameras this node runs by preference; empty means "
                    "all sites: the single-node set-up, which no other node stands in for, "
                    "so it keeps reading through a database outage (give each node its "
                    "sites when several share a database).",
    )
    failover_sites: tuple[str, ...] = Field(
        default=(), title="Stand-in sites",
        description="Other sites whose cameras this node takes over when no node holds "
                    "their leases (their node died), and hands back when asked. "
                    "PostgreSQL only.",
    )
    run_cameras: bool = Field(
        default=True, title="Run cameras",
        description="False for a web-only process beside controller nodes.",
    )
    lease_seconds: float = Field(
        default=15.0, ge=2.0, le=300.0, title="Camera lease",
        description="How long a camera's lease lasts without renewal; a dead node's "
                    "cameras are taken over within this plus one renewal period. "
                    "PostgreSQL only.",
    )
    renew_seconds: float = Field(
        default=5.0, gt=0.0, le=100.0, title="Lease renewal period",
        description="How often the node renews its leases and looks for cameras to take. "
                    "A node stops a camera once a third of the lease is left unrenewed.",
    )

    @model_validator(mode="after")
    def _timing(self) -> NodeSettings:
        verify_lease_timing(self.lease_seconds, self.renew_seconds)
        return self

    def stop_after_seconds(self) -> float:
        """How long after the start of its last good renewal a node stops reading a
        camera: before the lease can expire in the database, with a third of it to spare
        for the time a stop takes and for the clocks' rates."""
        return self.lease_seconds * 2 / 3
