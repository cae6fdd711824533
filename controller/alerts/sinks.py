"""The dispatch sink registry (462.12, 1798.90.51(a), 1798.90.55(b)).

Hits leave only through sinks registered in the database with the public agency
that receives them. Only an administrator registers, enables or disables a sink,
and every change is audited. A sink off this machine is encrypted in transit:
webhooks ``https://``, MQTT over TLS; plain transport is allowed on loopback only
(the demo's receiver, the tests' peers).

Sinks still named in the settings file are imported into the registry when the
controller starts (once per name, audited as ``dispatch.sink_import``); from then
on the registry decides, so disabling an imported sink holds even though the file
still names it. Secrets are never stored or shown: a sink names the environment
variable that holds its HMAC secret or broker credentials.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from controller import audit
from controller.accounts import Caller, authorize
from controller.alerts.dispatch import MqttSender, Sender, WebhookSender, webhook_secret
from controller.errors import Conflict, NotFound, ValidationError
from controller.settings import DispatchSettings, MqttSink, WebhookSink
from controller.settings.dispatch import (
    is_loopback,
    verify_mqtt_transport,
    verify_webhook_transport,
)
from controller.store import Engine
from controller.store import sinks as sink_repo
from controller.store.sinks import SinkRow
from controller.validation import record_id, required_text

log = logging.getLogger("sightline.dispatch")

PERMISSION = "compliance.manage"
KINDS = ("webhook", "mqtt")
IMPORT_ACTOR = "system:settings"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
ORI = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")
TOPIC = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
# What an imported sink that names no agency is registered as: only a loopback one
# is enabled, since its receiving end is this machine; the rest wait for an administrator.
LOOPBACK_AGENCY = ("this machine (loopback receiver)", "LOCAL", "the ALPR Administrator")
UNNAMED_AGENCY = ("not named in the settings file", "UNKNOWN", "not named")


@dataclass(frozen=True)
class SinkForm:
    """A sink as an administrator types it (web form or command line)."""

    name: str
    kind: str
    agency: str
    agency_ori: str
    agency_contact: str
    url: str = ""
    secret_env: str = "SIGHTLINE_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret
    host: str = ""
    port: str = ""
    tls: bool = False
    topic_prefix: str = "sightline/hits"
    username_env: str = ""
    password_env: str = ""


def sender_name(row: SinkRow) -> str:
    """The name a sink's outbox rows carry (``webhook:NAME``; ``mqtt`` kept for the
    settings file's MQTT sink, so rows queued before the registry still deliver)."""
    if row["kind"] == "webhook":
        return f"webhook:{row['name']}"
    return "mqtt" if row["name"] == "mqtt" else f"mqtt:{row['name']}"


def _env(field: str, value: str, *, required: bool) -> str | None:
    text = value.strip()
    if not text and not required:
        return None
    if not ENV.match(text):
        raise ValidationError(field, "the name of an environment variable (letters, digits, _)")
    return text


def _webhook_values(form: SinkForm) -> dict[str, Any]:
    url = required_text("url", form.url, 500)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("url", "an http:// or https:// address with a host")
    try:
        verify_webhook_transport(url, parts.hostname)
    except ValueError as exc:
        raise ValidationError("url", str(exc).removeprefix("url: ")) from None
    return {"url": url, "secret_env": _env("secret_env", form.secret_env, required=True)}


def _mqtt_values(form: SinkForm) -> dict[str, Any]:
    host = required_text("host", form.host, 255)
    try:
        port = int(form.port.strip() or ("8883" if form.tls else "1883"))
    except ValueError:
        raise ValidationError("port", "a port number") from None
    if not 1 <= port <= 65535:
        raise ValidationError("port", "between 1 and 65535")
    try:
        verify_mqtt_transport(host, form.tls)
    except ValueError as exc:
        raise ValidationError("tls", str(exc).removeprefix("tls: ")) from None
    topic = required_text("topic_prefix", form.topic_prefix, 200)
    if not TOPIC.match(topic):
        raise ValidationError("topic_prefix", "letters, digits, '.', '_', '-' and '/' only")
    return {"host": host, "port": port, "tls": form.tls, "topic_prefix": topic,
            "username_env": _env("username_env", form.username_env, required=False),
            "password_env": _env("password_env", form.password_env, required=False)}


def validate(form: SinkForm) -> dict[str, Any]:
    """The row a form registers; bad input is a ValidationError naming the field."""
    name = form.name.strip()
    if not NAME.match(name):
        raise ValidationError("name", "1-64 letters, digits, '.', '_' or '-'")
    if form.kind not in KINDS:
        raise ValidationError("kind", f"one of {', '.join(KINDS)}")
    ori = required_text("agency_ori", form.agency_ori, 16).upper()
    if not ORI.match(ori):
        raise ValidationError("agency_ori", "the agency's ORI or identifier (letters, digits, "
                                            "'-'; 2-16 characters)")
    values: dict[str, Any] = {
        "name": name, "kind": form.kind, "agency": required_text("agency", form.agency, 200),
        "agency_ori": ori,
        "agency_contact": required_text("agency_contact", form.agency_contact, 200),
        "tls": False, "timeout_seconds": 5.0,
    }
    values.update(_webhook_values(form) if form.kind == "webhook" else _mqtt_values(form))
    return values


