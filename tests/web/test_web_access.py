"""Every route, every role, and an anonymous client, against Policy 462.

The expected answers come from ``POLICY`` below, written from the policy text
(/work/shared/policy/alpr-policy-462.txt) and DESIGN.md section 2, never from
``controller/accounts/roles.py``: a wrong allow table fails here. A route missing
from ``POLICY`` (or an entry naming no route) fails the test, so a new route must
be classified against the policy before it ships. Where the code's table and the
policy disagree, the pair is listed in ``KNOWN_DISAGREEMENTS`` (none today): the
trained walk skips it and ``test_code_table_agrees_with_policy`` turns red when the
code is fixed without updating this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.routing import Rule

from controller.accounts import roles
from controller.store import accounts as account_repo
from controller.store import audit as audit_repo
from web.security import permission_of

ANONYMOUS = "anonymous"
# 462.3.1 (the ALPR Administrator) and 462.4 (officers, dispatchers, analysts, vendors).
ROLES = ("administrator", "officer", "dispatcher", "analyst", "vendor")


@dataclass(frozen=True)
class Expect:
    """Who reaches a route, and whether current training is required (462.4.1)."""

    who: frozenset[str]
    trained: bool
    clause: str


def _area(endpoints: str, who: set[str], *, trained: bool = True,
          clause: str) -> dict[str, Expect]:
    return {e: Expect(frozenset(who), trained, clause) for e in endpoints.split()}


ADMIN = {"administrator"}
EVERYONE = set(ROLES)

# Endpoint -> who may reach it, written from the policy. Default deny (DESIGN
# 462.4): a role not named for a function by the policy or DESIGN.md section 2 is
# refused, always so for anything touching plate data.
POLICY: dict[str, Expect] = {
    # No login. The system-use banner and login, second-factor steps (462.5.1,
    # DESIGN 462.5.2); static files; health and metrics (camera/host health, no
    # plate data); the policy posted for the public (462.9(2)).
    **_area("auth.login auth.totp auth.enrol static healthz metrics_endpoint "
            "transparency.index transparency.document "
            # The JSON API's document and its interactive page: no data (issue 17).
            "openapi.openapi openapi.doc_url openapi.static swagger.swagger swagger.static "
            "swagger.oauth2-redirect",
            {ANONYMOUS, *EVERYONE}, trained=False, clause="462.5.1, 462.9(2)"),
    # Signed in, before training: see what is missing and acknowledge the policy
    # (462.4.1, DESIGN 462.4.1 "can log in only to see what is missing"); change or
    # report a compromised password (462.5.2(2)); log out.
    **_area("auth.account auth.gate auth.policy auth.change_password auth.compromised "
            "auth.logout",
            EVERYONE, trained=False, clause="462.4.1, 462.5.2(2)"),
    # Everything below is "any portion of the ALPR system": trained users only (462.4.1,
    # 462.7(5)). The start page: every authorised user (462.4); tiles follow the role.
    **_area("home.index", EVERYONE, clause="462.4, 462.4.1"),
    # The overview's refreshing part: program status and camera health for every authorised
    # user (vendors included: health only, DESIGN 462.4); the plates in it follow the
    # role and the purpose window inside the use cases (462.5).
    **_area("home.live", EVERYONE, clause="462.4, 462.4.1, 462.5, DESIGN 462.4"),
    # Searches (exact, partial, canvass): officers on patrol or investigating
    # (462.7(2)-(4)), analysts assisting criminal investigations (462.4), the
    # administrator managing data access (462.3, 462.3.1). Dispatchers: the design gives
    # them the hit's outcome (DESIGN 462.7), no search: default deny. Vendors: never
    # reads (DESIGN 462.4).
    **_area("search.index search.search", {"administrator", "officer", "analyst"},
            clause="462.4, 462.7(2)-(4), DESIGN 462.4, 462.7"),
    # A read, its images and thumbnails: plate data, for the users of the database
    # (462.4), dispatchers included (they confirm a hit against its read, 462.7(7)).
    # Never vendors (DESIGN 462.4: never reads, images).
    **_area("reads.detail reads.image reads.thumb",
            {"administrator", "officer", "dispatcher", "analyst"},
            clause="462.4, 462.7(7), DESIGN 462.4"),
    # Stating or ending the purpose and case number that cover one's views of plate data
    # (462.5(4), DESIGN 462.5): whoever may see plate data (462.4); never vendors.
    **_area("purpose.form purpose.state purpose.end",
            {"administrator", "officer", "dispatcher", "analyst"},
            clause="462.5(4), 462.4, DESIGN 462.4, 462.5"),
    # A read's corrections and annotations: the accuracy duty of Civil Code 1798.90.51 falls
    # on the users of the database (462.4), who see and correct plate data; never vendors.
    **_area("corrections.read_page corrections.correct corrections.annotate",
            {"administrator", "officer", "dispatcher", "analyst"},
            clause="1798.90.51, 462.4, DESIGN 462.4"),
    # Re-verifying a hit (a later CLETS outcome with a reason): dispatch and the
    # administrator, as for the first outcome (462.7(7), DESIGN 462.7, 462.3.1).
    **_area("corrections.reverify", {"administrator", "dispatcher"},
            clause="462.7(7), DESIGN 462.7, 462.3.1"),
    # Hits: seen by the database's users (462.4, 462.7); never vendors (DESIGN 462.4).
    **_area("hits.index hits.queue hits.detail",
            {"administrator", "officer", "dispatcher", "analyst"},
            clause="462.4, 462.7, DESIGN 462.4"),
    # Recording a hit's CLETS verification: dispatch records the outcome (462.7(7),
    # DESIGN 462.7); the administrator manages the program (462.3.1).
    **_area("hits.verify", {"administrator", "dispatcher"},
            clause="462.7(7), DESIGN 462.7, 462.3.1"),
    # One alert (a plate's hits of one passage, with its images): seen by those who see
    # hits (462.4, 462.7); never vendors (DESIGN 462.4: never hits or images).
    **_area("hits.alert", {"administrator", "officer", "dispatcher", "analyst"},
            clause="462.4, 462.7, DESIGN 462.4"),
    # Acknowledging, verifying through CLETS or dismissing an alert: dispatch, who records
    # the outcome (462.7(7), DESIGN 462.7), and the administrator (462.3.1).
    **_area("hits.acknowledge hits.verify_alert hits.dismiss", {"administrator", "dispatcher"},
            clause="462.7(7), DESIGN 462.7, 462.3.1"),
    # Hotlists: read by the database's users (462.4); never vendors (DESIGN 462.4).
    **_area("hotlists.index hotlists.entries",
            {"administrator", "officer", "dispatcher", "analyst"},
            clause="462.4, DESIGN 462.4"),
    # Entering lists and partial plates from major incidents (462.7(4), DESIGN 462.3):
    # analysts and the administrator; officers and dispatchers are not named: default deny.
    # Ending or changing an entry of a hand-entered list, and disabling a list, are the same
    # management (a list is enabled again by the administrator: the use case checks).
    **_area("hotlists.upload hotlists.partial hotlists.change_entry hotlists.set_enabled",
            {"administrator", "analyst"},
            clause="462.7(4), 462.3.1, DESIGN 462.3, 462.7.1(2)(3)"),
    # A list's kept versions and a plate's hotlist history (who listed it, since when, on
    # whose word): hotlist data, read by the database's users (462.4, 462.5); never vendors.
    **_area("hotlists.version hotlists.history",
            {"administrator", "officer", "dispatcher", "analyst"},
            clause="462.4, 462.5, DESIGN 462.4"),
    # Putting a list entered by hand in force, and approving a match of a listed plate
    # against past reads: the ALPR Administrator, who manages the program and its data
    # (462.3.1), guarding against harassment and personal use (462.7.1(2)(3)).
    **_area("hotlists.approvals hotlists.decide hotlists.historical_decide", ADMIN,
            clause="462.3.1, 462.7.1(2)(3)"),
    # Matching a listed plate against past reads is a search: those who search (462.4,
    # 462.7(2)-(4)); dispatchers and vendors do not search (DESIGN 462.4, 462.7).
    **_area("hotlists.historical_list hotlists.historical_request hotlists.historical_run",
            {"administrator", "officer", "analyst"},
            clause="462.4, 462.7(2)-(4), 462.7.1(2)(3), DESIGN 462.4, 462.7"),
    # Cameras, their health: every authorised user; vendors see health only (DESIGN 462.4).
    **_area("cameras.index cameras.detail", EVERYONE, clause="462.4, DESIGN 462.4"),
    # Installing and maintaining cameras: the administrator (462.3) and the vendors
    # who provide maintenance and service (462.4).
    # Editing, disabling and deleting a site are the same installation work.
    **_area("cameras.add_site cameras.discover cameras.adopt cameras.edit "
            "cameras.edit_site cameras.site_enabled cameras.delete_site",
            {"administrator", "vendor"}, clause="462.3, 462.4"),
    # Privacy masks and zones, and the camera still the mask editor shows: the
    # administrator (462.7.1(1), 462.3.1). Vendors never masks, never images (DESIGN
    # 462.4, 462.7.1(1)); the still shows every plate in public view.
    **_area("cameras.regions cameras.save_regions cameras.snapshot", ADMIN,
            clause="462.7.1(1), 462.3.1, DESIGN 462.4, 462.7.1(1)"),
    # Requests to remove, shrink or retype a mask, their approval by a second
    # administrator, refusal, withdrawal, or a court order carrying them out: the
    # administrator (462.7.1(1) "except ... pursuant to a court order", 462.3.1).
    **_area("cameras.mask_requests cameras.approve_mask_change cameras.refuse_mask_change "
            "cameras.withdraw_mask_change cameras.mask_change_court_order", ADMIN,
            clause="462.7.1(1), 462.3.1, DESIGN 462.7.1(1)"),
    # Live video shows plates: the administrator and officers operating the equipment
    # (462.7(5)); never vendors while plates are not blurred in it (DESIGN 462.4; the
    # live view burns in masks only). Dispatchers and analysts are not named: default deny.
    **_area("live.view live.offer", {"administrator", "officer"},
            clause="462.7(5), 462.3.1, DESIGN 462.4"),
    # The access log and its viewer: established and audited by the administrator
    # (462.5, 462.6).
    **_area("audit.index", ADMIN, clause="462.5, 462.6"),
    # Users, training records, policy publication: the administrator alone (462.3.1,
    # 462.4.1, 462.9, DESIGN 462.3.1).
    **_area("users.index users.detail users.add users.enabled users.password users.role "
            "users.totp_exempt users.totp_reset users.training users.unlock users.publish "
            "users.reconfirm_page users.reconfirm users.reinstate",
            ADMIN, clause="462.3.1, 462.4.1, 462.9, DESIGN 462.3.1"),
    # API clients: created, listed and revoked by the ALPR Administrator, who manages access
    # to the system and its users (462.3.1, 462.4), and answers for each client it creates.
    **_area("clients.index clients.add clients.revoke", ADMIN,
            clause="462.3.1, 462.4, DESIGN 462.3.1"),
    # The JSON API (issue 17), by the same policy as the pages it stands beside; reached
    # with an API client's token only (walked in tests/web/api/test_api_access.py), never
    # with a session, so the session walks below expect 401 for every role.
    **_area("api_v1.get_status", EVERYONE, clause="462.4, 462.4.1"),
    **_area("api_v1.search_reads", {"administrator", "officer", "analyst"},
            clause="462.4, 462.7(2)-(4), DESIGN 462.4, 462.7"),
    **_area("api_v1.get_read api_v1.get_read_image api_v1.list_hits api_v1.get_hit",
            {"administrator", "officer", "dispatcher", "analyst"},
            clause="462.4, 462.7(7), DESIGN 462.4"),
    **_area("api_v1.verify_hit", {"administrator", "dispatcher"},
            clause="462.7(7), DESIGN 462.7, 462.3.1"),
    **_area("api_v1.list_sites api_v1.list_cameras", EVERYONE, clause="462.4, DESIGN 462.4"),
    **_area("api_v1.list_hotlists api_v1.list_versions",
            {"administrator", "officer", "dispatcher", "analyst"}, clause="462.4, 462.5"),
    **_area("api_v1.import_file api_v1.add_entry api_v1.expire_entry",
            {"administrator", "analyst"}, clause="462.3, 462.7.1(2)(3)"),
    **_area("api_v1.create_hold api_v1.list_holds api_v1.release_hold api_v1.build_package "
            "api_v1.download_package", {"administrator", "officer", "analyst"},
            clause="462.8, 462.10, 462.11(b), 462.3"),
    # Filing another agency's written request (462.12(a)); deciding it stays the
    # administrator's, in the UI (462.12(b)).
    **_area("api_v1.file_request api_v1.list_requests",
            {"administrator", "officer", "dispatcher", "analyst"}, clause="462.12(a), 462.4"),
    # The access log by program (the client-only auditor role reads it for the
    # administrator): among user roles, the administrator alone (462.5, 462.6, 462.3.1).
    **_area("api_v1.list_events api_v1.verify_chain api_v1.get_package", ADMIN,
            clause="462.5, 462.6, 462.3.1"),
    # Compliance: purges (462.8, 462.10), audits and their sign-off (462.6), court-order
    # mask lifts (462.7.1(1)), policy publication (462.9): the administrator alone
    # (DESIGN 462.3.1).
    **_area("compliance.index compliance.audits compliance.audit_export "
            "compliance.audit_review compliance.court_orders_page compliance.lift "
            "compliance.policy_page compliance.policy_upload compliance.retention_page "
            "compliance.retention_propose compliance.retention_council "
            "compliance.retention_attorney compliance.retention_purge",
            ADMIN, clause="462.3.1, 462.6, 462.7.1(1), 462.8, 462.9, DESIGN 462.3.1"),
    # The quarterly audit's random sample of searches, marked justified or not by the
    # administrator who performs the audits (462.6, DESIGN 462.6, 462.3.1).
    **_area("samples.index samples.mark", ADMIN, clause="462.6, DESIGN 462.6, 462.3.1"),
    # Sharing requests: reviewed and approved by the ALPR Administrator (462.12(b),
    # DESIGN 462.3.1).
    **_area("sharing.index sharing.enter sharing.decide sharing.fulfil", ADMIN,
            clause="462.12(b), DESIGN 462.3.1"),
    # Evidence holds and their export (data kept past retention as evidence, 462.8,
    # 462.10): investigators, i.e. officers and analysts (462.4, 462.11(b)), and the
    # administrator (462.3). Dispatchers are not named: default deny; vendors never data.
    **_area("holds.index holds.create holds.add holds.release holds.export",
            {"administrator", "officer", "analyst"},
            clause="462.8, 462.10, 462.11(b), 462.3"),
    # Downloading an evidence package: the same investigators who export it (462.10: "downloaded
    # from the server onto portable media and booked into evidence"); the use case then
    # admits the package's owner alone.
    **_area("packages.evidence_download", {"administrator", "officer", "analyst"},
            clause="462.10, 462.11(b)"),
    # A sharing package: released by the ALPR Administrator who approved it (462.12(b)-(c)).
    **_area("packages.sharing_download", ADMIN, clause="462.12(b), DESIGN 462.3.1"),
    # A quarterly audit package: the audit is the ALPR Administrator's (462.6, 462.3.1).
    **_area("packages.audit_download", ADMIN, clause="462.6, 462.3.1, DESIGN 462.3.1"),
    # A search's results as CSV: those who search (462.4, 462.7(2)-(4)); the use case then
    # admits the searcher alone, for their own search. Dispatchers and vendors do not search.
    **_area("packages.search_csv", {"administrator", "officer", "analyst"},
            clause="462.4, 462.5, 462.7(2)-(4), DESIGN 462.7"),
    # The access log as CSV: those who read the access log, the administrator (462.5, 462.6).
    **_area("packages.audit_log_csv", ADMIN, clause="462.5, 462.6"),
    # Standing flows (dispatch webhooks, MQTT): registered and changed by an administrator
    # only (DESIGN 462.12; 462.10: the Department alone decides with whom it shares).
    **_area("sinks.index sinks.register sinks.set_enabled", ADMIN,
            clause="462.10, 462.12, DESIGN 462.12"),
    # The first-run steps before go-live, the agency profile (name, time zone, logo), the
    # policy's publication and the hearing and adoption on record: the ALPR Administrator
    # manages the program (462.3.1, 462.9, DESIGN 462.3.1).
    **_area("setup.index setup.publish_policy setup.activate setup.save_profile "
            "setup.upload_logo setup.remove_logo", ADMIN,
            clause="462.3.1, 462.9, DESIGN 462.3.1"),
    # The agency's logo: the banner before login shows it; it carries no ALPR data.
    **_area("setup.logo", {ANONYMOUS, *EVERYONE}, trained=False, clause="462.5.1, 462.9(2)"),
}

# (endpoint, role): the policy refuses, the code's table allows. Each is skipped by the
# trained walk; remove it once the code is fixed. The vendor's five (masks, the
# camera still, live view) were fixed by issue 14: see the vendor test at the end.
KNOWN_DISAGREEMENTS: dict[tuple[str, str], str] = {}

# Sample values for URL arguments; a new argument name must be added here.
SAMPLE_ARGS: dict[str, Any] = {
    "username": "walk.target",
    "filename": "app.css",
    "read_uuid": "00000000-0000-4000-8000-000000000001",
    "hit_uuid": "00000000-0000-4000-8000-000000000002",
    "kind": "crop",
    "camera_id": 1,
    "site_code": "nosuchsite",
    "code": "nosuchsite",
    "list_name": "nosuchlist",
    "version_id": 1,
    "request_id": 1,
    "alert_id": 1,
    "hold_id": 1,
    "package_id": 1,
    "plate": "8XYZ999",
    "quarter": "2025Q4",
    "name": "nosuchclient",
}
API = "/api/v1/"
# Routes that end the walker's session or account state; each gets a fresh user.
ENDS_SESSION = {"auth.logout", "auth.compromised"}


def expect(endpoint: str) -> Expect:
    assert endpoint in POLICY, f"{endpoint}: classify this route against Policy 462 in POLICY"
    return POLICY[endpoint]


def policy_allows(endpoint: str, role: str, trained: bool) -> bool:
    rule = expect(endpoint)
    return role in rule.who and (trained or not rule.trained)


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """(rule, method) for every route the application serves."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda rm: (rm[0].endpoint in ENDS_SESSION, rm[0].rule, rm[1]))


