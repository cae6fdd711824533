"""Every page, by phone and by keyboard (issue 16, point 6): axe-core and no sideways scroll.

Every parameter-less GET page of the application's URL map, plus detail pages of rows
the test creates, is opened at 390 px and at 1366 px by the first role (administrator,
officer, dispatcher, analyst, vendor) whose permission reaches it; each role also opens
the home page, whose menu is its own. Each role signs in (one browser, one context per
role and width). axe-core (through axe-playwright-python) must find no serious or critical
violation, and at 390 px the page must not scroll sideways. The anonymous pages (the
sign-in banner, the transparency page) are checked the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_helpers import Site
from flask import Flask
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError
from test_browser_ui import _reads

from controller.accounts import roles
from controller.store import hits as hit_repo
from controller.store import hotlists as hotlist_repo
from web.app import BLUEPRINTS
from web.security import permission_of

pytestmark = pytest.mark.browser

PHONE, LAPTOP = 390, 1366
ROLES = ("administrator", "officer", "dispatcher", "analyst", "vendor")
# Not pages: files, machine endpoints, and pages that need a signed-out browser.
NOT_PAGES = {"static", "healthz", "metrics_endpoint", "transparency.document", "auth.login",
             "auth.totp", "auth.enrol"}
SERIOUS = {"serious", "critical"}
# A few phone-width screenshots for the record (test-artifacts/screenshots/phone-*.png).
PHONE_SHOTS = {"/search": "search", "/hotlists": "hotlists", "/audit": "audit",
               "/cameras": "cameras", "/hits": "hits"}
OVERFLOW = "() => document.scrollingElement.scrollWidth - window.innerWidth"
# The innermost elements that stick out past the right edge (to say what overflows).
STICKING_OUT = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
    && ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 4).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className
       ? '.' + e.className.split(' ').join('.') : ''))"""


@dataclass(frozen=True)
class Route:
    """A GET page and the permission it declares."""

    path: str
    permission: str | None


def url_map() -> Flask:
    """The application's routes (blueprints only: no controller is needed to list them)."""
    app = Flask("a11y-walk")
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def pages(details: dict[str, str]) -> list[Route]:
    """Every parameter-less GET page, and the detail pages named in ``details``
    (endpoint -> path of a row the test created)."""
    app = url_map()
    found = [Route(rule.rule, permission_of(app, rule.endpoint))
             for rule in app.url_map.iter_rules()
             if "GET" in (rule.methods or ()) and not rule.arguments
             and rule.endpoint not in NOT_PAGES]
    found += [Route(path, permission_of(app, endpoint)) for endpoint, path in details.items()]
    return sorted(found, key=lambda r: r.path)


@pytest.fixture
def world(site: Site) -> Iterator[dict[str, str]]:
    """A site, camera, read, hit and hotlist; the detail pages that show them."""
    camera = _reads(site)
    hit = hit_repo.list_hits(site.engine)[0]
    hotlist_repo.add_version(site.engine, "CA-SVS", [{
        "plate": "7ABC123", "is_partial": False, "plate_state": "CA",
        "category": "stolen_vehicle", "reason": "Stolen 2026-11-18", "ncic_number": None,
        "ori": None, "entered_at": None, "expires_at": None, "alert_note": None}],
        actor="test", now=hit["created_at"], official=True, digest="0" * 64)
    site.user("walk.target", "officer")
    details = {"hits.detail": f"/hits/{hit['uuid']}", "cameras.detail": f"/cameras/{camera}",
               "cameras.regions": f"/cameras/{camera}/regions",
               "hotlists.entries": "/hotlists/CA-SVS", "users.detail": "/users/walk.target",
               "reads.detail": f"/reads/{hit['read_uuid']}", "live.view": f"/live/{camera}"}
    yield details


def check(page: Page, axe: Axe, url: str, width: int) -> list[str]:
    """Open ``url``; the serious axe violations and sideways overflow it shows."""
    try:
        response = page.goto(url)
    except PlaywrightError as exc:  # a download, not a page
        if "Download is starting" in str(exc):
            return []
        raise
    if response is None or "text/html" not in response.headers.get("content-type", ""):
        return []
    if not response.text().lstrip().lower().startswith("<!doctype html"):
        return []  # a fragment a page's script fetches (the hit queue), not a page
    page.wait_for_load_state("load")
    problems = [f"{url} @{width}: {v['id']} ({v['impact']}): {v['help']} -> "
                f"{[n['target'] for n in v['nodes']][:3]}"
                for v in axe.run(page).response["violations"] if v["impact"] in SERIOUS]
    if width == PHONE:
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            problems.append(f"{url} @{width}: the page scrolls sideways by {overflow} px: "
                            f"{page.evaluate(STICKING_OUT)}")
    return problems


