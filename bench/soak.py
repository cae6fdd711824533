"""Soak: ``sightline run`` with N cameras for a long time; do its resources stay flat?

Real processes: the controller is ``sightline run`` (``python -m controller run``) with
its own settings file, on the embedded SQLite database (or ``--database-url``); each
camera is a loopback virtual camera (``controller.demo.camera``: ipycam, ONVIF and
RTSP) showing a loop of vehicles, half of whose plates are listed, so hits flow to a
real HTTP dispatch receiver the whole time.

Every ``--sample-seconds`` the controller process is sampled from /proc: resident
memory, open file descriptors and threads. Reported per series: the value after
start-up (the first sample past the first quarter of the run, when models are compiled
and every pipeline is running), at the end, the peak, the spread over the second half
(max - min) and the trend over the second half as a least-squares slope per hour
(flat: about 0), and the median of the slopes between every two samples after start-up
(Theil-Sen: the frames and tensors in flight swing resident memory by 100 MB or more
from one sample to the next, which tilts a least-squares line far more). Also each
camera's reads, frame rate and pipeline restarts from the
controller's own /metrics, the reads and hits stored, hits delivered and deliveries
received twice. ``passages``: each camera announces its rounds of vehicles
(``controller.demo.camera --announce``), so the report counts the passages it showed
wholly between the first sample after start-up and the end, beside the reads that
camera made in the same span (its /metrics counter at both ends): ``read_share`` is
their ratio, about 1 where the controller keeps up and below it where it skips frames.
The reads stored are then laid on the passages shown (``reads_per_passage``): how many
were read exactly once with their plate, twice or more (split), or never, and how many
reads named a plate the camera never showed; ``read_once_share`` is the first over all
passages, the issue's "every passing plate read exactly once".

    python bench/soak.py [--cameras 4] [--minutes 60] [--height 720|1080]
                         [--fps 10] [--sample-seconds 10] [--database-url URL]
                         [--heap SECONDS] [--trace SECONDS] [--first-stage text|plate]

``--heap`` runs the controller under ``bench/soak_traced.py``, which looks at glibc's heap
from inside every SECONDS: the report adds its bytes in use and its free bytes (the
allocator's holes) as series, so growth is either held by someone or fragmentation.
``--trace`` does the same and adds tracemalloc, so the report also says whether Python
or numpy holds what grew, and where it was allocated (slower). Either also counts each
network's input shapes (``input_shapes``: after start-up, at the end, and each one met
after start-up with the heap's bytes in use then).

Prints one JSON object. The virtual cameras render and encode on the same machine, so
they take CPU from recognition: frame rates are a floor for real cameras.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_latency import provision
from controller.demo.camera import GAP_SECONDS, PASSAGE_SECONDS
from controller.demo.receiver import HitReceiver
from controller.demo.world import DEMO_PLATES, free_port
from controller.settings.inference import FIRST_STAGES, InferenceSettings
from controller.store.engine import make_engine
from controller.store.reads import count_reads_and_hits
from controller.store.schema import cameras as cameras_table
from controller.store.schema import reads as reads_table

SECRET = "soak-receiver-secret"
# 360 is for the shortened run in the test suite; 720 and 1080 are what cameras send.
SIZES = {360: (640, 360), 720: (1280, 720), 1080: (1920, 1080)}
LISTED = DEMO_PLATES[::2]
# The site's code; its cameras are named "<code>-<i>" (bench_latency.provision).
CODE = "SOAK"
# How long the controller may take to exit after SIGTERM (its own stop steps have ten
# seconds in all), and how much of its log a soak that ended badly keeps.
STOP_SECONDS = 60
LOG_TAIL_CHARS = 12_000
# What bench/soak_traced.py reports of the C heap.
HEAP_SERIES = ("in_use_mb", "free_mb", "mmap_mb", "heap_mb", "anon_mb")


@dataclass
class Sample:
    """One look at the controller process."""

    at: float  # seconds since the controller started
    rss_mb: float
    fds: int
    threads: int
    # Of the resident memory: anonymous (heaps, buffers) and file-backed (mapped
    # libraries and model files); a leak grows the first.
    anon_mb: float = 0.0
    file_mb: float = 0.0


@dataclass
class SoakResult:
    """What a soak saw: the samples and the controller's own counters at the end."""

    samples: list[Sample] = field(default_factory=list)
    cameras: list[dict[str, Any]] = field(default_factory=list)
    # Each camera's passages shown and reads made between the first sample after
    # start-up and the end (see ``passages_shown``).
    passages: list[dict[str, Any]] = field(default_factory=list)
    reads_stored: int = 0
    hits_stored: int = 0
    hits_delivered: int = 0
    delivered_twice: int = 0
    exit_code: int | None = None
    # The end of the controller's log when it did not exit cleanly (with every thread's
    # stack when it did not stop within STOP_SECONDS of SIGTERM).
    log_tail: str = ""
    # With --heap or --trace, every look from inside (bench/soak_traced.py): the C heap,
    # and with --trace the traced Python and numpy holdings and the source lines that
    # grew most since the first look.
    looks: list[dict[str, Any]] = field(default_factory=list)