def _public(row: SinkRow) -> dict[str, Any]:
    """What the audit log and the pages show of a sink: never a secret (there is none
    stored; the variable's name is shown)."""
    return {"sink_id": row["id"], "name": row["name"], "kind": row["kind"],
            "url": row["url"], "host": row["host"], "port": row["port"], "tls": row["tls"],
            "agency": row["agency"], "agency_ori": row["agency_ori"],
            "agency_contact": row["agency_contact"], "enabled": row["enabled"]}


def _get(engine: Engine, sink_id: int) -> SinkRow:
    try:
        return sink_repo.get_sink(engine, sink_id)
    except NotFound:
        raise ValidationError("sink", f"no dispatch sink {sink_id}") from None


# --- use cases: administrators only, every change audited ------------------------------------

def sinks_on_file(engine: Engine, caller: Caller) -> list[SinkRow]:
    """Every registered sink (enabled or not) by name."""
    authorize(engine, caller, PERMISSION, "dispatch.sink_list")
    return sink_repo.list_sinks(engine)


def register_sink(engine: Engine, caller: Caller, form: SinkForm) -> SinkRow:
    """Register a sink with its receiving agency (enabled at once); audited."""
    authorize(engine, caller, PERMISSION, "dispatch.sink_register",
              data={"name": form.name[:64]})
    values = validate(form)
    now = datetime.now(UTC)
    try:
        sink_id = sink_repo.insert_sink(engine, {
            **values, "enabled": True, "origin": "registry", "created_by": caller.username,
            "created_at": now, "updated_by": caller.username, "updated_at": now})
    except Conflict:
        raise ValidationError("name", f"a sink named {values['name']!r} is already "
                                      "registered") from None
    row = sink_repo.get_sink(engine, sink_id)
    audit.record(engine, audit.AuditEvent(
        actor=caller.username, action="dispatch.sink_register", client_addr=caller.client_addr,
        data=_public(row)))
    return row


def set_sink_enabled(engine: Engine, caller: Caller, sink_id: str | int,
                     enabled: bool) -> SinkRow:
    """Enable or disable a sink (a disabled one gets no new hits); audited."""
    action = "dispatch.sink_enable" if enabled else "dispatch.sink_disable"
    authorize(engine, caller, PERMISSION, action, data={"sink_id": str(sink_id)[:20]})
    number = sink_id if isinstance(sink_id, int) else record_id("sink", sink_id)
    row = _get(engine, number)
    if enabled:
        # Re-check the transport: a sink registered before the rule must meet it now.
        validate(_form_of(row))
    if not sink_repo.set_enabled(engine, number, enabled, actor=caller.username,
                                 now=datetime.now(UTC)):
        raise ValidationError("sink", f"sink {row['name']} is already "
                                      f"{'enabled' if enabled else 'disabled'}")
    row = sink_repo.get_sink(engine, number)
    audit.record(engine, audit.AuditEvent(
        actor=caller.username, action=action, client_addr=caller.client_addr,
        data=_public(row)))
    return row


def _form_of(row: SinkRow) -> SinkForm:
    return SinkForm(name=row["name"], kind=row["kind"], agency=row["agency"],
                    agency_ori=row["agency_ori"], agency_contact=row["agency_contact"],
                    url=row["url"] or "", secret_env=row["secret_env"] or "",
                    host=row["host"] or "", port=str(row["port"] or ""), tls=row["tls"],
                    topic_prefix=row["topic_prefix"] or "",
                    username_env=row["username_env"] or "",
                    password_env=row["password_env"] or "")


# --- the settings file's sinks, imported at start --------------------------------------------

def _agency(named: WebhookSink | MqttSink, loopback: bool) -> tuple[tuple[str, str, str], bool]:
    if named.agency and named.agency_ori:
        return (named.agency, named.agency_ori.upper(),
                named.agency_contact or "not named"), True
    return (LOOPBACK_AGENCY, True) if loopback else (UNNAMED_AGENCY, False)


def _import_one(engine: Engine, values: dict[str, Any], named: WebhookSink | MqttSink,
                loopback: bool, now: datetime) -> bool:
    (agency, ori, contact), enabled = _agency(named, loopback)
    try:
        sink_id = sink_repo.insert_sink(engine, {
            **values, "agency": agency, "agency_ori": ori, "agency_contact": contact,
            "enabled": enabled, "origin": "settings", "created_by": IMPORT_ACTOR,
            "created_at": now, "updated_by": IMPORT_ACTOR, "updated_at": now})
    except Conflict:
        return False  # another node imported it first
    row = sink_repo.get_sink(engine, sink_id)
    if not enabled:
        log.warning("dispatch sink %s imported from the settings file DISABLED: it names no "
                    "receiving agency; an administrator registers one and enables it",
                    row["name"])
    audit.record(engine, audit.AuditEvent(actor=IMPORT_ACTOR, action="dispatch.sink_import",
                                          data=_public(row)))
    return True


