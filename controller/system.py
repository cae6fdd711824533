"""The front ends' handle on the system of record, and the one question they ask of it.

``Database`` names the handle the web (and later the JSON API) holds and passes
to every use case, so that ``web`` needs neither SQLAlchemy nor the store to
type it (DESIGN.md section 4: ``web`` never imports ``controller.store``).
"""

from __future__ import annotations

from typing import TypeAlias

from controller.store import Engine
from controller.store.engine import ping

Database: TypeAlias = Engine


def database_reachable(database: Database) -> bool:
    """Tell whether the database answers a trivial query (for /healthz)."""
    return ping(database)
