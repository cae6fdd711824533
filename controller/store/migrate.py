"""Apply Alembic migrations programmatically (``sightline db upgrade`` and start-up)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Objects migrations make with SQL that the metadata does not describe: SQLite's FTS5
# trigram table (and its shadow tables) and PostgreSQL's pg_trgm index on read plates
# (migration 0003).
SQL_ONLY = ("reads_plate_trigrams", "ix_reads_plate_trigram")


# PostgreSQL's partitioned reads (migration 0019): the partitions (with their indexes)
# and the uuid key that includes seen_at exist in the database only; the uuid key and
# the foreign keys to reads.id that the table definitions name exist on SQLite only.
PARTITION = re.compile(r"^reads_(p\d{6}|default)$")
PG_ONLY = ("uq_reads_uuid_seen_at",)
SQLITE_ONLY = frozenset({
    "uq_reads_uuid", "fk_hits_read_id_reads", "fk_read_images_read_id_reads",
    "fk_read_corrections_read_id_reads", "fk_evidence_hold_reads_read_id_reads",
    "fk_alerts_last_read_id_reads"})
IncludeObject = Callable[[object, "str | None", str, bool, object], bool]


def include_object(obj: object, name: str | None, kind: str, reflected: bool,
                   compare_to: object) -> bool:
    """Alembic's filter: autogenerate leaves alone the database objects SQL_ONLY names."""
    return not (reflected and compare_to is None and name is not None
                and name.startswith(SQL_ONLY))


def _include_on_postgresql(obj: object, name: str | None, kind: str, reflected: bool,
                           compare_to: object) -> bool:
    if name is None or compare_to is not None:
        return include_object(obj, name, kind, reflected, compare_to)
    owner = name if kind == "table" else str(getattr(getattr(obj, "table", None), "name", ""))
    if reflected and (PARTITION.match(owner) or name.startswith(PG_ONLY)):
        return False
    if not reflected and name in SQLITE_ONLY:
        return False
    return include_object(obj, name, kind, reflected, compare_to)


def include_object_for(dialect: str) -> IncludeObject:
    """The autogenerate filter for a database of ``dialect`` (see PG_ONLY)."""
    return _include_on_postgresql if dialect == "postgresql" else include_object


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic config bound to ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """Return the newest revision shipped with this version of Sightline."""
    return ScriptDirectory.from_config(alembic_config_for_scripts()).get_current_head()


def alembic_config_for_scripts() -> Config:
    """An Alembic config that only knows where the scripts are."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
