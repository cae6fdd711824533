"""Compose the controller with the web application (the command's job, DESIGN.md section 4)."""

from __future__ import annotations

from controller.app import WebFactory


def web_factory() -> WebFactory:
    """Return the factory that builds the waitress-served Flask application."""
    from web.server import make_web_service

    return make_web_service
