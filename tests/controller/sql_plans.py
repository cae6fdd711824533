"""What a store function asks PostgreSQL, and how PostgreSQL would answer it: the
statements it runs, captured, then replayed under EXPLAIN; and filler reads that give
the planner a table of a realistic size to choose for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event

Statement = tuple[str, object]


@contextmanager
def captured(engine: Engine) -> Iterator[list[Statement]]:
    """Every statement ``engine`` runs inside the block, with its parameters, in order."""
    seen: list[Statement] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object,
                _context: object, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def replayed_plans(engine: Engine, statements: list[Statement],
                   wanted: Callable[[str], bool]) -> list[str]:
    """Run ``statements`` again in one transaction, the settings among them as they
    were, and EXPLAIN each statement ``wanted`` picks; the plans as text."""
    plans = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            if statement.startswith("SET "):
                conn.exec_driver_sql(statement)
            elif wanted(statement):
                plans.append("\n".join(str(r[0]) for r in conn.exec_driver_sql(
                    f"EXPLAIN {statement}", parameters).all()))  # type: ignore[arg-type]
    return plans


def add_filler_reads(conn: Connection, count: int, plate_sql: str) -> None:
    """``count`` reads copied from a stored one, a second apart going back, their plates
    the SQL expression ``plate_sql`` of ``i`` (1 to ``count``)."""
    conn.exec_driver_sql(
        "INSERT INTO reads (uuid, plate, raw_text, confidence, char_confidences, "
        f"camera_id, site_id, seen_at, created_at) SELECT md5(i::text), {plate_sql}, "
        f"{plate_sql}, 0.9, '[]', camera_id, site_id, seen_at - i * interval '1 second', "
        "created_at FROM (SELECT * FROM reads LIMIT 1) AS r, "
        f"generate_series(1, {count}) AS i")
