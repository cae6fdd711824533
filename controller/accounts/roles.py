"""Who may do what (policy 462.3.1, 462.4): the one allow table, default deny.

Every web route names exactly one permission below; a route without one, a
permission missing from this table, or a role missing from a permission's set
is refused. ``vendor`` maintains cameras and sees their health only: it never
reaches reads, images (a camera still shows every plate in view), live video,
privacy masks, hotlists, hits, the audit log or users.
"""

from __future__ import annotations

from typing import Final

ANONYMOUS: Final = "anonymous"
ROLES: Final = ("administrator", "officer", "dispatcher", "analyst", "vendor")
# Roles only an API client may hold, never a user (the users table refuses them).
# ``auditor`` is a program that reads the access log for the ALPR Administrator, who
# performs the quarterly audits (462.6) and establishes the log (462.5): it queries the
# log, verifies the chain and fetches a closed quarter's package. The review and its
# sign-off stay the administrator's, a person, in the UI (462.3.1, 462.6).
AUDITOR: Final = "auditor"
CLIENT_ONLY_ROLES: Final = (AUDITOR,)

_ALL = frozenset(ROLES)
_DATA = frozenset({"administrator", "officer", "dispatcher", "analyst"})

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    # No login: the banner and login form, static files, health and metrics.
    "public": frozenset({ANONYMOUS, *ROLES}),
    # Signed in, even without current training: the page saying what is missing,
    # second-factor enrolment, password change, compromise report, logout.
    "account": _ALL,
    # Signed in and trained: the start page (its tiles follow the role).
    "home": _ALL | {AUDITOR},
    "search": frozenset({"administrator", "officer", "analyst"}),
    # Stating or ending the purpose window that covers one's views of plate data (462.5).
    # The auditor states one too: the access log it reads names plates (462.5).
    "purpose": _DATA | {AUDITOR},
    "reads.view": _DATA,
    # Correcting a misread plate or annotating a read (Civil Code 1798.90.51: accuracy).
    "reads.correct": _DATA,
    "hits.view": _DATA,
    "hits.verify": frozenset({"administrator", "dispatcher"}),
    "hotlists.view": _DATA,
    "hotlists.manage": frozenset({"administrator", "analyst"}),
    # Putting a list entered by hand in force, and approving a match against past reads
    # (462.7.1(2)(3)): an administrator other than the one who asked.
    "hotlists.approve": frozenset({"administrator"}),
    "cameras.view": _ALL,
    # Sites, discovery, adoption, camera edits: installing and maintaining (462.4).
    "cameras.manage": frozenset({"administrator", "vendor"}),
    # Privacy masks and zones, their change requests and approvals (462.7.1(1)).
    "cameras.masks": frozenset({"administrator"}),
    # A camera's still (unmasked outside the masks: plates in view) for the mask editor.
    "cameras.image": frozenset({"administrator"}),
    # Live video shows plates; the live view burns in masks only, so no vendor.
    "live.view": frozenset({"administrator", "officer"}),
    "audit.view": frozenset({"administrator"}),
    # Reading the access log by program for the quarterly audit (462.5, 462.6): query it,
    # verify the chain, fetch (building if none) a closed quarter's package.
    "audit.read": frozenset({"administrator", AUDITOR}),
    "users.manage": frozenset({"administrator"}),
    # Purges, sharing, audit reviews, court orders, policy publication (462.3.1).
    "compliance.manage": frozenset({"administrator"}),
    # Filing another agency's written request for ALPR data (462.12(a)): recorded, never
    # approved, by filing; review and approval stay the administrator's (462.12(b)). Any
    # member who receives such a request may file it; vendors never touch data (462.4).
    "sharing.request": _DATA,
    "holds.manage": frozenset({"administrator", "officer", "analyst"}),
    # API clients: created, listed and revoked by an administrator, who owns them (462.3.1).
    "clients.manage": frozenset({"administrator"}),
    # The agency profile (name, time zone, logo) and the first-run steps (462.3.1).
    "agency.manage": frozenset({"administrator"}),
}

# Permissions a signed-in user reaches before training and policy acknowledgement.
GATE_EXEMPT: Final = frozenset({"public", "account"})


def allowed(permission: str | None, role: str | None) -> bool:
    """Tell whether ``role`` (None: not signed in) holds ``permission``; unknown is no."""
    if permission is None:
        return False
    return (role or ANONYMOUS) in PERMISSIONS.get(permission, frozenset())


def needs_training(permission: str) -> bool:
    """Tell whether the permission is closed to users without current training (462.4.1)."""
    return permission not in GATE_EXEMPT
