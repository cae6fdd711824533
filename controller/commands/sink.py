"""``sightline sink``: the dispatch sink registry (462.12, Civil Code 1798.90.51(a))."""

from __future__ import annotations

from typing import Any

import click

from controller.alerts import sinks
from controller.store.sinks import SinkRow


def _show(row: SinkRow) -> str:
    where = row["url"] if row["kind"] == "webhook" else \
        f"{'mqtts' if row['tls'] else 'mqtt'}://{row['host']}:{row['port']}/{row['topic_prefix']}"
    state = "enabled" if row["enabled"] else "disabled"
    return (f"{row['id']:>4} {row['name']:<20} {row['kind']:<8} {state:<9} {where}  "
            f"-> {row['agency']} ({row['agency_ori']}; {row['agency_contact']})")


@click.group("sink")
def command() -> None:
    """Dispatch sinks: where hits leave, each with the agency that receives them."""


@command.command("list")
@click.pass_obj
def sink_list(obj: Any) -> None:
    """List the registered sinks (secrets are never shown: only their variable names)."""
    for row in sinks.sinks_on_file(obj.engine(), obj.caller()):
        click.echo(_show(row))


@command.command("add")
@click.option("--name", required=True, help="Sink name (letters, digits, '.', '_', '-').")
@click.option("--kind", type=click.Choice(sinks.KINDS), required=True, help="webhook or mqtt.")
@click.option("--agency", required=True, help="The public agency that receives the hits.")
@click.option("--ori", "agency_ori", required=True, help="That agency's ORI or identifier.")
@click.option("--contact", "agency_contact", required=True, help="Who answers for it.")
@click.option("--url", default="", help="Webhook URL (https:// unless on this machine).")
@click.option("--secret-env", default="SIGHTLINE_WEBHOOK_SECRET", show_default=True,
              help="Environment variable holding the webhook's HMAC secret.")
@click.option("--host", default="", help="MQTT broker host.")
@click.option("--port", default="", help="MQTT broker port (1883, or 8883 with --tls).")
@click.option("--tls", is_flag=True, help="MQTT over TLS (required unless on this machine).")
@click.option("--topic-prefix", default="sightline/hits", show_default=True,
              help="MQTT topics are PREFIX/SITE/CAMERA.")
@click.option("--username-env", default="", help="Variable holding the MQTT username.")
@click.option("--password-env", default="", help="Variable holding the MQTT password.")
@click.pass_obj
def sink_add(obj: Any, /, **options: Any) -> None:
    """Register a sink (enabled at once; audited) and print it."""
    row = sinks.register_sink(obj.engine(), obj.caller(), sinks.SinkForm(**options))
    click.echo(_show(row))


def _by_name(obj: Any, name: str) -> int:
    for row in sinks.sinks_on_file(obj.engine(), obj.caller()):
        if row["name"] == name:
            return row["id"]
    raise click.BadParameter(f"no sink named {name!r}", param_hint="NAME")


@command.command("disable")
@click.argument("name")
@click.pass_obj
def sink_disable(obj: Any, name: str) -> None:
    """Disable a sink: it receives no new hits (audited)."""
    click.echo(_show(sinks.set_sink_enabled(obj.engine(), obj.caller(), _by_name(obj, name),
                                            False)))


@command.command("enable")
@click.argument("name")
@click.pass_obj
def sink_enable(obj: Any, name: str) -> None:
    """Enable a sink again (its transport is checked again; audited)."""
    click.echo(_show(sinks.set_sink_enabled(obj.engine(), obj.caller(), _by_name(obj, name),
                                            True)))
