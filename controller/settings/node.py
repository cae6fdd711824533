"""Node settings: which sites this controller process owns when scaled out."""

from __future__ import annotations

import socket

from pydantic import Field

from controller.settings.base import Section


class NodeSettings(Section):
    """This controller node's name and the sites whose cameras it runs."""

    name: str = Field(
        default_factory=socket.gethostname, min_length=1, title="Node name",
        description="Shown in health and the audit log.",
    )
    sites: tuple[str, ...] = Field(
        default=(), title="Owned sites",
        description="Site codes whose cameras this node runs; empty means all sites.",
    )
    run_cameras: bool = Field(
        default=True, title="Run cameras",
        description="False for a web-only process beside controller nodes.",
    )
