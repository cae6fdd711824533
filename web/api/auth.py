"""Bearer-token authentication for ``/api/v1`` (462.4, 462.5): API clients only.

The HTML UI's guard (``web.security.guard``) leaves the API's requests alone: no
session cookie is read (a signed-in browser cannot call the API with its cookie,
so no cross-site request can either, which is why CSRF tokens do not apply here),
and the client's token is checked below instead. The role table and training gate
are the same: the view's ``@permission`` is checked against the client's role, and
the gate through its owner (``controller.accounts.clients``). Every call a client
makes is written to the access log as ``api.call`` under its name and its owner's.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from controller import accounts
from controller.accounts import Caller, clients, roles
from web.api.problems import problem
from web.security import client_addr, engine, permission_of, settings

SCHEME = "Bearer "


def api_caller() -> Caller:
    """The API client calling this request (set by ``authenticate``)."""
    caller: Caller = g.api_caller
    return caller


def _unauthorised(detail: str) -> Response:
    response = problem(401, "Unauthorized", detail)
    response.headers["WWW-Authenticate"] = 'Bearer realm="sightline-api"'
    return response


def _denied(caller: Caller, perm: str | None, reason: str) -> Response:
    accounts.record(engine(), caller, "access.denied", outcome="denied",
                    data={"endpoint": request.endpoint, "path": request.path,
                          "method": request.method, "permission": perm, "reason": reason})
    return problem(403, "Forbidden", reason)


def authenticate() -> Response | None:
    """``before_request`` of the API: token, role, then training gate; a problem if refused."""
    g.api_caller = None
    perm = permission_of(current_app, request.endpoint)
    if perm == "public":
        return None
    given = request.headers.get("Authorization", "")
    if not given.startswith(SCHEME):
        return _unauthorised("send an API client's token as 'Authorization: Bearer <token>'")
    try:
        caller = clients.resolve(engine(), settings().security, given[len(SCHEME):],
                                 client_addr=client_addr())
    except clients.ClientRefused as exc:
        return _unauthorised(str(exc))
    g.api_caller = caller
    if perm is None or not roles.allowed(perm, caller.role):
        return _denied(caller, perm, f"the {caller.role} role may not use this operation "
                                     "(policy 462.4)")
    if roles.needs_training(perm) and not caller.gate_ok:
        return _denied(caller, perm, f"the client's owner {caller.owner} lacks current "
                                     "training or policy acknowledgement (policy 462.4.1)")
    return None


def log_call(response: Response) -> Response:
    """``after_request`` of the API: one ``api.call`` entry per call a client made (462.5)."""
    caller = g.get("api_caller")
    if caller is not None:
        accounts.record(engine(), caller, "api.call",
                        outcome="allowed" if response.status_code < 400 else "denied",
                        data={"method": request.method, "path": request.path,
                              "operation": request.endpoint, "status": response.status_code})
    return response


def install(blueprint: Blueprint) -> None:
    """Authenticate every request to ``blueprint`` and log every call."""
    blueprint.before_request(authenticate)
    blueprint.after_request(log_call)
