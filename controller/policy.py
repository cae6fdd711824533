"""The ALPR policy's rules as pure functions: no I/O, no clock, no database.

Callers pass the facts in (settings, the current time, stored hashes) and get a
decision or a list of reasons back, so every rule is testable on its own.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

from controller.settings import SecuritySettings

ROLES = ("administrator", "officer", "dispatcher", "analyst", "vendor")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
# Generic or shared account names are refused: one named account per person (462.5.1).
GENERIC_USERNAMES = frozenset(
    {"admin", "administrator", "root", "user", "guest", "test", "demo", "shared", "patrol",
     "dispatch", "dispatcher", "officer", "analyst", "vendor", "alpr", "sightline", "operator"}
)


@lru_cache(maxsize=1)
def banned_passwords() -> frozenset[str]:
    """Return the shipped banned-password list (lower case)."""
    text = resources.files("controller").joinpath("data/banned-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def check_username(username: str) -> list[str]:
    """Return the reasons a username is not acceptable (empty when it is)."""
    if not USERNAME.match(username):
        return ["username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter"]
    if username in GENERIC_USERNAMES:
        return [f"'{username}' is a generic account name; every person needs a named "
                "account (policy 462.5.1)"]
    return []


# NIST SP 800-63B 5.1.1.2: refuse repetitive passwords ("aaaaaaaa"), whatever the length.
MIN_DISTINCT_CHARACTERS = 5


def _strip_tail(text: str) -> str:
    # "Password123!" is "password" with digits and symbols added at the end.
    return re.sub(r"[\d\W_]+$", "", text)


def check_password(password: str, username: str, rules: SecuritySettings) -> list[str]:
    """Return every CJIS / NIST 800-63B password rule ``password`` breaks (empty when it passes).

    Every password, a long passphrase too: at least ``rules.password_min_length``
    characters, not on the banned list (also with trailing digits and symbols
    removed, or typed several times over), not containing the username, and at
    least ``MIN_DISTINCT_CHARACTERS`` different characters. There are no
    character-class rules, as NIST advises.
    """
    problems: list[str] = []
    if len(password) < rules.password_min_length:
        problems.append(
            f"password is shorter than {rules.password_min_length} characters "
            f"(or use a passphrase of {rules.passphrase_length} or more)"
        )
    lowered = password.lower()
    # "passwordpassword..." is a banned word however many times it is typed.
    period = (lowered + lowered).find(lowered, 1)
    unit = lowered[:period] if period < len(lowered) else lowered
    banned = banned_passwords()
    if any(text in banned for text in {lowered, unit} | {_strip_tail(lowered), _strip_tail(unit)}
           if text):
        problems.append("password is on the banned-password list (too common)")
    if username and username.lower() in lowered:
        problems.append("password contains the username")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        problems.append(f"password has too few different characters: use at least "
                        f"{MIN_DISTINCT_CHARACTERS} (not 'aaaaaaaa')")
    return problems


def check_role(role: str) -> list[str]:
    """Return the reasons a role name is not acceptable."""
    if role not in ROLES:
        return [f"role must be one of {', '.join(ROLES)}"]
    return []


def training_current(completed_on: date | None, today: date, valid_days: int) -> bool:
    """Tell whether training completed on ``completed_on`` is still current (462.4.1)."""
    if completed_on is None:
        return False
    return completed_on <= today < completed_on + timedelta(days=valid_days)


def retention_cutoff(today: date, retention_days: int, policy_minimum: int) -> date:
    """Return the first date whose reads are still inside retention (462.8)."""
    if retention_days < policy_minimum:
        raise ValueError(f"retention of {retention_days} days is below the policy's "
                         f"{policy_minimum}")
    return today - timedelta(days=retention_days)
