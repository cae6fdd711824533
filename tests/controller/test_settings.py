"""Settings files: defaults, the shipped examples, overrides, and clear errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.errors import ConfigError
from controller.settings import POLICY_MINIMUM_DAYS
from controller.settings.loader import load_settings, settings_from_mapping

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_embedded_default_is_sqlite_on_loopback() -> None:
    settings = load_settings(ROOT / "config" / "sightline.yaml", env={})
    assert settings.database_url().startswith("sqlite:///")
    assert settings.database_url().endswith("/sightline.db")
    assert (settings.web.host, settings.web.port) == ("127.0.0.1", 8080)
    assert settings.retention.days == POLICY_MINIMUM_DAYS


def test_multisite_example_is_postgres_with_several_sites() -> None:
    settings = load_settings(ROOT / "config" / "example-multisite.yaml", env={})
    assert settings.database_url().startswith("postgresql+psycopg://")
    assert len(settings.node.sites) >= 2
    assert settings.node.failover_sites and not set(settings.node.failover_sites) & set(
        settings.node.sites)
    assert settings.dispatch.webhooks[0].secret_env == "SIGHTLINE_WEBHOOK_SECRET"


def test_a_lease_renewed_less_than_twice_per_lease_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"node: .*renew_seconds: 8 s is too long for a "
                                          r"15 s lease"):
        settings_from_mapping({"node": {"lease_seconds": 15, "renew_seconds": 8}},
                              "(test)", env={})


def test_environment_overrides_data_dir_and_database(tmp_path: Path) -> None:
    env = {"SIGHTLINE_DATA_DIR": str(tmp_path), "SIGHTLINE_DATABASE_URL": "sqlite:///x.db"}
    settings = load_settings(ROOT / "config" / "sightline.yaml", env=env)
    assert settings.data_dir == tmp_path
    assert settings.database_url() == "sqlite:///x.db"


def test_config_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("web:\n  port: 9999\n")
    assert load_settings(None, env={"SIGHTLINE_CONFIG": str(path)}).web.port == 9999


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web:\n  prot: 80\n", "web.prot: unknown key"),
        ("web:\n  port: eighty\n", "web.port: Input should be a valid integer"),
        ("dispatch:\n  webhooks:\n    - name: cad\n", "dispatch.webhooks[0].url: Field required"),
        ("retention:\n  days: 30\n", "retention.days: Input should be greater than or equal"),
        ("security:\n  lockout_attempts: 9\n", "security.lockout_attempts"),
        ("web:\n  host: not-an-ip\n", "web.host"),
        ("web: [1, 2\n", "invalid YAML: line 2, column 1"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
    ids=["unknown-key", "wrong-type", "missing-value", "below-policy", "over-cjis",
         "bad-ip", "invalid-yaml", "not-a-mapping"],
)
def test_bad_file_names_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "absent.yaml", env={})


def test_every_field_is_titled_and_described() -> None:
    from pydantic import BaseModel

    from controller.settings import Settings

    def walk(model: type[BaseModel], prefix: str) -> list[str]:
        missing = []
        for name, field in model.model_fields.items():
            if not field.title or not field.description:
                missing.append(prefix + name)
            annotation = field.annotation
            for candidate in (*getattr(annotation, "__args__", ()), annotation):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    missing += walk(candidate, f"{prefix}{name}.")
        return missing

    assert walk(Settings, "") == []
