"""L6: a cost ceiling on partial plate patterns (a wildcard limit and a statement timeout)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from controller.errors import ValidationError
from controller.store import reads as repo

KNOWN = st.text(alphabet="ABC123", min_size=1, max_size=2)


def test_the_probe_campaign_pattern_is_refused_at_once(engine: Engine) -> None:
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"'\*' at most 3 times") as refused:
        repo.search_partial(engine, "*A*B*C*D*E*F*G*H")
    assert refused.value.field == "plate"
    assert time.monotonic() - started < 1.0


@settings(max_examples=100, deadline=None)
@given(st.lists(KNOWN, min_size=1, max_size=5), st.data())
def test_star_runs_over_the_limit_are_refused(parts: list[str], data: st.DataObject) -> None:
    joiners = data.draw(st.lists(st.sampled_from(["*", "**", "?", "*?"]),
                                 min_size=len(parts) - 1, max_size=len(parts) - 1))
    pattern = "*" + "".join(p + j for p, j in zip(parts, [*joiners, ""], strict=True))
    if len(pattern) > 16:
        return
    runs = len(re.findall(r"\*+", pattern))
    if runs > repo.MAX_STAR_RUNS:
        with pytest.raises(ValidationError, match="at most"):
            repo.check_partial(pattern)
    else:
        assert repo.check_partial(pattern) == pattern


def test_ordinary_partial_plates_still_pass() -> None:
    for pattern in ("7AB*12?", "*ABC*", "?ABC1*3", "*AB*12*", "7*"):
        assert repo.check_partial(pattern) == pattern


def test_a_search_past_its_time_is_stopped_with_a_clear_error(engine: Engine) -> None:
    # What the ceiling does to any statement that overruns it: here a deliberately slow one.
    slow = ("SELECT pg_sleep(2)" if engine.dialect.name == "postgresql" else
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT count(*) FROM n")
    started = time.monotonic()
    with (engine.connect() as conn,
          pytest.raises(ValidationError, match="took longer than"),
          repo.cost_ceiling(conn, timeout_ms=200)):
        conn.execute(text(slow)).all()
    assert time.monotonic() - started < 1.8
    # The connection goes back to the pool usable, without the ceiling.
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_search_partial_runs_under_the_ceiling(engine: Engine, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    seen: list[int] = []
    real = repo.cost_ceiling

    def spy(conn: object, timeout_ms: int | None = None):  # type: ignore[no-untyped-def]
        seen.append(repo.PARTIAL_TIMEOUT_MS if timeout_ms is None else timeout_ms)
        return real(conn, timeout_ms)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "cost_ceiling", spy)
    assert repo.search_partial(engine, "*ABC*") == []
    assert seen == [repo.PARTIAL_TIMEOUT_MS]
