"""Glass-to-hit latency: frame decoded -> webhook received, with 4 and 8 cameras.

Each camera is a loopback virtual camera (``controller.demo.camera``) showing
vehicles whose plates are all on the hotlist, so every read is a hit. Two
numbers per run, both p50/p95 in seconds on one monotonic clock:

- ``from_decision``: from the decoded frame whose processing closed the passage
  to the signed webhook arriving at the receiver (what the controller adds);
- ``from_last_sighting``: from the last frame the plate was seen in before its
  read came out.  A listed plate is read out early, while still in view (once its
  track has enough sightings and a direction), so for hits the two are the same;
  a passage that is not listed also waits ``inference.track_timeout_s`` to close.

``from_decision_stages`` splits the first: ``queued`` (the deciding frame waiting for
its camera's recognition, behind earlier frames), ``recognised_and_accepted``
(recognising it, the read's images and its journal entry) and ``stored_and_delivered``
(the database commit, dispatch and the webhook).

Per run it also reports the controller process's resident memory (``sightline run``'s
process: recognition, pipelines, web, store; the virtual cameras are other processes),
sampled every second: after start, at the end, the peak, and its trend over the second
half of the run in MB per minute (flat: about 0).

Per run it also reports what each camera's pipeline did (from the controller's own
health counters): frames/s arriving, reads, hits, and passages the tracker split in
two that the repeat window merged back (``dropped_repeat``: 0 when every passage was
read exactly once).  The virtual cameras render and encode on the same machine, so
they take CPU from recognition: the numbers are a floor for real cameras.

    python bench/bench_latency.py [--cameras 4 8] [--seconds 40] [--height 720|1080]
        [--first-stage text|plate]

``--first-stage`` sets ``inference.first_stage`` (the detection stage, see
``inference.pipeline.RecognizerConfig``); the default is the controller's.

When the machine cannot keep up (more cameras than fit: the virtual cameras' own
rendering starves, their streams end), a run still ends on time: the controller is
given ``STOP_TIMEOUT_S`` to stop (``stopped_in_time`` says whether it did), a camera
that does not end when asked is killed, and the run's figures say what broke.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from controller.accounts import users
from controller.alerts import hotlists
from controller.app import Controller
from controller.compliance import program
from controller.demo.receiver import HitReceiver
from controller.demo.world import DEMO_PLATES, free_port
from controller.settings import HotlistSettings
from controller.settings.inference import FIRST_STAGES
from controller.settings.loader import settings_from_mapping
from controller.store import sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

SECRET = "bench-secret"


SIZES = {720: (1280, 720), 1080: (1920, 1080)}
# Seconds the controller and each virtual camera are given to stop after a run.
STOP_TIMEOUT_S = 60.0
CAMERA_STOP_S = 10.0


def start_cameras(n: int, height: int = 720) -> tuple[list[subprocess.Popen[str]], list[str]]:
    """Start ``n`` virtual cameras; return the processes and their RTSP URLs."""
    procs, urls = [], []
    width, height = SIZES[height]
    for _ in range(n):
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller.demo.camera", "--onvif-port", str(free_port()),
             "--rtsp-port", str(free_port()), "--plates", ",".join(DEMO_PLATES),
             "--lead-in", "3", "--width", str(width), "--height", str(height)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        urls.append(proc.stdout.readline().split()[1])
        procs.append(proc)
    return procs, urls


def stop_cameras(procs: list[subprocess.Popen[str]]) -> None:
    """Ask every virtual camera to end; kill one that has not after ``CAMERA_STOP_S``."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(CAMERA_STOP_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb() -> float:
    """This process's resident memory now, in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def sample_rss(samples: list[tuple[float, float]], seconds: float) -> None:
    """Append (seconds since start, MiB) every second for ``seconds``."""
    t0 = time.monotonic()
    while (now := time.monotonic() - t0) < seconds:
        samples.append((now, rss_mb()))
        await asyncio.sleep(1.0)


def memory(samples: list[tuple[float, float]]) -> dict[str, float | None]:
    """Resident memory after start, at the end, its peak and its late trend (MB/min)."""
    if not samples:
        return {}
    late = samples[len(samples) // 2:]
    slope = None
    if len(late) >= 3:
        times = [t for t, _ in late]
        values = [v for _, v in late]
        slope = round(float(np.polyfit(times, values, 1)[0]) * 60, 1)
    return {"rss_mb_start": round(samples[0][1], 1), "rss_mb_end": round(samples[-1][1], 1),
            "rss_mb_peak": round(max(v for _, v in samples), 1),
            "rss_mb_per_min_second_half": slope}


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank), or None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def provision(engine: Engine, urls: list[str], listed: list[str] | tuple[str, ...],
              code: str = "BENCH") -> None:
    """A migrated database ready to read: one site with a camera per RTSP URL, the
    policy published, the program active and ``listed`` on an official hotlist."""
    upgrade(engine)
    site = sites.create_site(engine, code=code, name="bench")
    for i, url in enumerate(urls):
        sites.create_camera(engine, site, {"name": f"{code.lower()}-{i}", "host": "127.0.0.1",
                                           "stream_uri": url})
    users.publish_policy(engine, version="462-bench", title="Policy 462",
                         adopted_on=date(2026, 1, 2), text="ALPR policy", actor="bench")
    program.activate(engine, hearing_on=date(2026, 1, 5), adopted_on=date(2026, 2, 1),
                     resolution=f"{code}-1", actor="bench")
    rows = "".join(f"{p},stolen\n" for p in listed)
    hotlists.import_hotlist(engine, HotlistSettings(official_feeds=("bench",)),
                            f"plate,category\n{rows}".encode(), "bench", actor="bench")


async def run(n: int, seconds: float, height: int = 720,
              first_stage: str | None = None) -> dict[str, object]:
    """One measurement with ``n`` cameras (``first_stage`` None: the controller's own)."""
    arrivals: dict[str, float] = {}
    # read uuid -> (last sighting, deciding frame decoded, its recognition started, accepted)
    decided: dict[str, tuple[float, float, float, float]] = {}

    def arrived(hit: dict[str, Any]) -> None:
        arrivals.setdefault(hit["read"]["id"], time.monotonic())

    receiver = HitReceiver(SECRET.encode(), on_hit=arrived)
    receiver.start()
    procs, urls = start_cameras(n, height)
    health: list[dict[str, object]] = []
    rss: list[tuple[float, float]] = []
    stopped = True
    left: list[asyncio.Task[Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SIGHTLINE_BENCH_SECRET"] = SECRET
        settings = settings_from_mapping({
            "data_dir": tmp, "web": {"port": 0},
            "dispatch": {"webhooks": [{"name": "cad", "url": receiver.url,
                                       "secret_env": "SIGHTLINE_BENCH_SECRET"}]},
            # Steady state: the warm-up's first frames (inference.warm_up) are the
            # soak's and bench_warm_up's to measure, not the glass-to-hit latency's.
            "inference": {"warm_up": False,
                          **({"first_stage": first_stage} if first_stage else {})}},
            "(bench)", env={})
        engine = make_engine(settings.database_url())
        provision(engine, urls, DEMO_PLATES)
        controller = Controller(settings)
        await controller.start()
        assert controller.runtime is not None
        controller.runtime.read_observer = (
            lambda uid, last, decision, started: decided.__setitem__(
                uid, (last, decision, started, time.monotonic())))
        # Pipelines were built before the observer was set: rebuild them with it.
        if controller.runtime.pipelines is not None:
            await controller.runtime.pipelines.stop_all()
            await controller.runtime.pipelines.reconcile()
        try:
            await sample_rss(rss, seconds)
            if controller.runtime.pipelines is not None:
                health = controller.runtime.pipelines.health()
        finally:
            try:
                await asyncio.wait_for(controller.stop(), STOP_TIMEOUT_S)
            except TimeoutError:
                stopped = False
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in left:  # what the controller left running, for whoever reads this
                print(f"left running after the controller stopped: {task!r}", file=sys.stderr)
                task.print_stack(limit=8, file=sys.stderr)
            stop_cameras(procs)
            receiver.stop()
            engine.dispose()
    delivered = [(times, arrivals[u]) for u, times in decided.items() if u in arrivals]
    both = [(arrived - d, arrived - last) for (last, d, _, _), arrived in delivered]
    # Where the time from the deciding frame goes: waiting for recognition (the frame
    # queued behind earlier ones), recognising it and accepting the read (images,
    # journal), and the hit's way from the journal to the receiver (commit, dispatch).
    stages = {
        "queued": [s - d for (_, d, s, _), _ in delivered],
        "recognised_and_accepted": [a - s for (_, _, s, a), _ in delivered],
        "stored_and_delivered": [arrived - a for (_, _, _, a), arrived in delivered]}
    per_camera = [{k: h.get(k) for k in ("fps", "reads", "hits", "dropped_repeat", "restarts")}
                  for h in health]
    return {"cameras": n, "resolution": f"{SIZES[height][0]}x{SIZES[height][1]}",
            "first_stage": settings.inference.first_stage,
            "seconds": seconds, "stopped_in_time": stopped, "tasks_left": len(left),
            "per_camera": per_camera,
            "hits": len(both), **memory(rss),
            "from_decision_p50": percentile([a for a, _ in both], 0.5),
            "from_decision_p95": percentile([a for a, _ in both], 0.95),
            "from_last_sighting_p50": percentile([b for _, b in both], 0.5),
            "from_last_sighting_p95": percentile([b for _, b in both], 0.95),
            "from_decision_stages": {
                name: {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95)}
                for name, values in stages.items()}}


def main() -> None:
    """Run every camera count and print one JSON object."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--height", type=int, default=720, choices=sorted(SIZES))
    parser.add_argument("--first-stage", choices=FIRST_STAGES, default=None)
    args = parser.parse_args()
    # One loop for every run, never closed here: closing it would wait for every task
    # left (a controller that did not stop in time) and could wait forever.
    loop = asyncio.new_event_loop()
    results = [loop.run_until_complete(run(n, args.seconds, args.height, args.first_stage))
               for n in args.cameras]
    print(json.dumps({"benchmark": "glass_to_hit_latency", "runs": results,
                      "cpu_cores": os.cpu_count(), "path": str(Path.cwd())}), flush=True)
    if not all(r["stopped_in_time"] for r in results):
        # A controller that did not stop leaves its threads behind: end anyway.
        os._exit(0)


if __name__ == "__main__":
    main()