def url_for_rule(app: Flask, rule: Rule) -> str:
    missing = set(rule.arguments) - set(SAMPLE_ARGS)
    assert not missing, f"{rule.rule}: add sample values for {sorted(missing)}"
    with app.test_request_context():
        from flask import url_for

        url = url_for(rule.endpoint, **{k: SAMPLE_ARGS[k] for k in rule.arguments})
    return url


def call(auth: Any, method: str, url: str) -> Any:
    if method == "GET":
        response = auth.client.get(url)
    elif method == "POST":
        response = auth.post(url, {})
    else:
        response = auth.client.open(url, method=method, headers={"X-CSRF-Token": auth.csrf()})
    response.close()  # static files stream from an open file
    return response


def test_every_route_is_classified(app: Flask) -> None:
    endpoints = {rule.endpoint for rule, _method in routes(app)}
    for rule, _method in routes(app):
        perm = permission_of(app, rule.endpoint)
        assert perm is not None, f"{rule.rule} ({rule.endpoint}) declares no permission"
        assert perm in roles.PERMISSIONS, f"{rule.rule}: unknown permission {perm}"
        expect(rule.endpoint)
    assert not set(POLICY) - endpoints, f"POLICY names no route: {sorted(set(POLICY) - endpoints)}"
    assert set(KNOWN_DISAGREEMENTS) <= {(e, r) for e in POLICY for r in ROLES}