def import_settings(engine: Engine, settings: DispatchSettings) -> int:
    """Register the settings file's sinks that the registry does not hold yet; audited.

    A sink already registered (by name) is left as the registry has it. Return
    how many were imported.
    """
    have = sink_repo.sink_names(engine)
    now = datetime.now(UTC)
    imported = 0
    for hook in settings.webhooks:
        if hook.name in have:
            continue
        values = {"name": hook.name, "kind": "webhook", "url": str(hook.url),
                  "secret_env": hook.secret_env, "timeout_seconds": hook.timeout_seconds,
                  "tls": False}
        imported += _import_one(engine, values, hook, is_loopback(hook.url.host), now)
    mqtt = settings.mqtt
    if mqtt is not None and "mqtt" not in have:
        values = {"name": "mqtt", "kind": "mqtt", "host": mqtt.host, "port": mqtt.port,
                  "tls": mqtt.tls, "topic_prefix": mqtt.topic_prefix,
                  "username_env": mqtt.username_env, "password_env": mqtt.password_env,
                  "timeout_seconds": 5.0}
        imported += _import_one(engine, values, mqtt, is_loopback(mqtt.host), now)
    return imported


def point_loopback_sink(engine: Engine, name: str, url: str, *, secret_env: str,
                        actor: str) -> SinkRow:
    """Register, or point again, a webhook sink on this machine (the demo's receiver, which
    listens on a new port each run); audited. Anything off this machine is refused: such a
    sink is an administrator's to register."""
    host = urlsplit(url).hostname
    if not is_loopback(host):
        raise ValidationError("url", "only a receiver on this machine is pointed this way")
    now = datetime.now(UTC)
    row = sink_repo.find_sink(engine, name)
    if row is None:
        agency, ori, contact = LOOPBACK_AGENCY
        sink_repo.insert_sink(engine, {
            "name": name, "kind": "webhook", "url": url, "secret_env": secret_env,
            "tls": False, "timeout_seconds": 5.0, "agency": agency, "agency_ori": ori,
            "agency_contact": contact, "enabled": True, "origin": "settings",
            "created_by": actor, "created_at": now, "updated_by": actor, "updated_at": now})
        action = "dispatch.sink_import"
    elif row["kind"] != "webhook" or not is_loopback(urlsplit(row["url"] or "").hostname):
        raise ValidationError("name", f"sink {name} is not a receiver on this machine")
    elif row["url"] == url:
        return row
    else:
        sink_repo.update_sink(engine, row["id"], url=url, updated_by=actor, updated_at=now)
        action = "dispatch.sink_repoint"
    row = sink_repo.find_sink(engine, name)
    assert row is not None
    audit.record(engine, audit.AuditEvent(actor=actor, action=action, data=_public(row)))
    return row


# --- senders for the dispatcher ---------------------------------------------------------------

def sender_for(row: SinkRow, node: str) -> Sender:
    """The sender of one registered sink (its settings model re-checks the transport)."""
    if row["kind"] == "webhook":
        hook = WebhookSink(name=row["name"], url=row["url"],  # type: ignore[arg-type]
                           secret_env=row["secret_env"] or "",
                           timeout_seconds=row["timeout_seconds"])
        return WebhookSender(hook, webhook_secret(hook))
    broker = MqttSink(host=row["host"] or "", port=row["port"] or 1883, tls=row["tls"],
                      topic_prefix=row["topic_prefix"] or "sightline/hits",
                      username_env=row["username_env"], password_env=row["password_env"])
    return MqttSender(broker, f"sightline-{node}-{row['name']}"[:64], name=sender_name(row))


class RegistrySenders:
    """The dispatcher's ``source``: senders of the enabled sinks, rebuilt when they change.

    ``initial()`` raises on a sink it cannot build (a start with a broken sink is
    refused, as a broken settings file was); a later change that cannot be built is
    logged and that sink left out, so one bad registration never stops dispatch.
    """

    def __init__(self, engine: Engine, node: str) -> None:
        self._engine = engine
        self._node = node
        self._seen: tuple[tuple[int, datetime], ...] | None = None

    def _version(self, rows: list[SinkRow]) -> tuple[tuple[int, datetime], ...]:
        return tuple((r["id"], r["updated_at"]) for r in rows)

    def initial(self) -> list[Sender]:
        """Senders of every enabled sink now; any that cannot be built raises."""
        rows = sink_repo.list_sinks(self._engine, enabled_only=True)
        self._seen = self._version(rows)
        return [sender_for(row, self._node) for row in rows]

    def __call__(self) -> list[Sender] | None:
        """Fresh senders when the enabled sinks changed since the last call, else None."""
        rows = sink_repo.list_sinks(self._engine, enabled_only=True)
        version = self._version(rows)
        if version == self._seen:
            return None
        self._seen = version
        senders: list[Sender] = []
        for row in rows:
            try:
                senders.append(sender_for(row, self._node))
            except (ValueError, ValidationError) as exc:  # a missing secret, a bad row
                log.error("dispatch sink %s left out: %s", row["name"], exc)
        return senders
