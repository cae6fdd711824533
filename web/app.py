"""The Flask application factory: blueprints, guards, security headers, health."""

from __future__ import annotations

import hmac
import os
import secrets
from ipaddress import ip_address
from typing import Any

from flask import Flask, Response, abort, g, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException

from controller.alerts import feeds
from controller.bridge import Bridge
from controller.compliance import admin
from controller.errors import NotFound, PolicyViolation, SightlineError, ValidationError
from controller.metrics import Metrics
from controller.search.views import GrantCache
from controller.settings import Settings
from controller.system import (
    Database,
    camera_leases,
    database_reachable,
    node_health,
    read_partitions,
)
from web import (
    audit,
    auth,
    cameras,
    clients,
    compliance,
    corrections,
    hits,
    holds,
    home,
    hotlists,
    live,
    packages,
    purpose,
    reads,
    samples,
    search,
    setup,
    sharing,
    sinks,
    transparency,
    users,
)
from web.agency import register as register_agency
from web.api import bp as api_bp
from web.api import problems as api_problems
from web.api import spec as api_spec
from web.documents import policy_html
from web.forms import error_view, label, plain, problem
from web.security import can, csrf_token, guard, permission
from web.transport import hsts_value, trust_proxies

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
BLUEPRINTS = (auth.bp, home.bp, users.bp, search.bp, reads.bp, audit.bp, hits.bp,
              hotlists.bp, cameras.bp, live.bp, compliance.bp, sharing.bp, holds.bp,
              transparency.bp, purpose.bp, sinks.bp, packages.bp, corrections.bp, samples.bp,
              clients.bp, setup.bp)


METRICS_ENV = "SIGHTLINE_METRICS_TOKEN"


def metrics_allowed(token: str | None) -> bool:
    """Whether this request may read ``/metrics``: from loopback, or with the bearer token.

    The peer is the one waitress saw, or the client a trusted proxy named
    (web.transport): a reverse proxy on this host must be in ``web.trusted_proxy``,
    or everything it forwards would look local.
    """
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer "):
        # Constant time: the comparison must not tell how much of a guess was right.
        return hmac.compare_digest(given[len("Bearer "):].encode(), token.encode())
    try:
        return ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _refused(exc: SightlineError, status: int, title: str) -> ResponseReturnValue:
    """The answer to a use case's refusal: the view's own page, JSON, or the error page."""
    view = error_view()
    if view is not None:
        response = make_response(view(exc))
        if response.status_code == 200:
            response.status_code = status
        return response
    if request.is_json:
        body = {"error": str(exc)}
        if isinstance(exc, ValidationError):
            body["field"] = exc.field
        return jsonify(body), status
    return render_template("error.html", code=status, title=title, message=plain(exc)), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if request.path == api_bp.url_prefix or request.path.startswith(f"{api_bp.url_prefix}/"):
            # No operation matched (an unknown path or method): still a problem, as the
            # API's clients expect, not the HTML error page.
            return api_problems.http_problem(exc)
        return render_template("error.html", code=code, title=exc.name,
                               message=exc.description), code

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> tuple[str, int]:
        return render_template("error.html", code=404, title="Not Found",
                               message=str(exc)), 404

    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> ResponseReturnValue:
        return _refused(exc, 400, "Bad Request")

    # AccessDenied included; the use case wrote the refusal to the audit log.
    @app.errorhandler(PolicyViolation)
    def _forbidden(exc: PolicyViolation) -> ResponseReturnValue:
        return _refused(exc, 403, "Not allowed")