def _code_allows(app: Flask, endpoint: str, role: str, trained: bool) -> bool:
    perm = permission_of(app, endpoint)
    return roles.allowed(perm, role) and (trained or not roles.needs_training(str(perm)))


def test_code_table_agrees_with_policy(app: Flask) -> None:
    """The code's allow table against POLICY, key by key, in one readable assertion."""
    assert set(roles.ROLES) == set(ROLES)
    found = {}
    for endpoint in sorted({rule.endpoint for rule, _m in routes(app)}):
        for role in (ANONYMOUS, *ROLES):
            for trained in (True, False):
                policy, code = (policy_allows(endpoint, role, trained),
                                _code_allows(app, endpoint, role, trained))
                if policy != code:
                    found[(endpoint, role, trained)] = (
                        f"{endpoint} {role} ({'trained' if trained else 'untrained'}): "
                        f"policy {'allows' if policy else 'refuses'}, code "
                        f"{'allows' if code else 'refuses'} [{expect(endpoint).clause}]")
    unexpected = [line for key, line in found.items()
                  if not (key[2] and key[:2] in KNOWN_DISAGREEMENTS)]
    fixed = sorted(set(KNOWN_DISAGREEMENTS) - {key[:2] for key in found if key[2]})
    assert not unexpected, "policy and code disagree:\n" + "\n".join(unexpected)
    assert not fixed, f"no longer disagree, remove from KNOWN_DISAGREEMENTS: {fixed}"


