"""Web application settings: bind address, serving threads, TLS and a trusted proxy."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path

from pydantic import Field, field_validator, model_validator

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
        description="Mark session cookies Secure (set true behind HTTPS; always on with "
                    "tls_certificate).",
    )
    tls_certificate: Path | None = Field(
        default=None, title="TLS certificate",
        description="PEM certificate chain; with tls_key the web server speaks HTTPS itself.",
    )
    tls_key: Path | None = Field(
        default=None, title="TLS private key",
        description="PEM private key of tls_certificate (keep it owner-only).",
    )
    trusted_proxy: list[str] = Field(
        default_factory=list, title="Trusted reverse proxies",
        description="Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto "
                    "are believed; from any other peer those headers are dropped.",
    )
    hsts_seconds: int = Field(
        default=31_536_000, ge=0, le=63_072_000, title="HSTS max-age",
        description="Strict-Transport-Security max-age sent on HTTPS responses; 0 sends none.",
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

    @field_validator("trusted_proxy", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # One proxy is the common case; let it be written without a list.
        return [value] if isinstance(value, str) else value

    @field_validator("trusted_proxy")
    @classmethod
    def _proxies_are_ips(cls, value: list[str]) -> list[str]:
        # An IP each: a name would be resolved at request time, and "*" would trust
        # anyone to claim any address in the audit log.
        return [str(ip_address(item)) for item in value]

    @model_validator(mode="after")
    def _certificate_with_key(self) -> WebSettings:
        verify_tls_pair(self.tls_certificate, self.tls_key)
        return self

    @property
    def tls(self) -> bool:
        """Whether the web server serves HTTPS itself."""
        return self.tls_certificate is not None

    def base_url(self) -> str:
        """Return the URL under which the web application is reached."""
        scheme = "https" if self.tls else "http"
        return self.public_url or f"{scheme}://{self.host}:{self.port}"


def verify_tls_pair(certificate: Path | None, key: Path | None) -> None:
    """A certificate needs its key and a key its certificate (files are read at start)."""
    if (certificate is None) != (key is None):
        raise ValueError("tls_certificate and tls_key are given together or not at all")
