"""Hits and the dispatch outbox: signed webhooks, retries, dead letters, MQTT, verification."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from controller.alerts import dispatch
from controller.demo.receiver import HitReceiver
from controller.errors import ValidationError
from controller.metrics import Metrics
from controller.settings import DispatchSettings, MqttSink, WebhookSink
from controller.store import audit as audit_repo
from controller.store import hits as repo
from controller.store import sites

SECRET = b"test-secret-0123456789"


@pytest.fixture
def receiver() -> Iterator[HitReceiver]:
    server = HitReceiver(SECRET)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def camera(engine: Engine) -> tuple[int, int]:
    site = sites.create_site(engine, code="HWY99-N", name="Hwy 99 north", latitude=32.95,
                             longitude=-115.62)
    return site, sites.create_camera(engine, site, {"name": "NB 1", "host": "127.0.0.1"})


def item(camera: tuple[int, int], plate: str, *, hit: bool, age_s: float = 0) -> dict[str, object]:
    now = datetime.now(UTC) - timedelta(seconds=age_s)
    read = {"uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate, "confidence": 0.93,
            "char_confidences": [0.93] * len(plate), "camera_id": camera[1],
            "site_id": camera[0], "seen_at": now, "created_at": now, "direction": "approaching",
            "box": [10, 20, 120, 40], "latitude": 32.95, "longitude": -115.62}
    hits = [{"uuid": str(uuid.uuid4()), "hotlist_entry_id": None,
             "entry": {"list": "svs", "plate": plate, "category": "stolen_vehicle",
                       "ncic_number": "V123"}}] if hit else []
    return {"read": read, "images": [], "hits": hits}


def dispatcher(engine: Engine, receiver: HitReceiver, **overrides: object) -> dispatch.Dispatcher:
    settings = DispatchSettings(webhooks=(WebhookSink(name="cad", url=receiver.url),),
                                **overrides)  # type: ignore[arg-type]
    sender = dispatch.WebhookSender(settings.webhooks[0], SECRET)
    return dispatch.Dispatcher(engine, settings, [sender], base_url="http://127.0.0.1:8080",
                               metrics=Metrics())


def test_hit_is_written_with_its_read_and_replays_are_idempotent(
        engine: Engine, camera: tuple[int, int]) -> None:
    items = [item(camera, "7ABC123", hit=True), item(camera, "5DEF678", hit=False)]
    now = datetime.now(UTC)
    created = repo.write_reads(engine, items, sinks=["webhook:cad", "mqtt"], now=now)
    assert created == [items[0]["hits"][0]["uuid"]]  # type: ignore[index]
    assert repo.write_reads(engine, items, sinks=["webhook:cad", "mqtt"], now=now) == []
    assert repo.delivery_counts(engine) == {"pending": 2}
    hit = repo.list_hits(engine)[0]
    assert (hit["plate"], hit["verification"], hit["site"]) == ("7ABC123", "pending", "HWY99-N")


async def test_webhook_is_signed_and_carries_the_clets_warning(
        engine: Engine, camera: tuple[int, int], receiver: HitReceiver) -> None:
    d = dispatcher(engine, receiver)
    entry = item(camera, "7ABC123", hit=True)
    await asyncio.to_thread(repo.write_reads, engine, [entry], sinks=d.sink_names,
                            now=datetime.now(UTC))
    try:
        assert await d.deliver_due() == 1
    finally:
        await d.close()
    (key, payload), = receiver.received.hits.items()
    assert key == f"{entry['hits'][0]['uuid']}:webhook:cad"  # type: ignore[index]
    assert payload["verification"] == dispatch.VERIFICATION_NOTICE
    assert payload["plate"] == "7ABC123" and payload["site"]["code"] == "HWY99-N"
    assert payload["images"]["crop"].endswith("/image/crop")
    assert payload["hotlist_entry"]["ncic_number"] == "V123"
    assert receiver.received.bad_signatures == 0
    assert repo.delivery_counts(engine) == {"delivered": 1}


def test_forged_signature_is_refused(receiver: HitReceiver) -> None:
    body = b'{"plate":"X"}'
    assert receiver.handle(body, "1", dispatch.sign(b"wrong", "1", body), "k") == 401
    assert receiver.handle(body, "1", dispatch.sign(SECRET, "1", body), "k") == 200
    assert receiver.handle(body, "1", dispatch.sign(SECRET, "1", body), "k") == 200
    assert (receiver.received.bad_signatures, receiver.received.duplicates) == (1, 1)


def test_body_cut_short_by_a_dying_sender_is_not_a_bad_signature(receiver: HitReceiver) -> None:
    body = b'{"plate":"7ABC123","hit_id":"h"}'
    signature = dispatch.sign(SECRET, "1", body)
    host, port = receiver.url.split("/")[2].split(":")
    with socket.create_connection((host, int(port))) as sender:  # killed after half the body
        head = (f"POST /hits HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
                f"{dispatch.TIMESTAMP_HEADER}: 1\r\n{dispatch.SIGNATURE_HEADER}: {signature}\r\n"
                f"{dispatch.IDEMPOTENCY_HEADER}: k\r\n\r\n")
        sender.sendall(head.encode() + body[:10])
    for _ in range(200):
        if receiver.received.incomplete:
            break
        threading.Event().wait(0.02)
    assert receiver.received.incomplete == 1
    assert (receiver.received.bad_signatures, receiver.received.hits) == (0, {})


async def test_receiver_outage_loses_nothing_and_duplicates_nothing(
        engine: Engine, camera: tuple[int, int], receiver: HitReceiver) -> None:
    d = dispatcher(engine, receiver, backoff_cap_seconds=0.05)
    items = [item(camera, f"7ABC12{i}", hit=True) for i in range(5)]
    await asyncio.to_thread(repo.write_reads, engine, items, sinks=d.sink_names,
                            now=datetime.now(UTC))
    receiver.refuse_next = 7
    try:
        for _ in range(40):
            await d.deliver_due()
            if repo.delivery_counts(engine) == {"delivered": 5}:
                break
            await asyncio.sleep(0.06)
    finally:
        await d.close()
    assert repo.delivery_counts(engine) == {"delivered": 5}
    assert receiver.received.refused == 7
    assert len(receiver.received.hits) == 5 and receiver.received.duplicates == 0


async def test_lost_reply_is_deduplicated_by_the_idempotency_key(
        engine: Engine, camera: tuple[int, int], receiver: HitReceiver) -> None:
    d = dispatcher(engine, receiver)
    await asyncio.to_thread(repo.write_reads, engine, [item(camera, "7ABC123", hit=True)],
                            sinks=d.sink_names, now=datetime.now(UTC))
    row = (await asyncio.to_thread(repo.due_deliveries, engine, datetime.now(UTC)))[0]
    payload = dispatch.hit_payload(row, "http://x")
    sender = dispatch.WebhookSender(WebhookSink(name="cad", url=receiver.url), SECRET)
    try:
        await sender.send(payload, row["idempotency_key"])  # delivered, reply "lost"
        assert await d.deliver_due() == 1                  # so the outbox sends again
    finally:
        await sender.close()
        await d.close()
    assert len(receiver.received.hits) == 1 and receiver.received.duplicates == 1


class SlowReceiver:
    """A real receiver whose dispatch desk answers only when the test lets it."""

    def __init__(self) -> None:
        self.arrived, self.release = threading.Event(), threading.Event()
        self.server = HitReceiver(SECRET, on_hit=self._hold)

    def _hold(self, _payload: dict[str, object]) -> None:
        self.arrived.set()
        self.release.wait(30)

    def __enter__(self) -> SlowReceiver:
        self.server.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.stop()

    async def sending(self, engine: Engine, camera: tuple[int, int]
                      ) -> tuple[dispatch.Dispatcher, asyncio.Task[None]]:
        """A running dispatcher whose first hit is at the desk now."""
        d = dispatcher(engine, self.server)
        task = asyncio.create_task(d.run())
        await _write_hit(engine, camera, d, "7ABC123")
        assert await asyncio.to_thread(self.arrived.wait, 20)
        return d, task


async def _write_hit(engine: Engine, camera: tuple[int, int], d: dispatch.Dispatcher,
                     plate: str) -> None:
    await asyncio.to_thread(repo.write_reads, engine, [item(camera, plate, hit=True)],
                            sinks=d.sink_names, now=datetime.now(UTC))
    d.wake()


async def test_stop_lets_a_send_finish_and_delivers_the_last_hits(
        engine: Engine, camera: tuple[int, int]) -> None:
    with SlowReceiver() as slow:
        d, task = await slow.sending(engine, camera)
        # The controller is asked to stop while the first hit is at the desk, and
        # the last frames' read raised a second one.
        await _write_hit(engine, camera, d, "5DEF678")
        asyncio.get_running_loop().call_later(0.3, slow.release.set)
        await d.stop(task, drain_seconds=20)
        assert task.done() and not task.cancelled()
    assert repo.delivery_counts(engine) == {"delivered": 2}
    assert len(slow.server.received.hits) == 2 and slow.server.received.duplicates == 0


async def test_a_send_cut_off_by_the_stop_is_due_again_at_once(
        engine: Engine, camera: tuple[int, int]) -> None:
    with SlowReceiver() as slow:
        d, task = await slow.sending(engine, camera)
        await d.stop(task, drain_seconds=0.3)  # the desk has not answered by then
        assert task.cancelled()
        # Not left claimed for CLAIM_SECONDS: the next start (or another node) sends it
        # now, and the receiver's idempotency key makes the second send harmless.
        due = await asyncio.to_thread(repo.due_deliveries, engine, datetime.now(UTC))
        assert [row["plate"] for row in due] == ["7ABC123"]
        slow.release.set()
        again = dispatcher(engine, slow.server)
        try:
            assert await again.deliver_due() == 1
        finally:
            await again.close()
    assert repo.delivery_counts(engine) == {"delivered": 1}
    assert len(slow.server.received.hits) == 1 and slow.server.received.duplicates == 1


async def test_dead_letter_after_retry_window_raises_an_alarm(
        engine: Engine, camera: tuple[int, int], receiver: HitReceiver) -> None:
    d = dispatcher(engine, receiver, retry_for_seconds=5)
    await asyncio.to_thread(repo.write_reads, engine, [item(camera, "7ABC123", hit=True)],
                            sinks=d.sink_names, now=datetime.now(UTC) - timedelta(seconds=30))
    receiver.refuse_next = 1
    try:
        assert await d.deliver_due() == 0
    finally:
        await d.close()
    assert repo.delivery_counts(engine) == {"dead": 1}
    alarm = audit_repo.search(engine, action="dispatch.dead_letter")[0]
    assert alarm["plate"] == "7ABC123" and "HTTP 503" in alarm["data"]["error"]


def test_verification_outcome_is_recorded_and_audited(
        engine: Engine, camera: tuple[int, int]) -> None:
    entry = item(camera, "7ABC123", hit=True)
    repo.write_reads(engine, [entry], sinks=[], now=datetime.now(UTC))
    hit_uuid = entry["hits"][0]["uuid"]  # type: ignore[index]
    with pytest.raises(ValidationError, match="outcome"):
        dispatch.record_verification(engine, hit_uuid, "probably", actor="disp.ortiz")
    dispatch.record_verification(engine, hit_uuid, "confirmed", actor="disp.ortiz",
                                 note="CLETS SVS match, 10-851", client_addr="10.1.1.5")
    hit = repo.get_hit(engine, hit_uuid)
    assert (hit["verification"], hit["verified_by"]) == ("confirmed", "disp.ortiz")
    outcomes = [e["outcome"] for e in audit_repo.search(engine, action="hit.verify")]
    assert outcomes == ["allowed", "denied"]


def broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not broker_up(), reason="no MQTT broker on 127.0.0.1:1883 (CI runs one)")
async def test_mqtt_delivery_through_the_broker(engine: Engine, camera: tuple[int, int]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    prefix = f"sightline-test/{uuid.uuid4().hex[:8]}"
    got: list[dict[str, object]] = []
    subscribed = threading.Event()
    arrived = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_subscribe = lambda *a: subscribed.set()

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append({"topic": msg.topic, **json.loads(msg.payload)})
        arrived.set()

    client.on_message = on_message
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    client.subscribe(f"{prefix}/#", qos=1)
    settings = DispatchSettings(mqtt=MqttSink(topic_prefix=prefix))
    sender = dispatch.MqttSender(settings.mqtt, "sightline-test")  # type: ignore[arg-type]
    d = dispatch.Dispatcher(engine, settings, [sender], base_url="http://x", metrics=Metrics())
    try:
        assert await asyncio.to_thread(subscribed.wait, 5)
        entry = item(camera, "7ABC123", hit=True)
        await asyncio.to_thread(repo.write_reads, engine, [entry], sinks=d.sink_names,
                                now=datetime.now(UTC))
        assert await d.deliver_due() == 1
        assert await asyncio.to_thread(arrived.wait, 5)
    finally:
        await d.close()
        client.loop_stop()
        client.disconnect()
    assert got[0]["topic"] == f"{prefix}/HWY99-N/{camera[1]}"
    assert got[0]["plate"] == "7ABC123"
    assert got[0]["idempotency_key"] == f"{entry['hits'][0]['uuid']}:mqtt"  # type: ignore[index]
