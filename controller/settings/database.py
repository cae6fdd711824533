"""Database settings: where the system of record lives."""

from __future__ import annotations

from pydantic import Field

from controller.settings.base import Section


class DatabaseSettings(Section):
    """Connection to the system of record (SQLite embedded, PostgreSQL for scale-out)."""

    url: str | None = Field(
        default=None,
        title="Database URL",
        description=(
            "SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. Empty means an "
            "embedded SQLite file `sightline.db` in the data directory. "
            "SIGHTLINE_DATABASE_URL overrides it."
        ),
    )
    pool_size: int = Field(
        default=10, ge=1, le=200, title="Pool size",
        description="Connections kept open per process.",
    )
    busy_timeout_ms: int = Field(
        default=30_000, ge=100, title="SQLite busy timeout",
        description="How long a SQLite writer waits for the write lock, in milliseconds.",
    )
    partition_months_ahead: int = Field(
        default=3, ge=1, le=24, title="Read partitions made ahead",
        description=(
            "PostgreSQL: how many months ahead of the current one a daily job makes the "
            "monthly partitions of the reads table (a read of a month without one gets "
            "it on demand, or waits in the default partition). Ignored on SQLite."
        ),
    )
    plate_order_after_months: int = Field(
        default=1, ge=0, le=24, title="Months kept in time order",
        description=(
            "PostgreSQL: the daily job rewrites a month's reads in plate order once this "
            "many whole months have followed it, so that a plate's search reads a page or "
            "two of each month instead of a page per read. The latest months stay in time "
            "order, where a canvass finds its window's reads side by side. Writers of "
            "reads wait for the few seconds the check and swap take; searches go on. "
            "0 turns it off. Ignored on SQLite."
        ),
    )
