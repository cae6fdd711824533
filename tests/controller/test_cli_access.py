"""Every ``sightline`` command, by every role, untrained, and without a login, against Policy 462.

The expected answers come from ``POLICY`` below, written from the policy text
(/work/shared/policy/alpr-policy-462.txt) and DESIGN.md section 2, like
tests/web/test_web_access.py does for routes, never from
``controller/accounts/roles.py``. A command missing from ``POLICY`` (or an entry
naming no command) fails the test: a new command is classified before it ships.
A refusal must exit 3 and leave a ``denied`` entry under the user's name; a
command without a login must exit 4 and tell the user to run ``sightline login``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import click
import pytest
from cli_runner import sightline, signed_in

from controller.cli import EXIT_NOT_SIGNED_IN, EXIT_REFUSED, main
from controller.store import audit as audit_repo
from controller.store.engine import make_engine

ROLES = ("administrator", "officer", "dispatcher", "analyst", "vendor")
ADMIN = frozenset({"administrator"})
EVERYONE = frozenset(ROLES)
INVESTIGATORS = frozenset({"administrator", "officer", "analyst"})
INSTALLERS = frozenset({"administrator", "vendor"})
# Everyone the database's plate data is for; never vendors (462.4, DESIGN 462.4).
DATA_USERS = frozenset({"administrator", "officer", "dispatcher", "analyst"})

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@dataclass(frozen=True)
class Expect:
    """Who may run a command, whether training is required, and the sample arguments."""

    who: frozenset[str]
    args: tuple[str, ...]
    trained: bool = True
    stdin: str = ""


# Commands that touch no Sightline data, or that must run before anyone can sign in
# (462.5.1 needs an account to exist): open, with the reason.
OPEN = {
    "db upgrade": "schema migration, before any account exists",
    "config check": "reads the settings file only",
    "bootstrap": "the first administrator, only while none exists (tested apart)",
    "login": "how one signs in", "logout": "ends one's own sign-in",
    "demo": "creates its own world and data directory",
    "run": "the service itself; its users sign in on the web",
    "camera probe": "talks to one camera, no database", "camera watch": "stream statistics",
    "discover": "ONVIF discovery on the network, no database",
    "eval": "scores the recogniser on a folder of images, no database",
}

POLICY: dict[str, Expect] = {
    # Why one looks at plate data, stated once per piece of work (462.5): those who may see
    # plate data. First in the walk, so the data commands below run inside a window; ended
    # at the end of it.
    "purpose state": Expect(DATA_USERS, ("purpose", "state", "--purpose",
                                         "Stolen vehicle investigation", "--case-number",
                                         "26-1", "--attest")),
    "purpose show": Expect(DATA_USERS, ("purpose", "show")),
    # Users and training records: the ALPR Administrator alone (462.3.1, 462.4.1).
    "user add": Expect(ADMIN, ("user", "add", "walk.new", "--role", "officer",
                               "--password-stdin"), stdin="Tr1cky!Gnu-7\n"),
    "user list": Expect(ADMIN, ("user", "list")),
    # API clients act under a role for a program; the ALPR Administrator, who manages access
    # to the system (462.3.1), creates, lists and revokes them and answers for them.
    "client add": Expect(ADMIN, ("client", "add", "walk-{role}", "--role", "officer",
                                 "--expires", (date.today() + timedelta(days=30)).isoformat())),
    "client list": Expect(ADMIN, ("client", "list")),
    "client revoke": Expect(ADMIN, ("client", "revoke", "nosuchclient")),
    "user disable": Expect(ADMIN, ("user", "disable", "walk.target")),
    "user unlock": Expect(ADMIN, ("user", "unlock", "walk.target")),
    "user training": Expect(ADMIN, ("user", "training", "walk.target", "--course", "ALPR",
                                    "--completed-on", "2026-01-05", "--trainer", "Sgt. T")),
    # The access log, its anchors and the quarterly audit: the administrator (462.5, 462.6).
    "audit verify": Expect(ADMIN, ("audit", "verify")),
    "audit anchor": Expect(ADMIN, ("audit", "anchor")),
    "audit export": Expect(ADMIN, ("audit", "export", "--quarter", "2025Q1", "--out",
                                   "{tmp}/audit")),
    # Purges need the Council and the Attorney, recorded by the administrator (462.8, 462.3.1).
    "retention propose": Expect(ADMIN, ("retention", "propose")),
    "retention approve": Expect(ADMIN, ("retention", "approve", "999", "--council",
                                        "2026-01-05:R-1")),
    "retention purge": Expect(ADMIN, ("retention", "purge", "999")),
    # Masks are lifted only under a court order, by the administrator (462.7.1(1), 462.3.1).
    "mask lift": Expect(ADMIN, ("mask", "lift", "999", "--order", "CR-1", "--court", "C",
                                "--expires", "2099-01-01")),
    "mask restore-due": Expect(ADMIN, ("mask", "restore-due")),
    # Removing, shrinking or retyping a mask: a second administrator's approval or a court
    # order, recorded by an administrator (462.7.1(1), 462.3.1); vendors never (DESIGN 462.4).
    "mask requests": Expect(ADMIN, ("mask", "requests")),
    "mask approve": Expect(ADMIN, ("mask", "approve", "999")),
    "mask refuse": Expect(ADMIN, ("mask", "refuse", "999", "--reason", "no")),
    "mask withdraw": Expect(ADMIN, ("mask", "withdraw", "999")),
    "mask court-order": Expect(ADMIN, ("mask", "court-order", "999", "--order", "CR-1",
                                       "--court", "C")),
    # The hearing and adoption that activate recording: the administrator (462.9, 462.3.1);
    # whether recording is on is a program fact every authorised user may know (462.9).
    "program activate": Expect(ADMIN, ("program", "activate", "--hearing", "2026-01-05",
                                       "--adopted", "2026-01-06", "--resolution", "R-1")),
    "program status": Expect(EVERYONE, ("program", "status")),
    # Evidence holds and their export: investigators and the administrator (462.8, 462.10,
    # 462.11(b), 462.3). Dispatchers are not named: default deny; vendors never data.
    "hold create": Expect(INVESTIGATORS, ("hold", "create", "--case", "26-1", "--reason",
                                          "walk", "00000000-0000-4000-8000-000000000001")),
    "hold list": Expect(INVESTIGATORS, ("hold", "list")),
    "hold export": Expect(INVESTIGATORS, ("hold", "export", "999", "--out", "{tmp}/ev")),
    # Entering hotlists: analysts and the administrator (462.7(4), 462.3.1).
    "hotlist import": Expect(frozenset({"administrator", "analyst"}),
                             ("hotlist", "import", "{tmp}/list.csv", "--list", "walk")),
    # Official feeds: what they are and how their last fetch went are hotlist matters for
    # the database's users (462.4; rejected lines may quote a record), never vendors;
    # fetching one changes a hotlist: those who enter hotlists (462.7(4), 462.3.1).
    "feed list": Expect(DATA_USERS, ("feed", "list")),
    "feed status": Expect(DATA_USERS, ("feed", "status")),
    "feed fetch": Expect(frozenset({"administrator", "analyst"}),
                         ("feed", "fetch", "nosuchfeed")),
    # Approving hand-entered lists: a second administrator (462.7.1(2)-(3), 462.3.1).
    "hotlist pending": Expect(ADMIN, ("hotlist", "pending")),
    "hotlist approve": Expect(ADMIN, ("hotlist", "approve", "999")),
    "hotlist reject": Expect(ADMIN, ("hotlist", "reject", "999", "--note", "no")),
    # Who watched a plate, since when, on whose word: the database's users (462.4, 462.5);
    # never vendors (DESIGN 462.4).
    "hotlist history": Expect(DATA_USERS, ("hotlist", "history", "7ABC123")),
    # Matching a listed plate against past reads is a search (462.5(4)): those who search,
    # on a second administrator's approval (462.7.1(3)).
    "hotlist historical request": Expect(INVESTIGATORS, (
        "hotlist", "historical", "request", "999", "--purpose",
        "Stolen vehicle investigation", "--case-number", "26-1")),
    "hotlist historical approve": Expect(ADMIN, ("hotlist", "historical", "approve", "999")),
    "hotlist historical run": Expect(INVESTIGATORS, ("hotlist", "historical", "run", "999")),
    # Where hits leave and which agency receives them: the administrator (462.12, 462.3.1;
    # Civil Code 1798.90.51(a): sharing only with public agencies, recorded).
    "sink list": Expect(ADMIN, ("sink", "list")),
    "sink add": Expect(ADMIN, ("sink", "add", "--name", "walk-{role}", "--kind", "webhook",
                               "--agency", "Walk PD", "--ori", "CA0000000", "--contact", "c",
                               "--url", "http://127.0.0.1:9/hits")),
    "sink disable": Expect(ADMIN, ("sink", "disable", "nosuchsink")),
    "sink enable": Expect(ADMIN, ("sink", "enable", "nosuchsink")),
    # Installing and maintaining cameras and sites: the administrator (462.3) and the
    # vendors who service them (462.4).
    "site add": Expect(INSTALLERS, ("site", "add", "walk-{role}", "--name", "Walk")),
    "site cabinet": Expect(INSTALLERS, ("site", "cabinet", "nosuchsite", "{tmp}/cab.yaml")),
    "camera adopt": Expect(INSTALLERS, ("camera", "adopt", "127.0.0.1:9", "--site", "nosite",
                                        "--name", "c", "--username", "u", "--password", "p")),
    "import": Expect(INSTALLERS, ("import", "{tmp}/provision.yaml")),
    # Cameras and sites, their health: every authorised user (462.4).
    "site list": Expect(EVERYONE, ("site", "list")),
    # Signed in, before training: who one is, the policy to read and acknowledge (462.4.1).
    "whoami": Expect(EVERYONE, ("whoami",), trained=False),
    # Changing one's own password, a temporary one included (462.5.2(2)).
    "password": Expect(EVERYONE, ("password", "--password-stdin"), trained=False,
                       stdin="not-the-password\nTr1cky!Gnu-8\n"),
    "policy show": Expect(EVERYONE, ("policy", "show"), trained=False),
    "policy acknowledge": Expect(EVERYONE, ("policy", "acknowledge", "v9"), trained=False),
    "purpose end": Expect(DATA_USERS, ("purpose", "end")),
}


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command the ``sightline`` tree offers, as typed ("user add")."""
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += leaf_commands(command, (*prefix, name))
        else:
            found.append(" ".join((*prefix, name)))
    return found


