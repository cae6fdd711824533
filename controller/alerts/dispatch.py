"""Forwarding hits to dispatch (policy 462.7): a durable outbox, signed webhooks, MQTT.

Every hit gets one outbox row per sink in the transaction that stores its read
(``controller.store.hits.write_reads``). The sinks are those registered and
enabled in the database (``controller.alerts.sinks``, 462.12); the dispatcher
follows the registry while it runs, so a sink an administrator disables gets no
new hits. The dispatcher task delivers due rows,
retries with exponential backoff and jitter, and after ``retry_for_seconds``
dead-letters the delivery with an alarm. Each webhook carries an HMAC-SHA256
signature over ``timestamp + "." + body`` and an idempotency key, so a receiver
can reject forgeries and drop the duplicates a retry after a lost reply causes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from controller import audit
from controller.errors import DispatchError, ValidationError
from controller.metrics import Metrics
from controller.settings import DispatchSettings, MqttSink, WebhookSink
from controller.store import Engine
from controller.store import hits as repo
from controller.store.outage import OutageLog

log = logging.getLogger("sightline.dispatch")

# A delivery being sent is claimed for this long (a sink's timeout is at most 60 s);
# a send is given up after SEND_LIMIT_SECONDS, well within the claim.
CLAIM_SECONDS = 90.0
SEND_LIMIT_SECONDS = 70.0

VERIFICATION_NOTICE = "UNVERIFIED - confirm through CLETS before enforcement action"
OUTCOMES = ("confirmed", "not_confirmed", "not_practicable")
SIGNATURE_HEADER = "X-Sightline-Signature"
TIMESTAMP_HEADER = "X-Sightline-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Check a signature in constant time (what a receiver does)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def hit_payload(row: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """The JSON a sink receives for one hit."""
    read_url = f"{base_url}/reads/{row['read_uuid']}"
    return {
        "hit_id": row["uuid"],
        "verification": VERIFICATION_NOTICE,
        "plate": row["plate"],
        "read": {"id": row["read_uuid"], "plate": row["plate"], "raw_text": row["raw_text"],
                 "state": row["plate_state"], "confidence": row["confidence"],
                 "time": row["seen_at"].isoformat(), "direction": row["direction"],
                 "box": row["box"]},
        "hotlist_entry": row["entry"],
        "camera": {"id": row["camera_id"], "name": row["camera"]},
        "site": {"code": row["site"], "name": row["site_name"]},
        "location": {"latitude": row["latitude"], "longitude": row["longitude"]},
        "direction": row["direction"],
        "time": row["seen_at"].isoformat(),
        "confidence": row["confidence"],
        "images": {"crop": f"{read_url}/image/crop", "overview": f"{read_url}/image/overview"},
        "hit_time": row["created_at"].isoformat(),
    }


class Sender(Protocol):
    """A dispatch sink."""

    name: str

    async def send(self, payload: dict[str, Any], key: str) -> None:
        """Deliver one hit or raise DispatchError."""

    async def close(self) -> None:
        """Release connections."""


class WebhookSender:
    """POST each hit to an HTTP endpoint, signed, with an idempotency key."""

    def __init__(self, sink: WebhookSink, secret: bytes) -> None:
        self.name = f"webhook:{sink.name}"
        self._sink = sink
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=sink.timeout_seconds)

    async def send(self, payload: dict[str, Any], key: str) -> None:
        """POST the payload; any non-2xx answer or transport error is a DispatchError."""
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: sign(self._secret, timestamp, body),
                   IDEMPOTENCY_HEADER: key, "User-Agent": "Sightline"}
        try:
            response = await self._client.post(str(self._sink.url), content=body,
                                               headers=headers)
        except httpx.HTTPError as exc:
            raise DispatchError(f"{self.name}: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise DispatchError(f"{self.name}: HTTP {response.status_code}")

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


class MqttSender:
    """Publish each hit at QoS 1 to PREFIX/SITE/CAMERA and wait for the broker's PUBACK."""

    def __init__(self, sink: MqttSink, client_id: str, name: str = "mqtt") -> None:
        self.name = name
        self._sink = sink
        self._client_id = client_id
        self._client: Any = None

    def _connect(self) -> Any:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self._client_id)
        if self._sink.username_env:
            client.username_pw_set(os.environ.get(self._sink.username_env, ""),
                                   os.environ.get(self._sink.password_env or "", None))
        if self._sink.tls:
            # Encrypted in transit (1798.90.51(a)), the broker's certificate checked.
            client.tls_set()
        client.connect(self._sink.host, self._sink.port, keepalive=30)
        client.loop_start()
        return client

    def _publish(self, topic: str, body: bytes) -> None:
        if self._client is None or not self._client.is_connected():
            self._close()
            self._client = self._connect()
        info = self._client.publish(topic, body, qos=1)
        info.wait_for_publish(timeout=10)
        if not info.is_published():
            raise DispatchError(f"mqtt: broker did not acknowledge {topic}")

    def _close(self) -> None:
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()
            self._client = None

    async def send(self, payload: dict[str, Any], key: str) -> None:
        """Publish at QoS 1; the idempotency key travels in the body."""
        topic = f"{self._sink.topic_prefix}/{payload['site']['code']}/{payload['camera']['id']}"
        body = json.dumps({**payload, "idempotency_key": key}, sort_keys=True).encode()
        try:
            await asyncio.to_thread(self._publish, topic, body)
        except (OSError, ValueError, RuntimeError) as exc:
            await asyncio.to_thread(self._close)
            raise DispatchError(f"mqtt: {type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        """Disconnect from the broker."""
        await asyncio.to_thread(self._close)


def webhook_secret(sink: WebhookSink) -> bytes:
    """The webhook's HMAC secret from its environment variable (never stored)."""
    secret = os.environ.get(sink.secret_env)
    if not secret:
        raise ValidationError(f"dispatch sink {sink.name}: secret_env",
                              f"environment variable {sink.secret_env} is not set")
    return secret.encode()


def backoff(attempts: int, cap: float, rng: random.Random) -> float:
    """Seconds before the next try: exponential from 1 s with full jitter, capped."""
    return float(rng.uniform(0.5, 1.0) * min(cap, 2.0 ** min(attempts, 30)))


# Called in a worker thread: the senders of the sinks now registered and enabled, or None
# when nothing changed since the last call (``controller.alerts.sinks.RegistrySenders``).
SenderSource = Callable[[], list[Sender] | None]


class Dispatcher:
    """The outbox task: deliver due hits to every sink until stopped.

    With a ``source`` the senders follow the sink registry: it is asked every
    ``refresh_seconds`` and a sink an administrator disabled gets no new hits.
    """

    def __init__(self, engine: Engine, settings: DispatchSettings, senders: Sequence[Sender],
                 *, base_url: str, metrics: Metrics, poll_seconds: float = 1.0,
                 source: SenderSource | None = None, refresh_seconds: float = 5.0,
                 node: str = "local") -> None:
        self._engine = engine
        self._node = node
        self._source = source
        self._refresh_seconds = refresh_seconds
        self._refreshed_at = time.monotonic()
        self._settings = settings
        self._senders = {s.name: s for s in senders}
        self._base_url = base_url
        self._metrics = metrics
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._finishing = False
        self._rng = random.Random()  # noqa: S311 - retry jitter, not cryptography
        self._outage = OutageLog(log, "dispatch pass", "the outbox keeps the hits; retrying")

    @property
    def sink_names(self) -> list[str]:
        """Names written into each new hit's outbox rows."""
        return list(self._senders)

    async def refresh(self) -> bool:
        """Follow the sink registry; tell whether the senders changed."""
        self._refreshed_at = time.monotonic()
        if self._source is None:
            return False
        fresh = await asyncio.to_thread(self._source)
        if fresh is None:
            return False
        old, self._senders = self._senders, {s.name: s for s in fresh}
        for sender in old.values():
            await sender.close()
        log.info("dispatch sinks now: %s", ", ".join(self._senders) or "none")
        return True

    def wake(self) -> None:
        """New hits are waiting: deliver now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until ``finish`` (or cancelled), first making due what this node had
        claimed when it last stopped: it was killed mid-send, or the claims would be
        settled."""
        try:
            await self._release_claims()
        except Exception as exc:  # the claims lapse by themselves
            self._outage.failed(exc)
        while True:
            finishing = self._finishing  # the pass after finish() is the last one
            try:
                if time.monotonic() - self._refreshed_at >= self._refresh_seconds:
                    await self.refresh()
                await self.deliver_due()
            except Exception as exc:  # a database outage must not end the task
                self._outage.failed(exc)  # once per outage, not every poll
            else:
                self._outage.succeeded()
            if finishing:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()

    def finish(self) -> None:
        """Stop after the pass under way and one more for what the last reads raised.

        A send is never cut off: a hit the sink took is marked delivered, not
        left claimed until the claim lapses (and then sent again).
        """
        self._finishing = True
        self._wake.set()

    async def stop(self, task: asyncio.Task[None], drain_seconds: float) -> None:
        """End ``task`` (this dispatcher's ``run``) within ``drain_seconds``.

        It finishes its passes if it can; if not it is cancelled, and what this node
        still claims (a send cut off) is made due at once, for another node or the
        next start, rather than after the claim lapses. The outbox keeps the rest.
        """
        self.finish()
        try:
            done, _ = await asyncio.wait({task}, timeout=drain_seconds)
            if not done:
                log.warning("dispatch did not finish within %.1f s; the outbox keeps the rest",
                            drain_seconds)
        finally:  # also when this stop is itself cancelled: never leave the task running
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            released = await self._release_claims()
        except Exception as exc:  # the claims lapse by themselves
            log.warning("could not release this node's dispatch claims (%s); they lapse "
                        "within %.0f s", exc, CLAIM_SECONDS)
        else:
            if released:
                log.info("released %d delivery claim(s) cut off by the stop", released)
        await self.close()

    async def _release_claims(self) -> int:
        """Make what this node claims due now; return how many deliveries."""
        return await asyncio.to_thread(repo.release_claims, self._engine, self._node,
                                       datetime.now(UTC))

    async def deliver_due(self) -> int:
        """Try every due delivery once; return how many were delivered."""
        now = datetime.now(UTC)
        due = await asyncio.to_thread(repo.due_deliveries, self._engine, now)
        delivered = 0
        for row in due:
            delivered += await self._deliver(row)
        return delivered

    async def _deliver(self, row: Mapping[str, Any]) -> int:
        now = datetime.now(UTC)
        # Every process runs a dispatcher: the one that claims the delivery sends it.
        if not await asyncio.to_thread(repo.claim_delivery, self._engine, row["delivery_id"],
                                       self._node, now, now + timedelta(seconds=CLAIM_SECONDS)):
            return 0
        sender = self._senders.get(row["sink"])
        try:
            if sender is None:
                raise DispatchError(f"sink {row['sink']} is not registered and enabled")
            try:  # bounded well within the claim, so no other node sends it meanwhile
                await asyncio.wait_for(sender.send(hit_payload(row, self._base_url),
                                                   row["idempotency_key"]), SEND_LIMIT_SECONDS)
            except TimeoutError:
                raise DispatchError(f"{sender.name}: no answer within "
                                    f"{SEND_LIMIT_SECONDS:g} s") from None
        except DispatchError as exc:
            await self._failed(row, str(exc))
            return 0
        await asyncio.to_thread(repo.mark_delivered, self._engine, row["delivery_id"],
                                datetime.now(UTC))
        self._metrics.deliveries.labels(sink=row["sink"], outcome="delivered").inc()
        return 1

    async def _failed(self, row: Mapping[str, Any], error: str) -> None:
        now = datetime.now(UTC)
        give_up = row["created_at"] + timedelta(seconds=self._settings.retry_for_seconds)
        retry_at = now + timedelta(seconds=backoff(
            int(row["attempts"]), self._settings.backoff_cap_seconds, self._rng))
        if retry_at > give_up:
            await asyncio.to_thread(repo.mark_failed, self._engine, row["delivery_id"], error,
                                    retry_at=None)
            self._metrics.deliveries.labels(sink=row["sink"], outcome="dead").inc()
            log.error("ALARM: hit %s dead-lettered for %s after %d attempts: %s", row["uuid"],
                      row["sink"], int(row["attempts"]) + 1, error)
            await asyncio.to_thread(audit.record, self._engine, audit.AuditEvent(
                actor=audit.SYSTEM, action="dispatch.dead_letter", outcome="denied",
                plate=row["plate"], data={"hit": row["uuid"], "sink": row["sink"],
                                          "error": error}))
            return
        await asyncio.to_thread(repo.mark_failed, self._engine, row["delivery_id"], error,
                                retry_at=retry_at)
        self._metrics.deliveries.labels(sink=row["sink"], outcome="retry").inc()
        log.warning("delivery of hit %s to %s failed (%s); retry at %s", row["uuid"],
                    row["sink"], error, retry_at.isoformat(timespec="seconds"))

    async def close(self) -> None:
        """Close every sender."""
        for sender in self._senders.values():
            await sender.close()


def record_verification(engine: Engine, hit_uuid: str, outcome: str, *, actor: str,
                        note: str | None = None, client_addr: str | None = None) -> None:
    """Record dispatch's CLETS verification outcome for a hit (audited either way)."""
    if outcome not in OUTCOMES:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="hit.verify", outcome="denied", client_addr=client_addr,
            data={"hit": hit_uuid, "outcome": outcome, "reason": "unknown outcome"}))
        raise ValidationError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    hit = repo.get_hit(engine, hit_uuid)
    repo.set_verification(engine, hit_uuid, outcome, actor=actor, note=note,
                          now=datetime.now(UTC))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="hit.verify", plate=hit["plate"], client_addr=client_addr,
        data={"hit": hit_uuid, "outcome": outcome, "note": note}))
