"""The fault campaign (issue 18, point 5), short: each fault injected into real processes
while plates pass, nothing accepted lost, nothing stored or delivered twice.

The same code as ``bench/faults.py`` (``fault_rig``), with outages of seconds instead
of minutes: a throwaway PostgreSQL cluster restarted and stopped, the dispatch
receiver down, a private Mosquitto restarted, ``sightline run`` killed with SIGKILL.
Never the shared PostgreSQL or Mosquitto.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.controller.pg_cluster import can_run
from tests.integration.fault_rig import faketime_library, rig, run_fault

# (fault, seconds): short outages; the bench runs them for minutes (10 for PostgreSQL,
# 30 for the receiver). Load flows LOAD seconds before and after each fault.
CAMPAIGN = [("postgres_restart", 0.0), ("postgres_outage", 12.0), ("receiver_outage", 12.0),
            ("mosquitto_restart", 12.0), ("controller_sigkill", 0.0),
            ("camera_killed", 8.0), ("camera_frozen", 8.0), ("camera_flapping", 8.0),
            ("camera_garbage", 8.0), ("images_disk_full", 12.0), ("clock_steps", 8.0),
            ("node_failover", 0.0)]
LOAD = 6.0


def why_not() -> str | None:
    if shutil.which("mosquitto") is None:
        return "the campaign runs a private Mosquitto: mosquitto is not installed"
    if faketime_library() is None:
        return "the campaign steps a clock with libfaketime: faketime is not installed"
    return can_run()


@pytest.mark.postgres
@pytest.mark.skipif(why_not() is not None, reason=str(why_not()))
@pytest.mark.timeout(1200)
def test_fault_campaign_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    lines = []
    with rig(tmp_path) as the_rig:
        for fault, seconds in CAMPAIGN:
            line = run_fault(the_rig, fault, seconds, load=LOAD)
            print(json.dumps(line))
            lines.append(line)
    for line in lines:
        sinks = line["hits_delivered"]
        assert line["node_alive"], line
        # Every read the controller accepted is stored, once; every stored read of a
        # listed plate raised one hit, delivered to every sink once.
        assert line["reads_lost"] == 0 and line["reads_duplicated"] == 0, line
        assert line["hits_raised"] == line["hits_expected"], line
        assert line["hits_duplicated"] == 0, line
        assert set(sinks) == {"webhook", "mqtt"}, line
        assert all(n == line["hits_raised"] for n in sinks.values()), line
        assert all(n == 0 for n in line["hits_delivered_twice"].values()), line
        assert line["recover_s"] is not None and "missing" not in line, line
    # The campaign saw load: reads were taken, and hits raised, around the faults.
    assert all(line["reads_accepted"] > 0 for line in lines), lines
    assert sum(line["hits_raised"] for line in lines) > 0, lines
    assert next(line for line in lines if line["fault"] == "postgres_outage")["spooled"] > 0