def test_anonymous(app: Flask, auth: Any) -> None:
    for rule, method in routes(app):
        url = url_for_rule(app, rule)
        response = call(auth, method, url)
        where = f"anonymous {method} {url} [{expect(rule.endpoint).clause}]"
        if policy_allows(rule.endpoint, ANONYMOUS, trained=False):
            assert response.status_code not in (401, 403), where
            assert "/login?next" not in (response.location or ""), where
        elif method == "GET" and not url.startswith(API):
            assert response.status_code == 302, where
            assert response.location.startswith("/login?next="), where
        else:
            assert response.status_code == 401, where


def _walker(auth: Any, engine: Engine, role: str, name: str, trained: bool) -> None:
    user = auth.make_user(name, role, trained=trained, enrolled=False)
    account_repo.set_user_flags(engine, int(user["id"]), totp_exempt=True)
    response = auth.login(name)
    assert response.status_code == 302, f"{name} could not sign in"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("trained", [True, False], ids=["trained", "untrained"])
def test_role_walk(app: Flask, auth: Any, engine: Engine, role: str, trained: bool) -> None:
    auth.make_user("walk.target", "officer")
    _walker(auth, engine, role, "walk.user", trained)
    serial = 0
    expected_denials = 0
    for rule, method in routes(app):
        if rule.endpoint in ENDS_SESSION:
            serial += 1
            auth.client = app.test_client()
            _walker(auth, engine, role, f"walk.user{serial}", trained)
        url = url_for_rule(app, rule)
        response = call(auth, method, url)
        where = (f"{role} ({'trained' if trained else 'untrained'}) {method} {url} "
                 f"[{expect(rule.endpoint).clause}]")
        if url.startswith(API) and not policy_allows(rule.endpoint, ANONYMOUS, False):
            # A session is no credential for the API (its token walk is elsewhere).
            assert response.status_code == 401, where
        elif trained and (rule.endpoint, role) in KNOWN_DISAGREEMENTS:
            # Checked by test_known_disagreement; count what the code did.
            expected_denials += response.status_code == 403
        elif policy_allows(rule.endpoint, role, trained):
            assert response.status_code not in (401, 403), where
            assert "/login?next" not in (response.location or ""), where
        else:
            assert response.status_code == 403, where
            expected_denials += 1
    denied = audit_repo.search(engine, action="access.denied", limit=1000)
    assert all(row["outcome"] == "denied" for row in denied)
    assert len(denied) == expected_denials


