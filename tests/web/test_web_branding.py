"""The operating agency's name comes from settings, never from the templates."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from tests_web_helpers import Auth

from controller.settings import Settings
from controller.settings.loader import ConfigError, load_settings, settings_from_mapping

ROOT = Path(__file__).resolve().parents[2]
AGENCY = "Harrow County Sheriff's Office"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """The test settings with another agency than the demo one."""
    return settings_from_mapping(
        {"data_dir": str(tmp_path / "data"), "database": {"url": db_url},
         "web": {"host": "127.0.0.1", "port": 0}, "agency": {"name": AGENCY}},
        "(test settings)", env={},
    )


def test_login_notice_names_the_configured_agency(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Harrow County Sheriff&#39;s Office Automated License Plate Reader" in page
    assert "Westmorland" not in page


def test_home_page_names_the_configured_agency(auth: Auth, client: FlaskClient) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    page = client.get("/").get_data(as_text=True)
    assert "Harrow County Sheriff&#39;s Office · ALPR" in page
    assert "Westmorland" not in page


def test_demo_config_names_a_demo_agency() -> None:
    demo = load_settings(ROOT / "config" / "sightline.yaml", env={})
    assert demo.agency.name == "Westmorland Police Department"


@pytest.mark.parametrize("name", ["", "   ", "Police\x00Dept", "x" * 121])
def test_bad_agency_name_refused_naming_the_field(name: str) -> None:
    with pytest.raises(ConfigError, match=r"agency\.name"):
        settings_from_mapping({"agency": {"name": name}}, "(test)", env={})


def test_agency_name_whitespace_collapsed() -> None:
    loaded = settings_from_mapping({"agency": {"name": "  Harrow   County SO "}}, "(t)", env={})
    assert loaded.agency.name == "Harrow County SO"
