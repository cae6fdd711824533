"""The dispatch sink registry (issue 14 point 6; 462.12, Civil Code 1798.90.51(a)).

Hits leave only through sinks registered in the database with the agency that
receives them; only an administrator changes the registry, every change audited;
a sink off this machine must be encrypted. Real peers: HTTP receivers on loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_runner import sightline, signed_in
from sqlalchemy import Engine

from controller.accounts import Caller
from controller.alerts import dispatch, sinks
from controller.demo.receiver import HitReceiver
from controller.errors import AccessDenied, ConfigError, ValidationError
from controller.metrics import Metrics
from controller.settings import DispatchSettings, WebhookSink
from controller.settings.loader import settings_from_mapping
from controller.store import audit as audit_repo
from controller.store import hits as repo
from controller.store import sinks as sink_repo
from controller.store import sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

SECRET = "sink-secret-0123456789"
SECRET_ENV = "SIGHTLINE_TEST_SINK_SECRET"
ADMIN = Caller(username="chief", role="administrator", gate_ok=True, client_addr="10.0.0.9")
OFFICER = Caller(username="ann.lee", role="officer", gate_ok=True, client_addr="10.0.0.7")
AGENCY = {"agency": "Imperial County Sheriff Dispatch", "agency_ori": "CA0130000",
          "agency_contact": "Watch commander, (760) 555-0111"}


def form(name: str, **changes: Any) -> sinks.SinkForm:
    values: dict[str, Any] = {"name": name, "kind": "webhook", **AGENCY,
                              "url": "https://cad.imperial.example/alpr", "secret_env": SECRET_ENV}
    return sinks.SinkForm(**{**values, **changes})


@pytest.fixture
def receivers() -> Iterator[list[HitReceiver]]:
    started = [HitReceiver(SECRET.encode()) for _ in range(3)]
    for receiver in started:
        receiver.start()
    yield started
    for receiver in started:
        receiver.stop()


@pytest.fixture
def camera(engine: Engine) -> tuple[int, int]:
    site = sites.create_site(engine, code="HWY86-S", name="Hwy 86 south", latitude=32.8,
                             longitude=-115.5)
    return site, sites.create_camera(engine, site, {"name": "SB 1", "host": "127.0.0.1"})


def a_hit(camera: tuple[int, int], plate: str) -> dict[str, object]:
    import uuid

    now = datetime.now(UTC)
    read = {"uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate, "confidence": 0.93,
            "char_confidences": [0.93] * len(plate), "camera_id": camera[1],
            "site_id": camera[0], "seen_at": now, "created_at": now, "direction": "approaching",
            "box": [10, 20, 120, 40], "latitude": 32.8, "longitude": -115.5}
    hits = [{"uuid": str(uuid.uuid4()), "hotlist_entry_id": None,
             "entry": {"list": "svs", "plate": plate, "category": "stolen_vehicle"}}]
    return {"read": read, "images": [], "hits": hits}


def test_registry_is_changed_by_administrators_only_and_every_change_is_audited(
        engine: Engine) -> None:
    with pytest.raises(AccessDenied, match="officer"):
        sinks.register_sink(engine, OFFICER, form("cad"))
    assert sink_repo.list_sinks(engine) == []
    row = sinks.register_sink(engine, ADMIN, form("cad"))
    assert (row["agency"], row["agency_ori"], row["enabled"]) == (
        AGENCY["agency"], "CA0130000", True)
    with pytest.raises(ValidationError, match="already registered"):
        sinks.register_sink(engine, ADMIN, form("cad"))
    with pytest.raises(ValidationError, match="agency_ori"):
        sinks.register_sink(engine, ADMIN, form("bad", agency_ori=""))
    with pytest.raises(AccessDenied):
        sinks.set_sink_enabled(engine, OFFICER, row["id"], False)
    assert sink_repo.get_sink(engine, row["id"])["enabled"] is True
    off = sinks.set_sink_enabled(engine, ADMIN, str(row["id"]), False)
    assert off["enabled"] is False and off["updated_by"] == "chief"
    with pytest.raises(ValidationError, match="already disabled"):
        sinks.set_sink_enabled(engine, ADMIN, row["id"], False)
    entries = [(e["actor"], e["action"], e["outcome"]) for e in
               reversed(audit_repo.search(engine)) if e["action"].startswith("dispatch.")]
    assert entries == [("ann.lee", "dispatch.sink_register", "denied"),
                       ("chief", "dispatch.sink_register", "allowed"),
                       ("ann.lee", "dispatch.sink_disable", "denied"),
                       ("chief", "dispatch.sink_disable", "allowed")]
    registered = [e for e in audit_repo.search(engine, action="dispatch.sink_register")
                  if e["outcome"] == "allowed"]
    assert registered[0]["data"]["agency"] == AGENCY["agency"]
    assert registered[0]["client_addr"] == "10.0.0.9"


@pytest.mark.parametrize(("changes", "field"), [
    ({"url": "http://cad.imperial.example/alpr"}, "url"),
    ({"url": "http://10.20.0.5:8080/hits"}, "url"),
    ({"kind": "mqtt", "url": "", "host": "mqtt.imperial.example", "port": "1883"}, "tls"),
    ({"kind": "mqtt", "url": "", "host": "10.20.0.6"}, "tls"),
])
def test_sinks_off_this_machine_must_be_encrypted(engine: Engine, changes: dict[str, Any],
                                                  field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        sinks.register_sink(engine, ADMIN, form("offsite", **changes))
    assert refused.value.field == field
    assert sink_repo.list_sinks(engine) == []


def test_encrypted_and_loopback_sinks_are_accepted(engine: Engine) -> None:
    sinks.register_sink(engine, ADMIN, form("cad-https"))
    sinks.register_sink(engine, ADMIN, form("mqtts", kind="mqtt", url="",
                                            host="mqtt.imperial.example", tls=True))
    sinks.register_sink(engine, ADMIN, form("demo", url="http://127.0.0.1:8099/hits"))
    sinks.register_sink(engine, ADMIN, form("local-mqtt", kind="mqtt", url="",
                                            host="127.0.0.1"))
    rows = {r["name"]: r for r in sink_repo.list_sinks(engine)}
    assert sorted(rows) == ["cad-https", "demo", "local-mqtt", "mqtts"]
    assert (rows["mqtts"]["tls"], rows["mqtts"]["port"]) == (True, 8883)


def test_settings_file_refuses_plain_transport_off_this_machine() -> None:
    with pytest.raises(ConfigError, match=r"dispatch\.webhooks\[0\].*url.*https://"):
        settings_from_mapping({"dispatch": {"webhooks": [
            {"name": "cad", "url": "http://cad.imperial.example/alpr"}]}}, "t.yaml", env={})
    with pytest.raises(ConfigError, match=r"dispatch\.mqtt.*tls.*TLS"):
        settings_from_mapping({"dispatch": {"mqtt": {"host": "mqtt.imperial.example"}}},
                              "t.yaml", env={})
    loopback = settings_from_mapping({"dispatch": {"webhooks": [
        {"name": "demo", "url": "http://127.0.0.1:8099/hits"}]}}, "t.yaml", env={})
    assert loopback.dispatch.webhooks[0].name == "demo"


async def test_hits_go_only_to_registered_enabled_sinks(
        engine: Engine, camera: tuple[int, int], receivers: list[HitReceiver],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    cad, backup, county = receivers
    file_sinks = DispatchSettings(webhooks=(
        WebhookSink(name="cad", url=cad.url, secret_env=SECRET_ENV),  # type: ignore[arg-type]
        WebhookSink(name="backup", url=backup.url,  # type: ignore[arg-type]
                    secret_env=SECRET_ENV)))
    assert await asyncio.to_thread(sinks.import_settings, engine, file_sinks) == 2
    imported = {r["name"]: r for r in sink_repo.list_sinks(engine)}
    assert {r["origin"] for r in imported.values()} == {"settings"}
    assert len(audit_repo.search(engine, action="dispatch.sink_import")) == 2
    sinks.set_sink_enabled(engine, ADMIN, imported["backup"]["id"], False)
    sinks.register_sink(engine, ADMIN, form("county", url=county.url))
    # A restart imports the file again: the registry keeps what the administrator decided.
    assert await asyncio.to_thread(sinks.import_settings, engine, file_sinks) == 0
    source = sinks.RegistrySenders(engine, "node-a")
    d = dispatch.Dispatcher(engine, file_sinks, await asyncio.to_thread(source.initial),
                            base_url="http://127.0.0.1:8080", metrics=Metrics(), source=source)
    try:
        assert sorted(d.sink_names) == ["webhook:cad", "webhook:county"]
        first = a_hit(camera, "7ABC123")
        await asyncio.to_thread(repo.write_reads, engine, [first], sinks=d.sink_names,
                                now=datetime.now(UTC))
        assert await d.deliver_due() == 2
        assert len(cad.received.hits) == 1 and len(county.received.hits) == 1
        assert backup.received.hits == {}
        assert await d.refresh() is False  # nothing changed
        sinks.set_sink_enabled(engine, ADMIN, imported["backup"]["id"], True)
        sinks.set_sink_enabled(engine, ADMIN, imported["cad"]["id"], False)
        assert await d.refresh() is True
        second = a_hit(camera, "5DEF678")
        await asyncio.to_thread(repo.write_reads, engine, [second], sinks=d.sink_names,
                                now=datetime.now(UTC))
        assert await d.deliver_due() == 2
    finally:
        await d.close()
    assert [h["plate"] for h in backup.received.hits.values()] == ["5DEF678"]
    assert [h["plate"] for h in cad.received.hits.values()] == ["7ABC123"]
    assert sorted(h["plate"] for h in county.received.hits.values()) == ["5DEF678", "7ABC123"]


def test_imported_sink_off_this_machine_without_an_agency_waits_disabled(
        engine: Engine) -> None:
    named = DispatchSettings(webhooks=(
        WebhookSink(name="cad", url="https://cad.imperial.example/a"),  # type: ignore[arg-type]
        WebhookSink(name="county", url="https://county.example/a",  # type: ignore[arg-type]
                    agency="Imperial County Sheriff", agency_ori="CA0130000")))
    assert sinks.import_settings(engine, named) == 2
    rows = {r["name"]: r for r in sink_repo.list_sinks(engine)}
    assert rows["cad"]["enabled"] is False and rows["cad"]["agency_ori"] == "UNKNOWN"
    assert rows["county"]["enabled"] is True and rows["county"]["agency"] == \
        "Imperial County Sheriff"


def test_sink_command_registers_lists_and_disables(cli_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    env = signed_in({k: v for k, v in cli_env.items() if k.startswith("SIGHTLINE_")},
                     "chief", "administrator")
    refused = sightline(env, "sink", "add", "--name", "cad", "--kind", "webhook", "--agency",
                        AGENCY["agency"], "--ori", "CA0130000", "--contact", "watch",
                        "--url", "http://cad.imperial.example/alpr")
    assert refused.exit_code == 1 and "url" in refused.output and "https://" in refused.output
    added = sightline(env, "sink", "add", "--name", "cad", "--kind", "webhook", "--agency",
                      AGENCY["agency"], "--ori", "CA0130000", "--contact", "watch",
                      "--url", "https://cad.imperial.example/alpr")
    assert added.exit_code == 0, added.output
    listed = sightline(env, "sink", "list")
    assert "cad" in listed.stdout and "enabled" in listed.stdout and "CA0130000" in listed.stdout
    disabled = sightline(env, "sink", "disable", "cad")
    assert disabled.exit_code == 0 and "disabled" in disabled.stdout
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    try:
        upgrade(engine)
        assert [r["enabled"] for r in sink_repo.list_sinks(engine)] == [False]
        actions = [e["action"] for e in reversed(audit_repo.search(engine))
                   if e["action"].startswith("dispatch.")]
        assert actions == ["dispatch.sink_register", "dispatch.sink_disable"]
    finally:
        engine.dispose()


def test_sink_pages_register_refuse_plain_http_and_never_show_a_secret(
        auth: Any, engine: Engine, cheap_argon2: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    auth.make_user("chief", "administrator")
    auth.login("chief")
    fields = {"name": "cad", "kind": "webhook", **AGENCY, "secret_env": SECRET_ENV,
              "url": "http://cad.imperial.example/alpr", "topic_prefix": "sightline/hits"}
    plain = auth.post("/compliance/sinks", fields)
    assert plain.status_code == 400
    assert "url" in plain.get_data(as_text=True) and "https://" in plain.get_data(as_text=True)
    assert sink_repo.list_sinks(engine) == []
    assert auth.post("/compliance/sinks", {**fields, "url": "https://cad.imperial.example/alpr"}
                     ).status_code == 303
    page = auth.client.get("/compliance/sinks").get_data(as_text=True)
    assert "https://cad.imperial.example/alpr" in page and AGENCY["agency"] in page
    assert SECRET_ENV in page and SECRET not in page
    sink_id = sink_repo.list_sinks(engine)[0]["id"]
    assert auth.post("/compliance/sinks/enabled", {
        "sink_id": str(sink_id), "enabled": "no", "confirm": "yes"}).status_code == 303
    assert sink_repo.get_sink(engine, sink_id)["enabled"] is False
    assert [e["action"] for e in reversed(audit_repo.search(engine))
            if e["action"].startswith("dispatch.")] == ["dispatch.sink_register",
                                                         "dispatch.sink_disable"]


def test_demo_receiver_is_pointed_at_each_run_and_nothing_off_this_machine(
        engine: Engine) -> None:
    from controller.demo import world

    world.register_receiver(engine, "http://127.0.0.1:40001/")
    world.register_receiver(engine, "http://127.0.0.1:40001/")  # same run: nothing to do
    world.register_receiver(engine, "http://127.0.0.1:40002/")  # the next run's port
    row = sink_repo.list_sinks(engine)[0]
    assert (row["name"], row["url"], row["enabled"]) == (
        "demo-dispatch", "http://127.0.0.1:40002/", True)
    assert [e["action"] for e in reversed(audit_repo.search(engine))] == [
        "dispatch.sink_import", "dispatch.sink_repoint"]
    with pytest.raises(ValidationError, match="url"):
        sinks.point_loopback_sink(engine, "demo-dispatch", "http://10.0.0.5:1/",
                                  secret_env="X", actor="system:demo")
    sinks.register_sink(engine, ADMIN, form("cad"))
    with pytest.raises(ValidationError, match="not a receiver on this machine"):
        sinks.point_loopback_sink(engine, "cad", "http://127.0.0.1:1/", secret_env="X",
                                  actor="system:demo")
    assert sink_repo.find_sink(engine, "cad")["url"] == "https://cad.imperial.example/alpr"  # type: ignore[index]
