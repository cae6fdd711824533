"""Web application settings: bind address and serving threads."""

from __future__ import annotations

from ipaddress import ip_address

from pydantic import Field, field_validator

from controller.settings.base import Section


class WebSettings(Section):
    """Where the admin web application listens and how it is served."""

    host: str = Field(
        default="127.0.0.1", title="Bind address",
        description="IP address the web server binds; 127.0.0.1 keeps it on this machine.",
    )
    port: int = Field(
        default=8080, ge=0, le=65535, title="Port",
        description="TCP port; 0 picks a free one (tests).",
    )
    threads: int = Field(
        default=8, ge=1, le=256, title="Worker threads",
        description="waitress worker threads serving requests.",
    )
    public_url: str | None = Field(
        default=None, title="Public URL",
        description="Base URL that links sent to dispatch point at; defaults to http://host:port.",
    )
    secure_cookies: bool = Field(
        default=False, title="Secure cookies",
        description="Mark session cookies Secure (set true behind HTTPS).",
    )

    live_connect_seconds: float = Field(
        default=10.0, gt=0, le=120, title="Live view connect deadline",
        description="Seconds an answered live-view offer may take to connect before its "
                    "viewer slot is freed.",
    )

    @field_validator("host")
    @classmethod
    def _host_is_ip(cls, value: str) -> str:
        ip_address(value)
        return value

    def base_url(self) -> str:
        """Return the URL under which the web application is reached."""
        return self.public_url or f"http://{self.host}:{self.port}"
