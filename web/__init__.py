"""Sightline's admin web application (Flask), served by waitress in worker threads."""

from web.app import create_app

__all__ = ["create_app"]