def test_every_command_is_classified_against_the_policy() -> None:
    commands = set(leaf_commands(main))
    assert commands - set(POLICY) - set(OPEN) == set(), "classify these in POLICY or OPEN"
    assert set(POLICY) | set(OPEN) == commands, "entries naming no command"
    assert not set(POLICY) & set(OPEN)


def _files(tmp: Path) -> None:
    (tmp / "list.csv").write_text("PLATE;STATE;TYPE\n7ABC123;CA;STOLEN\n")
    (tmp / "cab.yaml").write_text("host: 127.0.0.1\nport: 70000\npoints: {}\n")
    (tmp / "provision.yaml").write_text("sites: []\n")


def _args(rule: Expect, tmp: Path, role: str) -> list[str]:
    return [a.format(tmp=tmp, role=role) for a in rule.args]


def _denied(env: dict[str, str], actor: str) -> int:
    engine = make_engine(env["SIGHTLINE_DATABASE_URL"], pool_size=1)
    try:
        return sum(1 for r in audit_repo.search(engine, actor=actor, limit=10_000)
                   if r["outcome"] == "denied")
    finally:
        engine.dispose()


def _run(env: dict[str, str], rule: Expect, tmp: Path, role: str) -> tuple[int, str]:
    result = sightline(env, *_args(rule, tmp, role), stdin=rule.stdin)
    return result.exit_code, result.stderr


