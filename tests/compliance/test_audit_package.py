"""Quarterly audit (462.6): the package, its flags, its manifest and a PDF with pages."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest
from cli_runner import sightline, signed_in
from compliance_world import add_read
from sqlalchemy import Engine

from controller import audit
from controller.accounts import users
from controller.compliance import audit_flags, exports
from controller.errors import ValidationError
from controller.jobs import runner
from controller.jobs import schedule as _registers_the_jobs  # noqa: F401
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

Q3 = datetime(2026, 7, 1, tzinfo=UTC)
PASSWORD = "Correct-Horse-Battery-9"


def search(engine: Engine, actor: str, at: datetime, plate: str = "7ABC123", *,
           purpose: str = "Stolen vehicle investigation", case: str | None = "26-004512",
           outcome: audit.Outcome = "allowed") -> int:
    return audit.record(engine, audit.AuditEvent(
        actor=actor, action="search.exact", outcome=outcome, plate=plate, purpose=purpose,
        case_number=case, client_addr="10.1.1.1", data={"results": 1}), at=at)


def seed_quarter(engine: Engine, settings: Settings, world: dict[str, Any]) -> dict[str, int]:
    """A quarter with one example of each flag and clean searches that must not be flagged."""
    # The log is in time order: the past quarter's searches first, today's accounts after.
    search(engine, "ann.lee", Q3 - timedelta(days=1), purpose="x", case="")  # Q2: not included
    ids: dict[str, int] = {}
    # ann: daytime searches on many days (her usual hours), all clean, distinct plates.
    for day in range(10):
        search(engine, "ann.lee", Q3 + timedelta(days=day, hours=14), plate=f"1AAA{day:03d}")
    ids["clean"] = search(engine, "ann.lee", Q3 + timedelta(days=20, hours=14), plate="2BBB222")
    ids["no_case"] = search(engine, "ann.lee", Q3 + timedelta(days=21, hours=14),
                            plate="3CCC333", case="")
    ids["vague"] = search(engine, "ann.lee", Q3 + timedelta(days=22, hours=14),
                          plate="4DDD444", purpose="Investigation")
    # ann: a burst at 03:00, outside her usual hours.
    for minute in range(6):
        search(engine, "ann.lee", Q3 + timedelta(days=30, hours=3, minutes=minute),
               plate=f"5EEE{minute:03d}")
    # bob: the same plate five times.
    for day in range(5):
        search(engine, "bob.day", Q3 + timedelta(days=40 + day, hours=10), plate="6FFF666")
    ids["denied"] = search(engine, "bob.day", Q3 + timedelta(days=50, hours=10),
                           outcome="denied")
    ids["vendor"] = audit.record(engine, audit.AuditEvent(
        actor="vic.vendor", action="access.denied", outcome="denied",
        data={"path": "/search", "reason": "the vendor role may not use this page"}),
        at=Q3 + timedelta(days=51, hours=9))
    ids["lapsed"] = search(engine, "old.hand", Q3 + timedelta(days=52, hours=11),
                           plate="7GGG777")
    rules = settings.security
    for name, role in (("ann.lee", "officer"), ("bob.day", "analyst"),
                       ("vic.vendor", "vendor"), ("old.hand", "officer")):
        users.add_user(engine, rules, username=name, role=role, password=PASSWORD, actor="t")
    users.record_training(engine, username="ann.lee", course="ALPR", trainer="Sgt",
                          completed_on=date(2026, 6, 1), actor="t")
    users.record_training(engine, username="bob.day", course="ALPR", trainer="Sgt",
                          completed_on=date(2026, 6, 1), actor="t")
    users.record_training(engine, username="old.hand", course="ALPR", trainer="Sgt",
                          completed_on=date(2024, 1, 5), actor="t")
    for week in range(3):
        add_read(engine, settings.data_dir, world, "7ABC123", Q3 + timedelta(days=7 * week + 1),
                 hit=True)
    return ids


def rehash(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and p.name != "MANIFEST.sha256"}


def manifest(folder: Path) -> dict[str, str]:
    lines = (folder / "MANIFEST.sha256").read_text().splitlines()
    return {line[66:]: line[:64] for line in lines}


def pdf_pages_not_blank(pdf: Path, out: Path) -> int:
    subprocess.run(["/usr/bin/pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")],
                   check=True, timeout=60)
    pages = sorted(out.glob("page*.png"))
    for page in pages:
        image = cv2.imread(str(page), cv2.IMREAD_GRAYSCALE)
        assert image is not None
        inked = float((image < 200).mean())
        assert inked > 0.002, f"{page.name} is blank"
    coloured = cv2.imread(str(pages[0]), cv2.IMREAD_COLOR)
    b, _g, r = (coloured[..., i].astype(int) for i in range(3))
    assert ((b - r > 60) & (b > 150)).sum() > 20, "no chart bars drawn on page 1"
    return len(pages)


def test_package_has_every_part_flags_and_a_verifying_manifest(
        engine: Engine, settings: Settings, world: dict[str, Any], tmp_path: Path) -> None:
    ids = seed_quarter(engine, settings, world)
    folder = exports.build_audit_package(engine, settings, "2026q3", tmp_path, actor="chief")
    assert folder.name == "audit-2026Q3"
    names = set(rehash(folder))
    assert {"access-log.csv", "access-log.jsonl", "summary.html", "summary.pdf", "flags.csv",
            "flags.json", "chain-verification.json", "summary.json"} <= names
    assert manifest(folder) == rehash(folder)
    assert exports.verify_manifest(folder) == []
    checked = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=folder,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    lines = [json.loads(x) for x in (folder / "access-log.jsonl").read_text().splitlines()]
    assert all(Q3 <= datetime.fromisoformat(x["at"]) < datetime(2026, 10, 1, tzinfo=UTC)
               for x in lines)
    assert len(lines) == 27
    flags = json.loads((folder / "flags.json").read_text())
    kinds: dict[str, set[int]] = {}
    for flag in flags:
        kinds.setdefault(flag["kind"], set()).add(flag["event_id"])
    assert ids["no_case"] in kinds["no_case_number"] and ids["vague"] in kinds["vague_purpose"]
    assert ids["denied"] in kinds["denied"] and ids["vendor"] in kinds["vendor_data"]
    assert kinds["lapsed_training"] == {ids["lapsed"]}
    assert len(kinds["repeated_plate"]) == 1 and len(kinds["off_hours_burst"]) == 1
    assert ids["clean"] not in set().union(*kinds.values())
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["chain"]["ok"] is True
    assert dict(summary["charts"]["searches_per_user"])["ann.lee"] == 19
    assert sum(v for _, v in summary["charts"]["hits_per_week"]) == 3
    html = (folder / "summary.html").read_text()
    assert html.count("<svg") == 4 and 'id="chain">Audit-log hash chain: intact' in html
    pages = tmp_path / "pages"
    pages.mkdir()
    assert pdf_pages_not_blank(folder / "summary.pdf", pages) >= 2
    exported = audit_repo.search(engine, action="export.audit")[0]
    assert exported["data"]["events"] == 27 and exported["data"]["flags"] == len(flags)


def test_a_changed_file_or_an_extra_file_fails_the_manifest(
        engine: Engine, settings: Settings, tmp_path: Path) -> None:
    folder = exports.build_audit_package(engine, settings, "2026Q2", tmp_path, actor="chief")
    (folder / "flags.csv").write_text("kind\n")
    (folder / "extra.txt").write_text("x")
    assert sorted(exports.verify_manifest(folder)) == [
        "extra.txt: not in the manifest", "flags.csv: content does not match"]
    with pytest.raises(ValidationError, match="already exists"):
        exports.build_audit_package(engine, settings, "2026Q2", tmp_path, actor="chief")
    with pytest.raises(ValidationError, match="quarter"):
        exports.parse_quarter("2026-07")


def test_quarters() -> None:
    assert exports.parse_quarter("2026Q4")[1:] == (datetime(2026, 10, 1, tzinfo=UTC),
                                                   datetime(2027, 1, 1, tzinfo=UTC))
    assert exports.previous_quarter(date(2027, 1, 1)) == "2026Q4"
    assert exports.previous_quarter(date(2026, 7, 1)) == "2026Q2"


async def test_quarterly_job_builds_the_last_quarter_once(engine: Engine,
                                                         settings: Settings) -> None:
    runner.set_context(runner.JobContext(engine, settings, lambda _w: None))
    try:
        await runner.run_job("audit_quarterly", "audit:quarterly")
        await runner.run_job("audit_quarterly", "audit:quarterly")
    finally:
        runner.set_context(None)
    quarter = exports.previous_quarter(datetime.now(UTC).date())
    built = list(exports.audit_export_dir(settings).iterdir())
    assert [p.name for p in built] == [f"audit-{quarter}"]
    assert exports.verify_manifest(built[0]) == []
    assert len(audit_repo.search(engine, action="export.audit")) == 1


def test_cli_export_writes_a_verifying_package_with_pdf_pages(
        cli_env: dict[str, str], settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    upgrade(engine)
    search(engine, "ann.lee", Q3 + timedelta(days=3, hours=9), case="")
    engine.dispose()
    out = tmp_path / "out"
    cli_env = signed_in(cli_env, "ann.admin")
    run = sightline(cli_env, "audit", "export", "--quarter", "2026Q3", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    folder = Path(run.stdout.strip().splitlines()[-1])
    assert folder == out / "audit-2026Q3" and manifest(folder) == rehash(folder)
    flags = json.loads((folder / "flags.json").read_text())
    # No account and no training on record: both are flagged.
    assert sorted(f["kind"] for f in flags) == ["lapsed_training", "no_case_number"]
    pages = tmp_path / "pages"
    pages.mkdir()
    assert pdf_pages_not_blank(folder / "summary.pdf", pages) >= 2
    bad = sightline(cli_env, "audit", "export", "--quarter", "Q3-2026", "--out", str(out))
    assert bad.exit_code == 1 and "quarter" in bad.stderr
    shutil.rmtree(out)


def test_bursts_inside_usual_hours_pass_and_vague_purposes() -> None:
    def event(i: int, at: datetime) -> dict[str, Any]:
        return {"id": i, "at": at, "actor": "cy", "action": "search.exact",
                "outcome": "allowed", "plate": f"P{i}", "purpose": "Missing person",
                "case_number": "26-1", "data": {}}

    days = [event(i, Q3 + timedelta(days=i, hours=9)) for i in range(5)]
    burst_in = [event(10 + i, Q3 + timedelta(days=20, hours=9, minutes=i)) for i in range(5)]
    burst_out = [event(20 + i, Q3 + timedelta(days=21, hours=2, minutes=i)) for i in range(5)]
    roles = {"cy": ("officer", [date(2026, 6, 1)])}
    flags = audit_flags.review_flags(days + burst_in + burst_out, roles, 365)
    assert [(f.kind, f.event_id) for f in flags] == [("off_hours_burst", 20)]
    fresh = audit_flags.review_flags(burst_in, roles, 365)
    assert [f.kind for f in fresh] == ["off_hours_burst"]  # no established pattern yet
    assert "none established" in fresh[0].detail
    assert audit_flags.vague("Investigation.") and audit_flags.vague("  ")
    assert not audit_flags.vague("Stolen vehicle investigation")
