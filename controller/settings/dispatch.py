"""Dispatch settings: where hits are forwarded (462.7) and how (462.12, 1798.90.51(a)).

Sinks named here are imported into the database's sink registry when the
controller starts (``controller.alerts.sinks``); from then on the registry, which
only an administrator changes, decides where hits go. Secrets are named by
environment variable, never written here. A sink off this machine must be
encrypted in transit: webhooks ``https://``, MQTT over TLS.
"""

from __future__ import annotations

from ipaddress import ip_address

from pydantic import Field, HttpUrl, model_validator

from controller.settings.base import Section


def is_loopback(host: str | None) -> bool:
    """Tell whether ``host`` names this machine (127.0.0.0/8, ::1, localhost); no DNS."""
    if not host:
        return False
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ip_address(name).is_loopback
    except ValueError:
        return False


def verify_webhook_transport(url: str, host: str | None) -> None:
    """A webhook off this machine must use ``https://`` (ValueError otherwise)."""
    if not url.lower().startswith("https://") and not is_loopback(host):
        raise ValueError("url: a webhook off this machine must use https:// (policy 462.10, "
                         "Civil Code 1798.90.51(a)); plain http:// is for loopback only")


def verify_mqtt_transport(host: str, tls: bool) -> None:
    """An MQTT broker off this machine must be reached over TLS (ValueError otherwise)."""
    if not tls and not is_loopback(host):
        raise ValueError("tls: an MQTT broker off this machine must be reached over TLS (set tls: "
                         "true; policy 462.10, Civil Code 1798.90.51(a))")


class SinkAgency(Section):
    """The receiving public agency a sink is registered with (462.12)."""

    agency: str | None = Field(
        default=None, max_length=200, title="Receiving agency",
        description="Public agency that receives the hits (registered with the sink).",
    )
    agency_ori: str | None = Field(
        default=None, max_length=16, title="Agency ORI",
        description="ORI or other identifier of the receiving agency.",
    )
    agency_contact: str | None = Field(
        default=None, max_length=200, title="Agency contact",
        description="Who answers for the receiving end (name, phone or address).",
    )


class WebhookSink(SinkAgency):
    """An HTTP endpoint that receives every hit, signed with HMAC-SHA256."""

    name: str = Field(min_length=1, max_length=64, title="Name",
                      description="Name shown in health and logs.")
    url: HttpUrl = Field(title="URL", description="Endpoint receiving POSTed hits; https:// "
                                                  "unless it is on this machine.")
    secret_env: str = Field(
        default="SIGHTLINE_WEBHOOK_SECRET", min_length=1, max_length=128,
        title="Secret variable",
        description="Environment variable holding the HMAC secret (never the file).",
    )
    timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, title="Timeout", description="Per-request timeout."
    )

    @model_validator(mode="after")
    def _encrypted_off_loopback(self) -> WebhookSink:
        verify_webhook_transport(str(self.url), self.url.host)
        return self


class MqttSink(SinkAgency):
    """An MQTT broker receiving hits at QoS 1, one topic per site and camera."""

    host: str = Field(default="127.0.0.1", title="Broker host", description="Broker address.")
    port: int = Field(default=1883, ge=1, le=65535, title="Broker port", description="Port.")
    tls: bool = Field(default=False, title="TLS",
                      description="Connect over TLS, the broker's certificate checked against "
                                  "the system's CAs; required unless the broker is on this "
                                  "machine.")
    topic_prefix: str = Field(
        default="sightline/hits", min_length=1, title="Topic prefix",
        description="Topics are PREFIX/SITE/CAMERA.",
    )
    username_env: str | None = Field(
        default=None, title="Username variable", description="Variable holding the username."
    )
    password_env: str | None = Field(
        default=None, title="Password variable", description="Variable holding the password."
    )

    @model_validator(mode="after")
    def _encrypted_off_loopback(self) -> MqttSink:
        verify_mqtt_transport(self.host, self.tls)
        return self


class DispatchSettings(Section):
    """Sinks and retry policy of the durable dispatch outbox."""

    webhooks: tuple[WebhookSink, ...] = Field(
        default=(), title="Webhooks", description="HTTP sinks, imported into the registry."
    )
    mqtt: MqttSink | None = Field(default=None, title="MQTT",
                                  description="Optional MQTT sink, imported into the registry.")
    retry_for_seconds: int = Field(
        default=3600, ge=1, title="Retry window",
        description="How long a delivery is retried before it is dead-lettered with an alarm.",
    )
    backoff_cap_seconds: float = Field(
        default=60.0, gt=0, title="Backoff cap", description="Longest wait between retries."
    )