def process_sample(pid: int, at: float) -> Sample:
    """Resident memory (MiB), open descriptors and threads of ``pid``, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    def mib(name: str) -> float:
        return round(int(fields.get(name, "0 kB").split()[0]) / 1024, 1)

    return Sample(at=round(at, 1), rss_mb=mib("VmRSS"),
                  fds=len(os.listdir(f"/proc/{pid}/fd")), threads=int(fields["Threads"]),
                  anon_mb=mib("RssAnon"), file_mb=mib("RssFile"))


def series(samples: list[Sample], name: str) -> dict[str, float | None]:
    """After start-up, end, peak, second-half spread and second-half slope per hour."""
    return trend([(s.at, float(getattr(s, name))) for s in samples])


def trend(values: list[tuple[float, float]]) -> dict[str, float | None]:
    """Of (seconds, value) pairs: after start-up, end, peak, second-half spread and
    second-half slope per hour; and the means of the second half's two halves (the
    third and the last quarter of the samples), whose difference a swing at either end
    moves far less than it moves the slope."""
    if not values:
        return {}
    # After start-up: from the first sample past the first quarter of the run.
    after = [(t, v) for t, v in values if t >= values[-1][0] / 4] or values[:1]
    settled = after[0][1]
    late = values[len(values) // 2:]
    slope = None
    if len(late) >= 3:
        slope = round(float(np.polyfit([t for t, _ in late], [v for _, v in late], 1)[0])
                      * 3600, 2)
    third, last = late[: len(late) // 2], late[len(late) // 2:]
    means = {}
    if third:
        means = {"third_quarter_mean": round(float(np.mean([v for _, v in third])), 1),
                 "last_quarter_mean": round(float(np.mean([v for _, v in last])), 1)}
    return {"after_start": settled, "end": values[-1][1], "peak": max(v for _, v in values),
            "second_half_spread": max(v for _, v in late) - min(v for _, v in late),
            "second_half_per_hour": slope, **means,
            "after_start_median_slope_per_hour": median_slope(after)}


# median_slope looks at no more samples than this (evenly spaced): its pairs grow as the
# square of the samples, and a day sampled every 10 s (8,640) would make 37 million.
SLOPE_SAMPLES = 1500


def median_slope(values: list[tuple[float, float]]) -> float | None:
    """The median of the slopes (per hour) between every two of the (seconds, value)
    pairs (at most SLOPE_SAMPLES of them, evenly spaced): the Theil-Sen estimate of the
    trend, which memory swinging up and down with the frames in flight hardly moves, as
    it moves a least-squares line; None for fewer than three pairs."""
    if len(values) < 3:
        return None
    values = values[:: -(-len(values) // SLOPE_SAMPLES)]
    t = np.array([at for at, _ in values])
    v = np.array([value for _, value in values])
    first, second = np.triu_indices(len(values), k=1)
    apart = t[second] - t[first]
    kept = apart > 0
    slopes = (v[second] - v[first])[kept] / apart[kept]
    return round(float(np.median(slopes)) * 3600, 2) if slopes.size else None


@dataclass
class VirtualCamera:
    """A virtual camera's RTSP URL and the wall-clock times its rounds of passages began."""

    url: str
    rounds: list[float] = field(default_factory=list)


def schedule(rounds: list[float]) -> list[tuple[str, float, float]]:
    """Every passage a camera showed, as (plate, first, last) on the wall clock, given when
    each of its rounds began (``controller.demo.camera``: plate i of a round passes from
    GAP_SECONDS + i * (PASSAGE_SECONDS + GAP_SECONDS) after it, for PASSAGE_SECONDS)."""
    out = []
    for began in rounds:
        for i, plate in enumerate(DEMO_PLATES):
            first = began + GAP_SECONDS + i * (PASSAGE_SECONDS + GAP_SECONDS)
            out.append((plate, first, first + PASSAGE_SECONDS))
    return out


