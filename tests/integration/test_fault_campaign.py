"""The fault campaign (issue 18, point 5), short: each fault injected into real processes
while plates pass, nothing accepted lost, nothing stored or delivered twice.

The same code as ``bench/faults.py`` (``fault_rig``), with outages of seconds instead
of minutes: a throwaway PostgreSQL cluster restarted and stopped, the dispatch
receiver down, a private Mosquitto restarted, ``sightline run`` killed with SIGKILL,
the camera killed, frozen, flapping and answering garbage, the image disk full, the
wall clock stepped back an hour and forward again, and a node of two killed. Never
the shared PostgreSQL or Mosquitto. One rig for the whole campaign (one warm-up);
about 8 minutes on a quiet 2-core machine.

Recognition on a loaded machine misses passages (``reads_missed``, reported, not a
loss: the fault did not take them); what is asserted is what the controller owes:
every read it accepted stored once, every hit raised, delivered, and not twice.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.controller.pg_cluster import can_run
from tests.integration.fault_rig import CAMERA_DOWN, faketime_library, rig, run_fault

# (fault, seconds): short outages; the bench runs them for minutes (10 for PostgreSQL,
# 30 for the receiver). Load flows LOAD seconds before and after each fault.
CAMPAIGN = [("postgres_restart", 0.0), ("postgres_outage", 12.0), ("receiver_outage", 12.0),
            ("mosquitto_restart", 12.0), ("controller_sigkill", 0.0),
            ("camera_killed", 8.0), ("camera_frozen", 8.0), ("camera_flapping", 8.0),
            ("camera_garbage", 8.0), ("images_disk_full", 12.0), ("clock_steps", 12.0),
            ("node_failover", 0.0)]
LOAD = 6.0
# Faults that kill a sender (the controller, or the broker holding a PUBACK) mid-send.
AT_LEAST_ONCE = {"controller_sigkill", "node_failover", "mosquitto_restart"}


def why_not() -> str | None:
    # Minutes of real processes: it runs with the PostgreSQL suite (CI's `make test`),
    # not in a SQLite-only run, which DESIGN.md section 7 keeps under five minutes.
    if not os.environ.get("SIGHTLINE_TEST_DATABASE_URL"):
        return ("the fault campaign runs with the PostgreSQL suite: set "
                "SIGHTLINE_TEST_DATABASE_URL (CI does)")
    if shutil.which("mosquitto") is None:
        return "the campaign runs a private Mosquitto: mosquitto is not installed"
    if faketime_library() is None:
        return "the campaign steps a clock with libfaketime: faketime is not installed"
    return can_run()


@pytest.mark.postgres
@pytest.mark.skipif(why_not() is not None, reason=str(why_not()))
# About 8 minutes on a quiet machine; faults are held until something passed through
# them (fault_rig.hold), which on a loaded one takes longer.
@pytest.mark.timeout(2400)
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
        # listed plate raised one hit, which reached every sink, and no vehicle's hit
        # reached dispatch twice.
        assert line["reads_lost"] == 0 and line["reads_duplicated"] == 0, line
        assert line["hits_raised"] == line["hits_expected"], line
        assert line["hits_duplicated"] == 0, line
        assert set(sinks) == {"webhook", "mqtt"}, line
        assert all(n == line["hits_raised"] for n in sinks.values()), line
        assert all(n == 0 for n in line["hits_delivered_twice"].values()), line
        assert line["recover_s"] is not None and "missing" not in line, line
        # A hit is sent again under its idempotency key only when its sender can die
        # between the receiver's answer and recording it (at least once, by design).
        if line["fault"] not in AT_LEAST_ONCE:
            assert all(n == 0 for n in line["hits_sent_twice"].values()), line
    by_fault = {line["fault"]: line for line in lines}
    # The campaign saw load: reads were taken, and hits raised, around the faults.
    assert sum(line["reads_accepted"] for line in lines) > 0, lines
    assert sum(line["hits_raised"] for line in lines) > 0, lines
    # Health said what happened; the clock's steps left the read times in order.
    assert "images_not_stored" in by_fault["images_disk_full"]["health_alarms"]
    assert by_fault["images_disk_full"]["reads_without_images"] > 0
    assert "wall_clock_stepped_back" in by_fault["clock_steps"]["health_alarms"]
    clock = by_fault["clock_steps"]
    assert clock["read_times_backwards"] == 0 and clock["audit_chain_ok"], clock
    assert clock["read_time_span_s"] < 600, clock
    for fault in ("camera_killed", "camera_frozen", "camera_garbage"):
        assert set(by_fault[fault]["health_alarms"]) & CAMERA_DOWN, by_fault[fault]
    assert by_fault["node_failover"]["both_ran"] == 0
    # Each fault was held until something passed through it (fault_rig.hold).
    assert by_fault["postgres_outage"]["spooled"] > 0
    assert by_fault["receiver_outage"]["hits_during_fault"] > 0
    assert by_fault["mosquitto_restart"]["hits_during_fault"] > 0
    assert clock["reads_during_steps"] > 0
