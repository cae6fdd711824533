"""Sites after they are added: edit, disable and enable, delete (issue 16, point 7).

A site is where cameras stand; reads name their camera, and a camera its site, so a
site with a camera is never deleted: it is disabled (its cameras stop running,
nothing stored is touched) and can be enabled again. A site without cameras can be
deleted. Each change needs ``cameras.manage`` and is audited with what it was before.
"""

from __future__ import annotations

from collections.abc import Mapping

from controller.accounts import Caller, authorize, record
from controller.errors import ValidationError
from controller.operations.cameras import coordinate
from controller.store import Engine
from controller.store import sites as site_repo

MANAGE = "cameras.manage"
NAME_LIMIT = 200
ADDRESS_LIMIT = 300


def edit_site(engine: Engine, caller: Caller, code: str, form: Mapping[str, str]) -> None:
    """Change a site's name, address and position (``cameras.manage``); every bad field
    is named, and the audit entry has the values before and after."""
    authorize(engine, caller, MANAGE, "site.edit", data={"site": code})
    site = site_repo.get_site(engine, code)
    name = form.get("name", "").strip()
    if not name or len(name) > NAME_LIMIT:
        raise ValidationError("name", f"a name of 1-{NAME_LIMIT} characters is required")
    address = form.get("address", "").strip()
    if len(address) > ADDRESS_LIMIT:
        raise ValidationError("address", f"at most {ADDRESS_LIMIT} characters")
    values = {"name": name, "address": address or None,
              "latitude": coordinate(dict(form), "latitude", 90),
              "longitude": coordinate(dict(form), "longitude", 180)}
    site_repo.update_site(engine, code, values)
    record(engine, caller, "site.edit", data={
        "site": code, "before": {k: site[k] for k in values},  # type: ignore[literal-required]
        "after": values})


def set_site_enabled(engine: Engine, caller: Caller, code: str, enabled: bool) -> None:
    """Disable a site (its cameras stop running; reads and images stay) or enable it
    again (``cameras.manage``, audited)."""
    action = "site.enable" if enabled else "site.disable"
    authorize(engine, caller, MANAGE, action, data={"site": code})
    site = site_repo.get_site(engine, code)
    site_repo.update_site(engine, code, {"enabled": enabled})
    cameras = [c["name"] for c in site_repo.list_cameras(engine, site_codes=(code,))]
    record(engine, caller, action, data={"site": code, "was_enabled": site["enabled"],
                                         "cameras": cameras})


def delete_site(engine: Engine, caller: Caller, code: str) -> None:
    """Delete a site that has no camera (``cameras.manage``, audited); a site with
    cameras is refused, naming what to do instead (disable it)."""
    authorize(engine, caller, MANAGE, "site.delete", data={"site": code})
    site = site_repo.get_site(engine, code)
    if not site_repo.delete_site(engine, code):
        record(engine, caller, "site.delete", outcome="denied",
               data={"site": code, "reason": "cameras stand at the site"})
        raise ValidationError("site", f"site '{code}' has cameras, and their reads name it: "
                                      "disable the site instead")
    record(engine, caller, "site.delete", data={
        "site": code, "name": site["name"], "latitude": site["latitude"],
        "longitude": site["longitude"]})
