"""The add-user form makes the administrator choose a role (no role preselected)."""

from __future__ import annotations

from html.parser import HTMLParser

from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth, actions

from controller.store import users as user_repo

PW = "Correct-Horse-Battery-9"


class _RoleSelect(HTMLParser):
    """The options of the add-user form's role select: (value, selected, label)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = self.in_select = False
        self.required = False
        self.options: list[tuple[str, bool, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("id") == "add-user":
            self.in_form = True
        elif self.in_form and tag == "select" and a.get("name") == "role":
            self.in_select, self.required = True, "required" in a
        elif self.in_select and tag == "option":
            self.options.append((a.get("value") or "", "selected" in a, ""))

    def handle_data(self, data: str) -> None:
        if self.in_select and self.options and data.strip():
            value, selected, _ = self.options[-1]
            self.options[-1] = (value, selected, data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.in_select = False
        elif tag == "form":
            self.in_form = False


def _role_select(page: str) -> _RoleSelect:
    parsed = _RoleSelect()
    parsed.feed(page)
    assert parsed.options, "add-user form has no role select"
    return parsed


def _admin(auth: Auth) -> None:
    auth.make_user("ada.admin", "administrator")
    auth.login("ada.admin")


def test_add_user_form_preselects_no_role(auth: Auth, client: FlaskClient) -> None:
    _admin(auth)
    select = _role_select(client.get("/admin/users").get_data(as_text=True))
    assert select.required
    first = select.options[0]
    assert first[0] == "" and "choose a role" in first[2].lower()
    # What the browser submits untouched is the first option, or the one marked selected.
    chosen = [o for o in select.options if o[1]] or select.options[:1]
    assert [o[0] for o in chosen] == [""]
    assert {o[0] for o in select.options[1:]} >= {"administrator", "officer"}


def test_add_user_without_role_refused_naming_the_field(auth: Auth, client: FlaskClient,
                                                        engine: Engine) -> None:
    _admin(auth)
    response = auth.post("/admin/users", {"username": "bo.new", "full_name": "Bo New",
                                          "role": "", "password": PW})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Role: role must be one of" in page
    assert all(u["username"] != "bo.new" for u in user_repo.list_all(engine))
    assert actions(engine, "user.add").count("denied") == 1
    # The form comes back with the typed values and still no role chosen for them.
    assert 'value="bo.new"' in page
    chosen = [o for o in _role_select(page).options if o[1]]
    assert [o[0] for o in chosen] == [""]


def test_refused_add_keeps_the_chosen_role(auth: Auth, client: FlaskClient) -> None:
    _admin(auth)
    response = auth.post("/admin/users", {"username": "bo.new", "role": "analyst",
                                          "password": "short"})
    assert response.status_code == 400
    chosen = [o for o in _role_select(response.get_data(as_text=True)).options if o[1]]
    assert [o[0] for o in chosen] == ["analyst"]


def test_disable_needs_explicit_confirmation(auth: Auth, client: FlaskClient,
                                             engine: Engine) -> None:
    _admin(auth)
    auth.make_user("bo.target", "officer")
    page = client.get("/admin/users/bo.target").get_data(as_text=True)
    assert 'name="confirm" value="yes" required' in page

    refused = auth.post("/admin/users/bo.target/enabled", {"enabled": "no"},
                        follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "Confirmation: tick &#39;I confirm&#39; to disable bo.target" in text
    assert user_repo.get(engine, "bo.target")["disabled"] is False
    assert "denied" not in actions(engine, "user.disable")
    assert "allowed" not in actions(engine, "user.disable")

    done = auth.post("/admin/users/bo.target/enabled", {"enabled": "no", "confirm": "yes"})
    assert done.status_code == 303
    assert user_repo.get(engine, "bo.target")["disabled"] is True
    assert "allowed" in actions(engine, "user.disable")
    # Enabling again undoes nothing destructive: no confirmation asked.
    assert auth.post("/admin/users/bo.target/enabled", {"enabled": "yes"}).status_code == 303
    assert user_repo.get(engine, "bo.target")["disabled"] is False