def _register_health(app: Flask, settings: Settings, bridge: Bridge, engine: Database,
                     metrics: Metrics) -> None:
    @app.get("/healthz")
    @permission("public")
    def healthz() -> tuple[Response, int]:
        db_ok = database_reachable(engine)
        running = bridge.running()
        metrics.database_up.set(1 if db_ok else 0)
        body: dict[str, Any] = {
            "status": "ok" if db_ok and running else "degraded",
            "database": {"reachable": db_ok},
            "controller": {"running": running, "node": settings.node.name},
            "node": node_health(metrics.node(), settings.node.name),
        }
        held = camera_leases(engine) if db_ok else None
        if held is not None:
            body["camera_leases"] = held
        if db_ok and settings.hotlists.feeds:
            # A failed or stale feed is a warning, not a reason to take the node out of
            # service: matching goes on with the list in force.
            checks = feeds.health(engine, settings.hotlists)
            body["feeds"] = [{"name": h.feed, "state": h.state} for h in checks]
            body["warnings"] = feeds.warnings(checks)
        parts = read_partitions(engine) if db_ok else None
        if parts is not None:
            body["read_partitions"] = parts
            if parts["default_rows"]:
                # Stored, not lost: the daily job moves them into their month's partition.
                body.setdefault("warnings", []).append(
                    f"{parts['default_rows']} reads are in the default partition "
                    "(their month had no partition)")
        g.health = body
        return jsonify(body), 200 if db_ok and running else 503

    # Camera and site names, failed-login counts and cabinet doors are not public:
    # a scraper on this machine, or one holding the token from the environment.
    token = os.environ.get(METRICS_ENV) or None

    @app.get("/metrics")
    @permission("public")
    def metrics_endpoint() -> Response:
        if not metrics_allowed(token):
            if token is None:
                abort(404)  # nothing to authenticate with: the endpoint is not offered
            denied = Response("bearer token required\n", 401, mimetype="text/plain")
            denied.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return denied
        if database_reachable(engine):  # else the last value stands; database_up says why
            metrics.audit_reviews_overdue.set(len(admin.overdue_reviews(engine, settings)))
            _feed_metrics(metrics, feeds.health(engine, settings.hotlists))
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)


def _feed_metrics(metrics: Metrics, checks: list[feeds.FeedHealth]) -> None:
    """Set the feed gauges from each configured feed's health (a removed feed drops out)."""
    gauges = (metrics.feed_ok, metrics.feed_stale, metrics.feed_age, metrics.feed_entries,
              metrics.feed_rejected)
    for gauge in gauges:
        gauge.clear()
    for h in checks:
        row = h.status
        age = h.age_seconds
        metrics.feed_ok.labels(feed=h.feed).set(1 if row and row["last_outcome"] != "failed"
                                                else 0)
        metrics.feed_stale.labels(feed=h.feed).set(1 if h.stale else 0)
        metrics.feed_age.labels(feed=h.feed).set(-1 if age is None else age)
        metrics.feed_entries.labels(feed=h.feed).set(row["entries"] if row else 0)
        metrics.feed_rejected.labels(feed=h.feed).set(row["rejected"] if row else 0)


def create_app(settings: Settings, bridge: Bridge, *, engine: Database, metrics: Metrics,
               secret_key: str | None = None) -> Flask:
    """Build the web application for one controller.

    ``bridge`` is the only way into the controller loop; ``engine`` is the handle on
    the system of record the views pass to the controller's use cases.
    """
    app = api_spec.make_app(__name__)
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_hex(32),
        SESSION_COOKIE_NAME="sightline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.web.secure_cookies or settings.web.tls,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        SIGHTLINE_SETTINGS=settings,
    )
    app.extensions["sightline"] = {"bridge": bridge, "engine": engine, "metrics": metrics,
                                   "search_grants": GrantCache()}
    app.jinja_env.globals.update(csrf_token=csrf_token, can=can)
    register_agency(app)  # the agency on every page, and the ``local`` time filter
    app.jinja_env.filters["plain"] = plain
    app.jinja_env.filters["document"] = policy_html
    app.jinja_env.globals.update(problem=problem, label=label)
    app.before_request(guard)
    # Every server hands the application forwarding headers untouched; here they are
    # believed from the configured proxies only, and dropped from everyone else.
    app.wsgi_app = trust_proxies(app.wsgi_app, settings.web.trusted_proxy)  # type: ignore[method-assign,assignment]

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure and settings.web.hsts_seconds:
            # Only over HTTPS: a browser ignores it on http, and it must not pin a plain site.
            response.headers["Strict-Transport-Security"] = hsts_value(settings.web.hsts_seconds)
        endpoint = request.endpoint or "unknown"
        metrics.http_requests.labels(endpoint=endpoint, status=str(response.status_code)).inc()
        return response

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_api(api_bp)
    api_spec.document(app)  # generated once, now that every operation is registered
    _register_errors(app)
    _register_health(app, settings, bridge, engine, metrics)
    # The navigation shows only areas this build serves.
    app.config["SIGHTLINE_ENDPOINTS"] = frozenset(app.view_functions)
    return app
