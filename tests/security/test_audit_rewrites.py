"""M6: every rewrite an insider with database access can make is found (SQLite and PostgreSQL).

The insider can drop the append-only triggers, edit rows, recompute SHA-256
hashes and move the chain head; they have neither the audit key nor write
access to the anchor directory, except where a test says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_runner import signed_in
from sqlalchemy import Engine, select, text

from controller import audit
from controller.audit.anchors import anchor_file
from controller.settings import Settings
from controller.store import audit as repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import audit_events

from .audit_tamper import fill, tamper


def rows(engine: Engine) -> list[dict[str, Any]]:
    return [dict(r) for r in repo.scan(engine)]


def rechain_without_key(engine: Engine, edited: dict[int, dict[str, object]],
                        start: int | None = None) -> None:
    """Apply ``edited`` columns, then recompute the hashes (SHA-256) from ``start`` on
    (default: the first edited row) and move the head to match."""
    first = min(edited) if start is None else start
    prev = audit.GENESIS
    statements = []
    for row in rows(engine):
        if int(row["id"]) < first:
            prev = str(row["hash"])
            continue
        row.update(edited.get(int(row["id"]), {}))
        digest = audit.legacy_hash(prev, row)
        statements.append((int(row["id"]), row, prev, digest))
        prev = digest
    with engine.begin() as conn:
        for guard in ("DROP TRIGGER IF EXISTS audit_events_no_update",
                      "DROP TRIGGER IF EXISTS audit_events_no_delete") if \
                engine.dialect.name == "sqlite" else (
                "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",):
            conn.execute(text(guard))
        # Unique prev_hash: clear them first, then write the recomputed chain.
        conn.execute(text("UPDATE audit_events SET prev_hash = 'x' || CAST(id AS VARCHAR(12)) "
                          "WHERE id >= :first"), {"first": first})
        for row_id, row, link, digest in statements:
            conn.execute(audit_events.update().where(audit_events.c.id == row_id).values(
                plate=row["plate"], at=row["at"], prev_hash=link, hash=digest))
        conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})


def anchored(engine: Engine, settings: Settings) -> Path:
    directory = audit.anchor_dir(settings)
    assert audit.verify(engine, directory).ok
    return directory


def test_intact_chain_and_anchors_verify(engine: Engine, settings: Settings) -> None:
    fill(engine, 3)
    first = audit.write_anchor(engine, settings)
    fill(engine, 2)
    second = audit.write_anchor(engine, settings)
    assert (first["seq"], first["row_id"], second["seq"], second["row_id"]) == (1, 4, 2, 7)
    report = audit.verify(engine, anchored(engine, settings))
    assert report.ok and report.rows == 7 and report.anchors == 2 and report.legacy_rows == 0
    assert repo.search(engine, action="audit.anchor")[0]["data"] == {"anchor": 2}


def test_edit_with_hashes_recomputed_is_found(engine: Engine, settings: Settings) -> None:
    fill(engine, 6)
    directory = anchored(engine, settings)
    rechain_without_key(engine, {4: {"plate": "NOTME"}})
    report = audit.verify(engine, directory)
    assert not report.ok and report.first_broken_id == 4
    assert "keyed HMAC" in report.reason


def test_edit_rehashed_with_a_wrong_key_is_found(engine: Engine) -> None:
    fill(engine, 5)
    row = next(r for r in rows(engine) if r["id"] == 3)
    row["plate"] = "FORGED1"
    forged = hmac.new(b"guessed" * 8, (str(row["prev_hash"]) + audit._canonical(row)).encode(),
                      hashlib.sha256).hexdigest()
    tamper(engine, ["UPDATE audit_events SET plate = 'FORGED1', hash = :h WHERE id = 3"],
           {"h": forged})
    report = audit.verify(engine)
    assert not report.ok and report.first_broken_id == 3 and "keyed HMAC" in report.reason


def test_truncation_with_the_head_moved_is_found(engine: Engine, settings: Settings) -> None:
    fill(engine, 6)
    audit.write_anchor(engine, settings)  # row 7
    fill(engine, 2)
    audit.write_anchor(engine, settings)  # row 10
    directory = anchored(engine, settings)
    kept = next(r for r in rows(engine) if r["id"] == 7)
    tamper(engine, ["DELETE FROM audit_events WHERE id > 7",
                    "UPDATE audit_head SET last_id = 7, last_hash = :h"], {"h": kept["hash"]})
    assert audit.verify(engine).ok  # the database alone cannot tell
    report = audit.verify(engine, directory)
    assert not report.ok and report.first_bad_anchor == 2 and report.first_broken_id == 8
    assert "rows were removed" in report.reason and "anchor line 2" in report.reason


def test_reorder_is_found(engine: Engine, settings: Settings) -> None:
    fill(engine, 6)
    directory = anchored(engine, settings)
    three, four = (next(r for r in rows(engine) if r["id"] == i) for i in (3, 4))
    # Rows 3 and 4 change places, each keeping its own links and hash.
    columns = ("at", "actor", "action", "plate", "data", "purpose", "case_number",
               "prev_hash", "hash")
    swap = ", ".join(f"{c} = :{c}" for c in columns)
    params = [{c: (json.dumps(r[c]) if c == "data" else r[c]) for c in columns} | {"id": i}
              for r, i in ((four, 3), (three, 4))]
    tamper(engine, ["UPDATE audit_events SET prev_hash = 'moving' || CAST(id AS VARCHAR(12)) "
                    "WHERE id IN (3, 4)"])
    with engine.begin() as conn:
        for p in params:
            conn.execute(text(f"UPDATE audit_events SET {swap} WHERE id = :id"), p)
    report = audit.verify(engine, directory)
    assert not report.ok and report.first_broken_id == 3


def test_backdating_is_found_and_refused(engine: Engine, settings: Settings) -> None:
    fill(engine, 5)
    directory = anchored(engine, settings)
    last = rows(engine)[-1]
    # The application never writes a row before the last one...
    with pytest.raises(ValueError, match="time order"):
        audit.record(engine, audit.AuditEvent(actor="a", action="search.exact"),
                     at=last["at"] - timedelta(days=3))
    # ...a key holder who inserts one directly is named...
    key = audit.key_for(engine)
    forged = {**last, "id": 6, "at": last["at"] - timedelta(days=3),
              "plate": "BACK1", "prev_hash": last["hash"]}
    forged["hash"] = audit.chain_hash(key, str(last["hash"]), forged)
    with engine.begin() as conn:
        conn.execute(audit_events.insert().values(**forged))
        conn.execute(text("UPDATE audit_head SET last_id = 6, last_hash = :h"),
                     {"h": forged["hash"]})
    report = audit.verify(engine, directory)
    assert not report.ok and report.first_broken_id == 6 and "backdated" in report.reason


def test_backdating_an_existing_row_is_found(engine: Engine, settings: Settings) -> None:
    fill(engine, 5)
    directory = anchored(engine, settings)
    row = next(r for r in rows(engine) if r["id"] == 4)
    rechain_without_key(engine, {4: {"at": row["at"] - timedelta(days=30)}})
    report = audit.verify(engine, directory)
    assert not report.ok and report.first_broken_id == 4


def test_wiped_log_is_found(engine: Engine, settings: Settings) -> None:
    fill(engine, 4)
    audit.write_anchor(engine, settings)
    directory = anchored(engine, settings)
    tamper(engine, ["DELETE FROM audit_events",
                    f"UPDATE audit_head SET last_id = 0, last_hash = '{audit.GENESIS}'"])
    assert audit.verify(engine).ok  # "OK: 0 audit rows" from the database alone
    report = audit.verify(engine, directory)
    assert not report.ok and report.rows == 0 and report.first_bad_anchor == 1
    assert report.first_broken_id == 1 and "rows were removed" in report.reason


@pytest.mark.parametrize("line", [1, 2, 3])
def test_a_deleted_anchor_line_is_found(engine: Engine, settings: Settings, line: int) -> None:
    for _ in range(3):
        fill(engine, 2)
        audit.write_anchor(engine, settings)
    directory = anchored(engine, settings)
    path = anchor_file(directory)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: line - 1] + lines[line:]))
    report = audit.verify(engine, directory)
    assert not report.ok
    if line == 3:  # the last line: the row that recorded anchor 3 names it
        assert report.first_bad_anchor == 3 and "anchor 3, which is missing" in report.reason
    else:
        assert report.first_bad_anchor == line
        assert f"holds anchor {line + 1} where anchor {line} belongs" in report.reason


def test_an_edited_anchor_line_is_found(engine: Engine, settings: Settings) -> None:
    fill(engine, 3)
    audit.write_anchor(engine, settings)
    directory = anchored(engine, settings)
    path = anchor_file(directory)
    fields = json.loads(path.read_text())
    fields["row_id"] = 2
    path.write_text(json.dumps(fields) + "\n")
    report = audit.verify(engine, directory)
    assert not report.ok and report.first_bad_anchor == 1 and "signature" in report.reason


def test_widening_the_legacy_prefix_is_found(engine: Engine, settings: Settings) -> None:
    fill(engine, 4)
    audit.write_anchor(engine, settings)
    directory = anchored(engine, settings)
    # Claim every row predates the key, then re-chain them with plain SHA-256.
    tamper(engine, ["UPDATE audit_head SET keyed_from = 1000"])
    rechain_without_key(engine, {2: {"plate": "NOTME"}}, start=1)
    assert audit.verify(engine).ok  # the database alone cannot tell
    report = audit.verify(engine, directory)
    assert not report.ok and report.first_bad_anchor == 1
    assert "keyed chain" in report.reason


def old_row(seq: int, prev_hash: str, _prev_at: object) -> dict[str, object]:
    """A row as Sightline chained it before the key (plain SHA-256)."""
    row: dict[str, object] = {
        "id": seq, "at": datetime.now(UTC), "actor": "old.hand", "action": "search.exact",
        "outcome": "allowed", "plate": f"OLD{seq}", "data": {}, "purpose": "p",
        "case_number": "1", "client_addr": None, "prev_hash": prev_hash}
    row["hash"] = audit.legacy_hash(prev_hash, row)
    return row


def test_rows_from_before_the_keyed_chain_verify_with_the_old_rule(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=2)
    try:
        upgrade(engine, "0003")
        for _ in range(3):
            repo.append(engine, old_row)
        upgrade(engine)
        assert repo.keyed_from(engine) == 4
        fill(engine, 2)
        report = audit.verify(engine)
        assert report.ok and report.rows == 5 and report.legacy_rows == 3
        with engine.connect() as conn:
            stored = conn.execute(select(audit_events.c.hash).where(audit_events.c.id == 4)
                                  ).scalar_one()
        assert stored != audit.legacy_hash(str(rows(engine)[2]["hash"]), rows(engine)[3])
        tamper(engine, ["UPDATE audit_events SET plate = 'OLDX' WHERE id = 2"])
        report = audit.verify(engine)
        assert not report.ok and report.first_broken_id == 2 and "SHA-256" in report.reason
    finally:
        engine.dispose()


def test_cli_names_the_truncation(cli_env: dict[str, str], settings: Settings) -> None:
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"], pool_size=2)
    try:
        upgrade(engine)
        # The key the command derives from its data directory.
        audit.use_key(engine, audit.key_from_settings(settings))
        fill(engine, 3)
        audit.write_anchor(engine, settings)
        cli_env = signed_in(cli_env, "ann.admin")  # three more rows: user, training, login
        run = [sys.executable, "-m", "controller", "audit", "verify"]
        ok = subprocess.run(run, env=cli_env, capture_output=True, text=True, timeout=60,
                            check=False)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "OK: 7 audit rows, hash chain intact, 1 anchors match" in ok.stdout
        kept = rows(engine)[1]
        tamper(engine, ["DELETE FROM audit_events WHERE id > 2",
                        "UPDATE audit_head SET last_id = 2, last_hash = :h"],
               {"h": kept["hash"]})
        broken = subprocess.run(run, env=cli_env, capture_output=True, text=True, timeout=60,
                                check=False)
        assert broken.returncode == 1
        assert "BROKEN at anchor 1: anchor line 1: records row 4" in broken.stdout
    finally:
        engine.dispose()


def test_upgrading_a_legacy_log_anchors_where_the_keyed_chain_starts(
        cli_env: dict[str, str], settings: Settings) -> None:
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"], pool_size=2)
    try:
        upgrade(engine, "0003")
        for _ in range(3):
            repo.append(engine, old_row)
        run = [sys.executable, "-m", "controller"]
        upgraded = subprocess.run([*run, "db", "upgrade"], env=cli_env, capture_output=True,
                                  text=True, timeout=60, check=False)
        assert upgraded.returncode == 0, upgraded.stderr
        assert "first audit anchor written: row 4, keyed chain from row 4" in upgraded.stdout
        cli_env = signed_in(cli_env, "ann.admin")  # three more rows: user, training, login
        verified = subprocess.run([*run, "audit", "verify"], env=cli_env, capture_output=True,
                                  text=True, timeout=60, check=False)
        assert verified.returncode == 0, verified.stdout
        assert "OK: 7 audit rows, 3 of them from before the keyed chain" in verified.stdout
        # Claiming the keyed rows were legacy too is caught by that first anchor.
        tamper(engine, ["UPDATE audit_head SET keyed_from = 9"])
        broken = subprocess.run([*run, "audit", "verify"], env=cli_env, capture_output=True,
                                text=True, timeout=60, check=False)
        assert broken.returncode == 1 and "BROKEN at row 4" in broken.stdout
    finally:
        engine.dispose()