def walk(site: Site, browser: Browser, role: str, width: int, routes: list[Route],
         axe: Axe) -> list[str]:
    """Sign in as a new user of ``role`` at ``width`` and check every page it reaches."""
    username = f"{role[:5]}.{width}"
    site.user(username, role)
    context = browser.new_context(viewport={"width": width, "height": 820})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        site.login(page, username)
        if roles.allowed("purpose", role):
            site.state_purpose(page, then="/")
        problems: list[str] = []
        for route in routes:
            problems += check(page, axe, site.url + route.path, width)
            if width == PHONE and route.path in PHONE_SHOTS and role == "administrator":
                site.shot(page, f"phone-{PHONE_SHOTS[route.path]}")
        return problems
    finally:
        context.close()


def reaches(role: str, route: Route) -> bool:
    return route.permission == "public" or roles.allowed(route.permission, role)


def walked_by(role: str, routes: list[Route]) -> list[Route]:
    """The pages ``role`` checks: those no role before it in ROLES reaches (a page is
    one template whoever opens it; the first role that reaches it, the administrator
    for most, sees the most of it), and the home page, whose menu is the role's own."""
    earlier = ROLES[:ROLES.index(role)]
    return [r for r in routes if reaches(role, r) and
            (r.path == "/" or not any(reaches(other, r) for other in earlier))]


def test_every_page_is_walked_by_some_role() -> None:
    routes = pages({})
    walked = {r.path for role in ROLES for r in walked_by(role, routes)}
    reachable = {r.path for r in routes if any(reaches(role, r) for role in ROLES)}
    assert walked == reachable and "/" in walked and len(walked) > 20


@pytest.mark.timeout(300)  # about 20 pages, twice, each checked by axe-core
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_passes_axe_at_both_widths(site: Site, browser: Browser,
                                                         world: dict[str, str],
                                                         role: str) -> None:
    routes = walked_by(role, pages(world))
    axe = Axe()
    problems = walk(site, browser, role, PHONE, routes, axe)
    problems += walk(site, browser, role, LAPTOP, routes, axe)
    assert not problems, "\n".join(problems)


def test_signed_out_pages_pass_axe_at_both_widths(site: Site, browser: Browser) -> None:
    axe = Axe()
    problems = []
    for width in (PHONE, LAPTOP):
        context = browser.new_context(viewport={"width": width, "height": 820})
        page = context.new_page()
        try:
            for path in ("/login", "/transparency"):
                problems += check(page, axe, site.url + path, width)
            if width == PHONE:
                page.goto(site.url + "/login")
                site.shot(page, "phone-login")
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_keyboard_skip_link_and_phone_menu(site: Site, browser: Browser) -> None:
    site.user("kim.park", "analyst")
    context = browser.new_context(viewport={"width": PHONE, "height": 820})
    page = context.new_page()
    try:
        site.login(page, "kim.park")
        page.goto(site.url + "/account")
        # The first Tab reaches the skip link, and it moves focus to the page's content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        # At phone width the navigation folds behind the menu button, opened by keyboard.
        nav = page.locator("#topnav")
        assert not nav.is_visible()
        page.focus(".nav-toggle")
        page.keyboard.press("Enter")
        assert nav.is_visible()
        assert page.locator(".nav-toggle").get_attribute("aria-expanded") == "true"
        site.shot(page, "phone-menu-open")
        page.keyboard.press("Enter")
        assert not nav.is_visible()
    finally:
        context.close()


def test_login_refusal_keeps_the_layout_and_the_notice_tick(site: Site, browser: Browser) -> None:
    site.user("lou.diaz", "officer")
    for width in (PHONE, LAPTOP):
        context = browser.new_context(viewport={"width": width, "height": 820})
        page = context.new_page()
        try:
            page.goto(site.url + "/login")
            before = page.locator(".login-card").bounding_box()
            page.fill("input[name=username]", "lou.diaz")
            page.fill("input[name=password]", "not-the-password")
            page.check("input[name=banner_ack]")
            # The refused login is a new page: measure it once loaded, stylesheet and
            # all (an element can be found before app.css applies, laid out as bare HTML).
            with page.expect_navigation(wait_until="load"):
                page.click("button[type=submit]")
            assert "wrong username or password" in page.locator("#login-error").inner_text()
            after = page.locator(".login-card").bounding_box()
            assert before is not None and after is not None
            # The refusal shows inside the card: the card does not move sideways.
            assert after["x"] == before["x"] and after["width"] == before["width"]
            assert page.locator("input[name=banner_ack]").is_checked()
            assert page.evaluate(OVERFLOW) <= 0
        finally:
            context.close()