def passages_shown(rounds: list[float], start: float, end: float) -> int:
    """How many passages a camera showed wholly between ``start`` and ``end`` (wall clock)."""
    return sum(first >= start and last <= end for _, first, last in schedule(rounds))


def reads_per_passage(rounds: list[float], reads: list[tuple[str, float]], start: float,
                      end: float) -> dict[str, int]:
    """How one camera's stored reads ((plate, seen_at) on the wall clock) fall on the
    passages it showed wholly between ``start`` and ``end``.

    Each read of a plate the camera showed belongs to that plate's passage nearest in
    time (one plate passes once a round, about 23 s apart). Of the passages in the
    window: ``once`` read exactly once, ``twice`` two or more times (a split passage),
    ``missed`` never read with their plate; ``misread``: reads in the window of a plate
    the camera never showed (a wrong character, half a plate)."""
    shown = schedule(rounds)
    by_plate: dict[str, list[int]] = {}
    for k, (plate, _, _) in enumerate(shown):
        by_plate.setdefault(plate, []).append(k)
    count = [0] * len(shown)
    misread = 0
    for plate, at in reads:
        same = by_plate.get(plate)
        if not same:
            misread += start <= at <= end
            continue
        count[min(same, key=lambda k: abs((shown[k][1] + shown[k][2]) / 2 - at))] += 1
    inside = [count[k] for k, (_, first, last) in enumerate(shown)
              if first >= start and last <= end]
    return {"once": sum(n == 1 for n in inside), "twice": sum(n >= 2 for n in inside),
            "missed": sum(n == 0 for n in inside), "misread": misread}


