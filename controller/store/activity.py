"""Repository functions for the overview: the newest reads and counts of reads and hits
per hour (aggregates only: no plate leaves here but through ``latest_reads``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, cast

from sqlalchemy import ColumnElement, Engine, func, select

from controller.store.records import ReadRow
from controller.store.schema import hits, reads

Counted = Literal["reads", "hits"]


def latest_reads(engine: Engine, limit: int) -> list[ReadRow]:
    """The ``limit`` newest reads by the time they were seen (``ix_reads_seen_at``)."""
    query = select(reads).order_by(reads.c.seen_at.desc(), reads.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [cast("ReadRow", dict(r)) for r in conn.execute(query).mappings().all()]


def _hour(engine: Engine, column: ColumnElement[datetime]) -> ColumnElement[object]:
    # Timestamps are stored as naive UTC (``types.UTCDateTime``): the hour is a UTC hour.
    if engine.dialect.name == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_utc(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def hourly_counts(engine: Engine, what: Counted, since: datetime,
                  until: datetime) -> dict[datetime, int]:
    """How many reads (by the time seen) or hits (by the time raised) fell in each UTC
    hour of [since, until); hours without any are left out."""
    column = reads.c.seen_at if what == "reads" else hits.c.created_at
    hour = _hour(engine, column).label("hour")
    query = (select(hour, func.count().label("n"))
             .where(column >= since, column < until).group_by(hour))
    with engine.connect() as conn:
        return {_as_utc(row.hour): int(row.n) for row in conn.execute(query).all()}


def count_hits(engine: Engine, since: datetime, until: datetime) -> int:
    """How many hits were raised in [since, until)."""
    query = select(func.count()).select_from(hits).where(
        hits.c.created_at >= since, hits.c.created_at < until)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
