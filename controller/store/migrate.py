"""Apply Alembic migrations programmatically (``sightline db upgrade`` and start-up)."""

from __future__ import annotations

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


def include_object(obj: object, name: str | None, kind: str, reflected: bool,
                   compare_to: object) -> bool:
    """Alembic's filter: autogenerate leaves alone the database objects SQL_ONLY names."""
    return not (reflected and compare_to is None and name is not None
                and name.startswith(SQL_ONLY))


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
