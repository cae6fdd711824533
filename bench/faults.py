"""The fault campaign (issue 18, point 5): faults injected into real processes with plates
passing; prints one JSON line per fault, asserts nothing.

Each line: the fault, its duration, the passages the camera showed while something
could read them (``reads_offered``), those stored (``reads_stored``), lost, stored
twice, reads matching no passage (misread), hits expected / raised / raised twice,
hits delivered and delivered twice per sink (webhook, MQTT), and the seconds from
the fault clearing until every passage shown before then is stored and its hits
delivered (``recover_s``; null if that never happened within the limit).

The peers are private to the run (``tests/integration/fault_rig.py``): a throwaway
PostgreSQL cluster, a private Mosquitto, the dispatch receiver, the demo camera and
``sightline run``; needs root (initdb as postgres, a tmpfs for the images), mosquitto
and libfaketime (Debian's faketime package, to step the node's clock).

Usage: python bench/faults.py [--postgres-outage 600] [--receiver-outage 1800]
           [--mosquitto-outage 15] [--camera-outage 60] [--disk-full 60]
           [--clock-step 30] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.fault_rig import FAULTS, rig, run_fault


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-outage", type=float, default=600.0,
                        help="seconds PostgreSQL stays down (default 10 minutes)")
    parser.add_argument("--receiver-outage", type=float, default=1800.0,
                        help="seconds the dispatch receiver stays down (default 30 minutes)")
    parser.add_argument("--mosquitto-outage", type=float, default=15.0,
                        help="seconds the broker stays down when restarted")
    parser.add_argument("--camera-outage", type=float, default=60.0,
                        help="seconds a camera is killed, frozen, flapping or garbage")
    parser.add_argument("--disk-full", type=float, default=60.0,
                        help="seconds the image disk stays full")
    parser.add_argument("--clock-step", type=float, default=30.0,
                        help="seconds the clock stays an hour back, then an hour ahead")
    parser.add_argument("--only", nargs="*", choices=sorted(FAULTS), default=None,
                        help="run only these faults (default: all, in campaign order)")
    args = parser.parse_args(argv)
    durations = {"postgres_restart": 0.0, "postgres_outage": args.postgres_outage,
                 "receiver_outage": args.receiver_outage,
                 "mosquitto_restart": args.mosquitto_outage, "controller_sigkill": 0.0,
                 "camera_killed": args.camera_outage, "camera_frozen": args.camera_outage,
                 "camera_flapping": args.camera_outage, "camera_garbage": args.camera_outage,
                 "images_disk_full": args.disk_full, "clock_steps": args.clock_step,
                 "node_failover": 0.0}
    names = args.only or list(FAULTS)
    # The recovery limit: a receiver back after a long outage waits at most the outbox's
    # backoff cap (60 s by default) for the next try.
    with rig() as the_rig:
        for name in names:
            line = run_fault(the_rig, name, durations[name])
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
