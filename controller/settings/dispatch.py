"""Dispatch settings: where hits are forwarded (462.7)."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from controller.settings.base import Section


class WebhookSink(Section):
    """An HTTP endpoint that receives every hit, signed with HMAC-SHA256."""

    name: str = Field(min_length=1, title="Name", description="Name shown in health and logs.")
    url: HttpUrl = Field(title="URL", description="Endpoint receiving POSTed hits.")
    secret_env: str = Field(
        default="SIGHTLINE_WEBHOOK_SECRET", min_length=1, title="Secret variable",
        description="Environment variable holding the HMAC secret (never the file).",
    )
    timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, title="Timeout", description="Per-request timeout."
    )


class MqttSink(Section):
    """An MQTT broker receiving hits at QoS 1, one topic per site and camera."""

    host: str = Field(default="127.0.0.1", title="Broker host", description="Broker address.")
    port: int = Field(default=1883, ge=1, le=65535, title="Broker port", description="Port.")
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


class DispatchSettings(Section):
    """Sinks and retry policy of the durable dispatch outbox."""

    webhooks: tuple[WebhookSink, ...] = Field(
        default=(), title="Webhooks", description="HTTP sinks."
    )
    mqtt: MqttSink | None = Field(default=None, title="MQTT", description="Optional MQTT sink.")
    retry_for_seconds: int = Field(
        default=3600, ge=1, title="Retry window",
        description="How long a delivery is retried before it is dead-lettered with an alarm.",
    )
    backoff_cap_seconds: float = Field(
        default=60.0, gt=0, title="Backoff cap", description="Longest wait between retries."
    )
