"""L2: owner-only permissions on what Sightline writes under its data directory."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyotp
import pytest
from cli_runner import signed_in
from sqlalchemy import Engine

from controller import audit, sealing
from controller.accounts import sessions, users
from controller.compliance import exports
from controller.errors import ValidationError
from controller.settings import SecuritySettings, Settings
from controller.store import accounts as account_repo
from controller.store import users as user_repo
from controller.store.engine import make_engine
from controller.store.images import ImageStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common default umask (022), under which files come out world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def sightline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "controller", *args], env=env,
                          capture_output=True, text=True, timeout=90, check=False)


def test_the_command_keeps_the_data_directory_owner_only(cli_env: dict[str, str]) -> None:
    data_dir = Path(cli_env["SIGHTLINE_DATA_DIR"])
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as an installation made before the rule left it
    assert sightline(cli_env, "db", "upgrade").returncode == 0
    assert mode(data_dir) == 0o700
    url = cli_env["SIGHTLINE_DATABASE_URL"]
    if url.startswith("sqlite"):
        assert mode(Path(url.removeprefix("sqlite:///"))) == 0o600
    anchored = sightline(signed_in(cli_env, "ann.admin"), "audit", "anchor")
    assert anchored.returncode == 0, anchored.stderr
    anchors = data_dir / "audit-anchors"
    assert mode(anchors) == 0o700 and mode(anchors / "audit-anchors.jsonl") == 0o600
    assert mode(data_dir / "secret.key") == 0o600


def test_an_existing_database_file_is_made_owner_only(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "db" / "sightline.db"
    path.parent.mkdir()
    path.touch(mode=0o644)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.commit()
    finally:
        engine.dispose()
    assert mode(path) == 0o600


def test_images_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    store = ImageStore(tmp_path / "data")
    stored = store.write("0f5e", "crop", np.zeros((8, 16, 3), np.uint8),
                         datetime(2026, 11, 29, tzinfo=UTC))
    image = tmp_path / "data" / stored.path
    assert mode(image) == 0o600
    for folder in (image.parent, image.parent.parent, image.parent.parent.parent):
        assert mode(folder) == 0o700


def test_packages_and_anchors_are_owner_only(engine: Engine, settings: Settings,
                                             tmp_path: Path, loose_umask: None) -> None:
    audit.record(engine, audit.AuditEvent(actor="ann.lee", action="search.exact"))
    folder = exports.build_audit_package(engine, settings, "2026Q3", tmp_path / "out",
                                         actor="chief")
    assert mode(folder) == 0o700
    for path in folder.rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    anchors = audit.anchor_dir(settings)
    assert mode(anchors) == 0o700 and mode(anchors / "audit-anchors.jsonl") == 0o600
    assert (folder / "audit-anchor.json").is_file()


# --- TOTP secrets sealed with the instance key ------------------------------------------------

def _officer(engine: Engine) -> dict[str, object]:
    users.add_user(engine, SecuritySettings(), username="ann.lee", role="officer",
                   password="Correct-Horse-Battery-9", actor="test")
    return dict(user_repo.get(engine, "ann.lee"))


def test_totp_secrets_are_stored_sealed(engine: Engine) -> None:
    user = _officer(engine)
    secret = sessions.begin_enrolment(engine, user)
    row = dict(user_repo.get(engine, "ann.lee"))
    assert row["totp_secret"] is None and sealing.is_sealed(str(row["totp_sealed"]))
    assert secret not in str(row["totp_sealed"])
    assert sessions.begin_enrolment(engine, row) == secret  # the same one until proven
    sessions.check_totp(engine, int(row["id"]), pyotp.TOTP(secret).now(), None)
    row = dict(user_repo.get(engine, "ann.lee"))
    assert row["totp_enrolled"] is True and row["totp_secret"] is None
    assert sessions.totp_secret(engine, row) == secret
    assert "totp_sealed" not in users.list_users(engine)[0]


def test_a_plain_secret_from_before_keeps_working_and_is_sealed(engine: Engine) -> None:
    user = _officer(engine)
    plain = pyotp.random_base32()
    account_repo.set_totp(engine, int(user["id"]), plain, enrolled=True)  # as stored before
    moment = datetime.now(UTC)
    sessions.check_totp(engine, int(user["id"]), pyotp.TOTP(plain).at(moment), None, moment)
    row = dict(user_repo.get(engine, "ann.lee"))
    assert row["totp_secret"] is None and sealing.is_sealed(str(row["totp_sealed"]))
    later = moment + timedelta(seconds=60)
    sessions.check_totp(engine, int(user["id"]), pyotp.TOTP(plain).at(later), None, later)


def test_a_secret_sealed_with_another_instance_key_is_a_clear_error(engine: Engine) -> None:
    user = _officer(engine)
    sessions.begin_enrolment(engine, user)
    sealing.bind_instance_secret(engine, "another-instance-" + "k" * 32)
    with pytest.raises(ValidationError, match="another instance key"):
        sessions.totp_secret(engine, dict(user_repo.get(engine, "ann.lee")))