def _listen(proc: subprocess.Popen[str], camera: VirtualCamera) -> None:
    """Note each ``ROUND <unix time>`` the camera prints, until its output ends."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ROUND "):
            camera.rounds.append(float(line.split()[1]))


@contextmanager
def cameras(n: int, height: int, fps: int) -> Iterator[list[VirtualCamera]]:
    """``n`` virtual cameras looping the demo's vehicles, announcing their rounds."""
    width, height = SIZES[height]
    procs: list[subprocess.Popen[str]] = []
    try:
        started = []
        for _ in range(n):
            proc = subprocess.Popen(
                [sys.executable, "-m", "controller.demo.camera",
                 "--onvif-port", str(free_port()), "--rtsp-port", str(free_port()),
                 "--plates", ",".join(DEMO_PLATES), "--lead-in", "2", "--fps", str(fps),
                 "--width", str(width), "--height", str(height), "--announce"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            procs.append(proc)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("READY"):
                raise RuntimeError(f"virtual camera did not start: {line!r}")
            camera = VirtualCamera(line.split()[1])
            threading.Thread(target=_listen, args=(proc, camera), daemon=True).start()
            started.append(camera)
        yield started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def prepare(root: Path, database_url: str | None, urls: list[str],
            receiver: HitReceiver,
            inference: dict[str, Any] | None = None) -> tuple[Path, dict[str, str], int, str]:
    """The database (migrated, program active, hotlist, one site with the cameras) and
    the controller's settings file (``inference``: settings of its ``inference``
    section, such as ``first_stage`` or ``warm_up``; None for its defaults); returns it,
    the environment, the web port and the database URL."""
    data = root / "data"
    data.mkdir(mode=0o700)
    port = free_port()
    config: dict[str, Any] = {
        "data_dir": str(data), "web": {"host": "127.0.0.1", "port": port},
        "dispatch": {"webhooks": [{"name": "cad", "url": receiver.url,
                                   "secret_env": "SIGHTLINE_SOAK_SECRET"}]}}
    path = root / "sightline.yaml"
    env = {**os.environ, "SIGHTLINE_SOAK_SECRET": SECRET,
           "SIGHTLINE_SECRET_KEY": "soak-instance-secret-0123456789abcdef"}
    url = database_url or f"sqlite:///{data / 'sightline.db'}"
    config["database"] = {"url": url}
    if inference:
        config["inference"] = inference
    path.write_text(json.dumps(config))
    engine = make_engine(url)
    try:
        provision(engine, urls, LISTED, code=CODE)
    finally:
        engine.dispose()
    return path, env, port, url


def soak(n: int, seconds: float, *, height: int = 720, fps: int = 10,
         sample_seconds: float = 10.0, database_url: str | None = None,
         look_seconds: float = 0.0, python_trace: bool = False,
         inference: dict[str, Any] | None = None) -> SoakResult:
    """Run the controller with ``n`` cameras for ``seconds``, sampling it; with
    ``look_seconds``, a look at its heap from inside that often (and with
    ``python_trace``, under Python's allocation tracing)."""
    result = SoakResult()
    receiver = HitReceiver(SECRET.encode())
    receiver.start()
    with ExitStack() as stack:
        stack.callback(receiver.stop)
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sightline-soak-")))
        shown = stack.enter_context(cameras(n, height, fps))
        config, env, port, url = prepare(root, database_url, [c.url for c in shown],
                                         receiver, inference)
        log = (root / "controller.log").open("wb")
        stack.callback(log.close)
        command = ["-m", "controller", "--config", str(config), "run"]
        traced = root / "looks.jsonl"
        if look_seconds:
            command = [str(Path(__file__).with_name("soak_traced.py")), str(traced),
                       str(look_seconds), *(["--python"] if python_trace else []),
                       "--", *command[2:]]
        proc = subprocess.Popen([sys.executable, *command], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        t0 = time.monotonic()
        settled: tuple[float, list[dict[str, Any]]] | None = None
        window = (0.0, 0.0)
        try:
            while (now := time.monotonic() - t0) < seconds:
                if proc.poll() is not None:
                    break
                result.samples.append(process_sample(proc.pid, now))
                if settled is None and now >= seconds / 4:
                    settled = counters_now(port)
                time.sleep(sample_seconds)
            if proc.poll() is None:
                result.cameras = metrics_per_camera(port)
                if settled is not None:
                    window = (settled[0], time.time())
                    result.passages = passages_and_reads(shown, settled,
                                                         (window[1], result.cameras))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGUSR1)  # every thread's stack, to the log
                    time.sleep(2)
                    proc.kill()
                    proc.wait()
            result.exit_code = proc.returncode
            if result.exit_code != 0:
                log.flush()
                text = (root / "controller.log").read_text(errors="replace")
                result.log_tail = text[-LOG_TAIL_CHARS:]
        engine = make_engine(url)
        try:
            result.reads_stored, result.hits_stored = count_reads_and_hits(engine)
            if result.passages:
                stored = reads_by_camera(engine)
                for passage, camera in zip(result.passages, shown, strict=True):
                    passage.update(reads_per_passage(camera.rounds,
                                                     stored.get(passage["camera"], []),
                                                     *window))
        finally:
            engine.dispose()
        if traced.is_file():
            result.looks = [json.loads(line) for line in traced.read_text().splitlines()]
        result.hits_delivered = len(receiver.received.hits)
        result.delivered_twice = receiver.received.duplicates
    return result


def reads_by_camera(engine: Engine) -> dict[str, list[tuple[str, float]]]:
    """Every stored read as (plate, seen_at on the wall clock), by its camera's name."""
    query = select(cameras_table.c.name, reads_table.c.plate, reads_table.c.seen_at).join(
        cameras_table, cameras_table.c.id == reads_table.c.camera_id)
    out: dict[str, list[tuple[str, float]]] = {}
    with engine.connect() as conn:
        for name, plate, seen_at in conn.execute(query):
            out.setdefault(name, []).append((plate, seen_at.timestamp()))
    return out


def metrics_per_camera(port: int) -> list[dict[str, Any]]:
    """Per-camera gauges from the controller's Prometheus /metrics (loopback)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    wanted = {"sightline_camera_up": "up", "sightline_camera_fps": "fps",
              "sightline_camera_reads": "reads", "sightline_camera_restarts": "restarts"}
    cameras: dict[str, dict[str, Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted:
                cameras.setdefault(sample.labels["camera"], {})[wanted[sample.name]] = \
                    sample.value
    return [{"camera": k, **v} for k, v in sorted(cameras.items())]


def counters_now(port: int) -> tuple[float, list[dict[str, Any]]] | None:
    """The wall clock and the per-camera counters now; None while /metrics does not
    answer (the controller is still starting: a later sample asks again)."""
    try:
        return time.time(), metrics_per_camera(port)
    except httpx.HTTPError:
        return None


def passages_and_reads(shown: list[VirtualCamera], start: tuple[float, list[dict[str, Any]]],
                       end: tuple[float, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per camera (named as ``provision`` names them): the passages it showed wholly
    between the two looks at the counters and the reads it made in between."""
    def reads(counters: list[dict[str, Any]]) -> dict[str, float]:
        return {c["camera"]: c.get("reads", 0.0) for c in counters}

    before, after = reads(start[1]), reads(end[1])
    out = []
    for i, camera in enumerate(shown):
        name = f"{CODE.lower()}-{i}"
        passed = passages_shown(camera.rounds, start[0], end[0])
        made = int(after.get(name, 0.0) - before.get(name, 0.0))
        out.append({"camera": name, "passages": passed, "reads": made,
                    "read_share": round(made / passed, 3) if passed else None})
    return out


def report(result: SoakResult, n: int, seconds: float, height: int, fps: int) -> dict[str, Any]:
    """The soak's JSON figures."""
    return {"benchmark": "soak", "cameras": n, "seconds": seconds,
            "resolution": f"{SIZES[height][0]}x{SIZES[height][1]}", "camera_fps": fps,
            "samples": len(result.samples), "exit_code": result.exit_code,
            "rss_mb": series(result.samples, "rss_mb"),
            "anon_mb": series(result.samples, "anon_mb"),
            "file_mb": series(result.samples, "file_mb"), "fds": series(result.samples, "fds"),
            "threads": series(result.samples, "threads"), "per_camera": result.cameras,
            "passages": result.passages,
            "read_share": share(result.passages),
            **{f"passages_{key}": sum(p.get(key, 0) for p in result.passages)
               for key in ("once", "twice", "missed", "misread")},
            "read_once_share": share(result.passages, "once"),
            "reads_stored": result.reads_stored, "hits_stored": result.hits_stored,
            "hits_delivered": result.hits_delivered,
            "delivered_twice": result.delivered_twice, "cpu_cores": os.cpu_count(),
            "c_heap": {name: trend([(look["at_s"], look[name]) for look in result.looks
                                    if name in look])
                       for name in HEAP_SERIES},
            "python_trace": first_and_last([look for look in result.looks
                                            if "traced_mb" in look]),
            "input_shapes": shapes_met(result.looks)}


def shapes_met(looks: list[dict[str, Any]]) -> dict[str, Any]:
    """Of the looks from inside: each network's count of input shapes met after start-up
    (the first look past the first quarter) and at the end, and every shape met after
    start-up with the look's time and the heap's bytes in use then."""
    counted = [look for look in looks if "shapes" in look]
    if not counted:
        return {}
    settled = next((i for i, look in enumerate(counted)
                    if look["at_s"] >= counted[-1]["at_s"] / 4), 0)
    late = [{"at_s": look["at_s"], "in_use_mb": look.get("in_use_mb"), "network": name,
             "shape": shape}
            for look in counted[settled + 1:] for name, shape in look["new_shapes"]]
    return {"after_start": counted[settled]["shapes"], "end": counted[-1]["shapes"],
            "met_after_start": late}


def share(passages: list[dict[str, Any]], key: str = "reads") -> float | None:
    """All cameras' reads (or passages read ``once``, see ``reads_per_passage``) over all
    their passages shown (see ``passages_and_reads``)."""
    shown = sum(p["passages"] for p in passages)
    return round(sum(p.get(key, 0) for p in passages) / shown, 3) if shown else None


def first_and_last(looks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first and the last of ``looks`` (the one there is, or none)."""
    return looks[:1] + looks[1:][-1:]


def main() -> None:
    """Run one soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--height", type=int, default=720, choices=sorted(SIZES))
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--heap", type=float, default=0.0, metavar="SECONDS",
                        help="look at the C heap from inside every SECONDS")
    parser.add_argument("--trace", type=float, default=0.0, metavar="SECONDS",
                        help="as --heap, and trace Python's allocations (slower)")
    parser.add_argument("--first-stage", choices=FIRST_STAGES, default=None,
                        help="the controller's inference.first_stage (default: its own)")
    parser.add_argument("--warm-up", action=argparse.BooleanOptionalAction, default=None,
                        help="inference.warm_up on (every input shape met at the first "
                             "frame) or off (default: the controller's own)")
    args = parser.parse_args()
    seconds = args.minutes * 60
    result = soak(args.cameras, seconds, height=args.height, fps=args.fps,
                  sample_seconds=args.sample_seconds, database_url=args.database_url,
                  look_seconds=args.trace or args.heap, python_trace=bool(args.trace),
                  inference={**({"first_stage": args.first_stage} if args.first_stage else {}),
                             **({} if args.warm_up is None else {"warm_up": args.warm_up})})
    figures = report(result, args.cameras, seconds, args.height, args.fps)
    print(json.dumps({**figures, "first_stage": args.first_stage or "the default",
                      "warm_up": InferenceSettings().warm_up if args.warm_up is None
                      else args.warm_up}))


if __name__ == "__main__":
    main()