def test_every_data_command_refuses_without_a_login(cli_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    assert sightline(cli_env, "db", "upgrade").exit_code == 0
    _files(tmp_path)
    for name, rule in POLICY.items():
        code, err = _run(cli_env, rule, tmp_path, "anonymous")
        assert code == EXIT_NOT_SIGNED_IN, f"{name}: {code} {err}"
        assert "sightline login" in err, name


def test_every_command_by_every_role_and_untrained(cli_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    _files(tmp_path)
    envs = {role: signed_in(cli_env, f"walk.{role}", role) for role in ROLES}
    # An untrained administrator: every permission, no training (462.4.1).
    envs["untrained"] = signed_in(cli_env, "walk.untrained", "administrator", trained=False)
    signed_in(cli_env, "walk.target", "officer")
    wrong = []
    for name, rule in POLICY.items():
        for who, env in envs.items():
            role = "administrator" if who == "untrained" else who
            may = role in rule.who and (who != "untrained" or not rule.trained)
            before = _denied(env, f"walk.{who}")
            code, err = _run(env, rule, tmp_path, who)
            refused = code == EXIT_REFUSED
            audited = _denied(env, f"walk.{who}") > before
            if may and (refused or code == EXIT_NOT_SIGNED_IN):
                wrong.append(f"{name} by {who}: refused ({err.strip()})")
            elif not may and not (refused and audited and err.startswith("refused:")):
                wrong.append(f"{name} by {who}: exit {code}, denied audited {audited}: "
                             f"{err.strip()[:200]}")
    assert wrong == []
    # The data commands ran inside the purpose window the walk stated, and name it (462.5).
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"], pool_size=1)
    try:
        for role in DATA_USERS:
            (seen,) = [r for r in audit_repo.search(engine, actor=f"walk.{role}",
                                                    action="hotlist.history")
                       if r["outcome"] == "allowed"]
            assert (seen["purpose"], seen["case_number"]) == (
                "Stolen vehicle investigation", "26-1"), role
    finally:
        engine.dispose()


def test_open_commands_need_no_login(cli_env: dict[str, str]) -> None:
    assert sightline(cli_env, "db", "upgrade").exit_code == 0
    checked = sightline(cli_env, "config", "check")
    assert checked.exit_code == 0 and checked.stdout.startswith("OK:")
    assert sightline(cli_env, "logout").exit_code == 0
