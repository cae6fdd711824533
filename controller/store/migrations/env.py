"""Alembic environment: runs migrations on the engine Sightline hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from controller.store import schema
from controller.store.migrate import include_object_for

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through `sightline db upgrade`, which passes the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=schema.metadata,
        include_object=include_object_for(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
