"""Many rows into one table in one short statement: the ingest hot path.

SQLAlchemy inserts a batch as one ``INSERT ... VALUES (...), (...), ...`` with a
placeholder per value. On PostgreSQL that text is as long as the batch, so psycopg
parses it anew each time (it caches only short statements): a third of a writer's
time at 500 reads a batch. Here PostgreSQL gets one array per column instead,
``INSERT ... SELECT * FROM unnest(%b::type[], ...)``, sent in binary (nothing to
quote) as a statement of the same text for every batch, which psycopg prepares once
per connection. Values pass through each column's own bind processing first (UTC
times, canonical JSON), so what is stored is what ``table.insert()`` would have
stored. SQLite takes SQLAlchemy's own statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

_MODIFIERS = re.compile(r"\([^)]*\)")


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *,
                skip_existing: str | None = None,
                returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Insert ``rows`` into ``table`` inside ``conn``'s transaction.

    ``skip_existing`` names the unique column whose stored values make a row be
    skipped rather than refused (ON CONFLICT DO NOTHING; on PostgreSQL any unique
    conflict, since a partitioned table's unique keys carry the partition column).
    Returns the ``returning`` columns of the rows inserted, or ``[]``. A column that
    a row leaves out is NULL in that row (not a default) when another row gives it.
    """
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        return _insert_statement(conn, table, rows, skip_existing, returning)
    columns = _given(table, rows)
    arrays = [_values(conn, column, rows) for column in columns]
    names = ", ".join(conn.dialect.identifier_preparer.quote(c.name) for c in columns)
    casts = ", ".join(f"%b::{_array_type(conn, column)}[]" for column in columns)
    # Names and types come from the table's metadata; every value is a parameter.
    sql = (f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} ({names}) "  # noqa: S608
           f"SELECT * FROM unnest({casts})")
    if skip_existing is not None:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(
            conn.dialect.identifier_preparer.quote(table.c[name].name) for name in returning)
        return [tuple(row) for row in conn.exec_driver_sql(sql, tuple(arrays)).all()]
    conn.exec_driver_sql(sql, tuple(arrays))
    return []


def _array_type(conn: Connection, column: Column[Any]) -> str:
    """The column's type without its length or precision: an explicit cast to
    ``varchar(16)`` would cut a longer value short in silence, where the insert's own
    assignment to the column refuses it, as ``table.insert()`` does."""
    return _MODIFIERS.sub("", column.type.compile(dialect=conn.dialect))


def _given(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Column[Any]]:
    return [column for column in table.columns if any(column.key in row for row in rows)]


def _values(conn: Connection, column: Column[Any], rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """One column's values over the rows, as the column's type binds them."""
    process = column.type.bind_processor(conn.dialect)
    # (psycopg's Float binding makes a whole number a float, so each array has one type.)
    return [row.get(column.key) if process is None or column.key not in row
            else process(row[column.key]) for row in rows]


def _insert_statement(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]],
                      skip_existing: str | None,
                      returning: Sequence[str]) -> list[tuple[Any, ...]]:
    statement: Any = (table.insert() if skip_existing is None else
                      sqlite_insert(table).on_conflict_do_nothing(index_elements=[skip_existing]))
    keys = [column.key for column in _given(table, rows)]
    params = [{key: row.get(key) for key in keys} for row in rows]
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
        return [tuple(row) for row in conn.execute(statement, params).all()]
    conn.execute(statement, params)
    return []
