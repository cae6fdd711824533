"""``sightline hold`` and ``sightline mask`` run in-process through click's runner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli_runner import signed_in
from click.testing import CliRunner
from compliance_world import add_read, make_world

from controller.cli import main
from controller.compliance import court_orders
from controller.compliance.exports import verify_manifest
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade


def test_hold_export_and_mask_lift_from_the_command_line(
        cli_env: dict[str, str], settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    upgrade(engine)
    data_dir = Path(cli_env["SIGHTLINE_DATA_DIR"])
    world = make_world(engine, settings)
    read = add_read(engine, data_dir, world, "7ABC123", datetime(2026, 11, 1, tzinfo=UTC),
                    hit=True)
    runner = CliRunner()
    env = {k: v for k, v in signed_in(cli_env, "ann.admin").items()
           if k.startswith("SIGHTLINE_")}
    created = runner.invoke(main, ["hold", "create", "--case", "26-7", "--reason",
                                   "homicide", read], env=env)
    assert created.exit_code == 0, created.output
    hold_id = created.stdout.strip().splitlines()[-1]
    missing = "00000000-0000-4000-8000-00000000dead"
    unknown = runner.invoke(main, ["hold", "create", "--case", "26-7", "--reason", "x",
                                   missing], env=env)
    assert unknown.exit_code == 1 and f"reads: no read {missing}" in unknown.output
    malformed = runner.invoke(main, ["hold", "create", "--case", "26-7", "--reason", "x",
                                     "no-such-read"], env=env)
    assert malformed.exit_code == 1 and "reads: not a read's id" in malformed.output
    stated = runner.invoke(main, ["purpose", "state", "--purpose", "Missing person",
                                  "--case-number", "26-7", "--attest"], env=env)
    assert stated.exit_code == 0, stated.output
    exported = runner.invoke(main, ["hold", "export", hold_id, "--out",
                                    str(tmp_path / "evidence")], env=env)
    assert exported.exit_code == 0, exported.output
    folder = Path(exported.stdout.strip().splitlines()[-1])
    assert verify_manifest(folder) == [] and (folder / "images").is_dir()
    expiry = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    lifted = runner.invoke(main, ["mask", "lift", str(world["mask"]), "--order", "CR-9",
                                  "--court", "Superior Court", "--expires", expiry], env=env)
    assert lifted.exit_code == 0, lifted.output
    assert [lift["court_order"] for lift in court_orders.active_lifts(engine)] == ["CR-9"]
    zone = runner.invoke(main, ["mask", "lift", str(world["zone"]), "--order", "CR-9",
                                "--court", "C", "--expires", expiry], env=env)
    assert zone.exit_code == 1 and "recognition zone" in zone.output
    # The Sightline user who signed in, from the command line (not an OS account).
    assert [(r["actor"], r["client_addr"].startswith("cli:")) for r in
            audit_repo.search(engine, action="mask.lift")] == [("ann.admin", True)]
    engine.dispose()