# What a vendor may never reach although it maintains the cameras (DESIGN 462.4):
# masks (462.7.1(1)), a camera's still and live video (both show every plate in view).
VENDOR_NEVER = ("cameras.regions", "cameras.save_regions", "cameras.snapshot", "live.view",
                "live.offer")


def test_vendor_maintains_cameras_but_never_sees_plates_or_masks(
        app: Flask, auth: Any, engine: Engine) -> None:
    """The policy's answers for a vendor, route by route, whatever the role table says."""
    _walker(auth, engine, "vendor", "walk.vendor", trained=True)
    checked = set()
    for rule, method in routes(app):
        url = url_for_rule(app, rule)
        if rule.endpoint in VENDOR_NEVER:
            response = call(auth, method, url)
            assert response.status_code == 403, f"vendor {method} {url}"
            checked.add(rule.endpoint)
        elif rule.endpoint in ("cameras.index", "cameras.detail", "cameras.edit"):
            response = call(auth, method, url)
            assert response.status_code not in (401, 403), f"vendor {method} {url}"
            checked.add(rule.endpoint)
    assert checked == {*VENDOR_NEVER, "cameras.index", "cameras.detail", "cameras.edit"}
    denied = audit_repo.search(engine, action="access.denied", limit=100)
    assert len(denied) == len(VENDOR_NEVER)
