"""Helpers for the browser tests: the running site, TOTP sign-in, screenshots, a test video."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, Page, Response
from sqlalchemy import Engine
from totp_codes import next_code

from controller.accounts import users
from controller.settings import Settings
from controller.store import accounts as account_repo
from controller.store import users as user_repo

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "Correct-Horse-Battery-9"
# Issue 16's two widths (viewport width: height): a phone's and a laptop's.
WIDTHS = {390: 844, 1366: 900}
# Posts a form built in the page with the page's CSRF token (what a user's tampered or
# stale form sends); the browser navigates to the answer.
POST_FORM = """([action, fields]) => {
  const form = document.createElement('form');
  form.method = 'post'; form.action = action;
  const token = document.querySelector('input[name=csrf_token]').value;
  for (const [name, value] of Object.entries({...fields, csrf_token: token})) {
    const input = document.createElement('input');
    input.type = 'hidden'; input.name = name; input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""


@contextmanager
def open_page(browser: Browser, width: int) -> Iterator[Page]:
    """A page in a fresh browser context (own cookies) at ``width`` (one of WIDTHS)."""
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def post_form(page: Page, action: str, fields: dict[str, str]) -> Response:
    """Post ``fields`` to ``action`` from the current page as its own form would; the
    answer the browser navigated to."""
    with page.expect_navigation() as navigation:
        page.evaluate(POST_FORM, [action, fields])
    response = navigation.value
    assert response is not None
    return response


@dataclass
class Site:
    """The running application and helpers to act in it."""

    url: str
    engine: Engine
    settings: Settings
    db: str
    secrets: dict[str, str] = field(default_factory=dict)

    def user(self, username: str, role: str, *, trained: bool = True) -> None:
        """Create a user with TOTP enrolled (and training unless told otherwise)."""
        users.add_user(self.engine, self.settings.security, username=username, role=role,
                       password=PASSWORD, actor="test", full_name=username.title())
        row = user_repo.get(self.engine, username)
        if trained:
            users.record_training(self.engine, username=username, course="ALPR 462",
                                  completed_on=date.today() - timedelta(days=3),
                                  trainer="Sgt. Diaz", actor="test")
        secret = pyotp.random_base32()
        account_repo.set_totp(self.engine, int(row["id"]), secret, enrolled=True)
        self.secrets[username] = secret

    def code(self, username: str) -> str:
        """A TOTP code for this user that the server accepts now and has not seen used."""
        return next_code(self.engine, username, self.secrets[username])

    def login(self, page: Page, username: str, password: str = PASSWORD) -> None:
        """Sign in through the banner, password and code pages."""
        page.goto(f"{self.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.check("input[name=banner_ack]")
        page.click("button[type=submit]")
        page.wait_for_url("**/login/code")
        page.fill("input[name=code]", self.code(username))
        page.click("button[type=submit]")
        page.wait_for_load_state()

    def state_purpose(self, page: Page, then: str, purpose: str = "Stolen vehicle investigation",
                      case_number: str = "26-004512") -> None:
        """State the purpose and case number that cover this user's views (462.5) on the
        purpose page, as a user starting a piece of work does; it returns to ``then``."""
        page.goto(f"{self.url}/purpose?next={then}")
        page.select_option("select[name=purpose]", purpose)
        page.fill("input[name=case_number]", case_number)
        page.check("input[name=attest]")
        page.click("#purpose-form button[type=submit]")
        page.wait_for_url(f"**{then}")

    def shot(self, page: Page, name: str) -> None:
        """Save a full-page screenshot as a test artefact."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{self.db}.png"), full_page=True)
