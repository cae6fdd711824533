"""``sightline feed list|fetch|status`` on a configured feed; who may run them is in
tests/controller/test_cli_access.py."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import sightline, signed_in

from controller.store import audit as audit_repo
from controller.store.engine import make_engine


def configured(cli_env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The test environment with a settings file naming one pipe-delimited file feed."""
    feed_file = tmp_path / "svs.txt"
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "hotlists:\n"
        "  feeds:\n"
        "    - name: CA-SVS\n"
        "      category: stolen_vehicle\n"
        "      max_rejected_ratio: 0.3\n"
        f"      source: {{kind: file, path: '{feed_file}'}}\n"
        "      format: {kind: ncic-delimited, delimiter: '|', fields: [LIC, LIS, NIC]}\n")
    return {**cli_env, "SIGHTLINE_CONFIG": str(config)}, feed_file


def test_fetch_then_status_then_a_failed_fetch(cli_env: dict[str, str], tmp_path: Path) -> None:
    env, feed_file = configured(cli_env, tmp_path)
    env = signed_in(env, "feed.admin", "administrator")
    listed = sightline(env, "feed", "list")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.split("\t")[:3] == ["CA-SVS", f"file {feed_file}", "ncic-delimited"]
    feed_file.write_text("7ABC123|CA|V000000001\n5DEF678|NV|\n8GH$J|CA|\n9ZZZ999|CA|V000000002\n")
    fetched = sightline(env, "feed", "fetch", "CA-SVS")
    assert fetched.exit_code == 0, fetched.stderr
    assert fetched.stdout.startswith("loaded: 'CA-SVS' has 3 entries (3 added, 0 removed, "
                                     "0 kept); 1 lines rejected")
    assert "CA-SVS: rejected line 3: LIC '8GH$J'" in fetched.stderr
    # The file is gone: the fetch fails, exits 1, and the list in force stays.
    feed_file.unlink()
    failed = sightline(env, "feed", "fetch", "CA-SVS", "--json")
    assert failed.exit_code == 1
    report = json.loads(failed.stdout)
    assert (report["outcome"], report["error_kind"]) == ("failed", "file")
    status = sightline(env, "feed", "status", "--json")
    assert status.exit_code == 0, status.stderr
    (row,) = json.loads(status.stdout)
    assert (row["feed"], row["state"]) == ("CA-SVS", "failed")
    assert row["status"]["entries"] == 3 and row["status"]["consecutive_failures"] == 1
    text = sightline(env, "feed", "status").stdout
    assert "CA-SVS: failed - last fetch failed (file)" in text and "error: " in text
    engine = make_engine(env["SIGHTLINE_DATABASE_URL"], pool_size=1)
    try:
        fetches = audit_repo.search(engine, action="hotlist.feed", limit=10)
    finally:
        engine.dispose()
    assert [(e["actor"], e["outcome"]) for e in fetches] == [
        ("feed.admin", "denied"), ("feed.admin", "allowed")]
    assert sightline(env, "feed", "fetch", "nosuch").exit_code == 1
