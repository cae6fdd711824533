"""Web search benchmark: the search page under concurrent signed-in users. Prints one JSON object.

    python bench/bench_search_web.py [--rows 100000] [--users 20] [--searches 10]
                                     [--thumbs 10] [--pause 0] [--database-url URL]

Runs the real controller and web server (waitress) on loopback, signs in one
named officer per simulated user, and has every user post exact and partial
searches (with purpose, case number and attestation, so each is audited) at the
same time. Every read has a crop and an overview image; after each result page a
user fetches the first --thumbs thumbnails, as a browser does for the rows in
view (the page's images load lazily). The simulated users run in a process of
their own, as browsers do on their own machines: in the server's process their
HTTP client work would hold the server's interpreter lock and be counted as the
server's latency. DESIGN.md section 7 target: search page p95 < 300 ms under 20
concurrent users; thumbnails are reported on their own.

By default each user posts its next search as soon as the last is answered: 20
requests always in flight, the server saturated, so a search waits for the ~19 ahead
of it and p95 is about 20 / throughput whatever one search costs.  ``--pause`` has each
officer read the result page first (a mean of that many seconds, exponential), as
officers at their desks do: the latency an officer sees at that pace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import re
import statistics
import string
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pyotp
from sqlalchemy import Engine

from controller.accounts import users
from controller.app import Controller
from controller.commands.compose import web_factory
from controller.errors import NotFound
from controller.settings import NodeSettings
from controller.settings.loader import settings_from_mapping
from controller.store import accounts as account_repo
from controller.store import hits, sites
from controller.store import users as user_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PASSWORD = "Bench-Passphrase-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
THUMB = re.compile(r'src="(/reads/[^"]+/thumb/[^"]+)"')
IMAGES = {"crop": "images/bench/crop.jpg", "overview": "images/bench/overview.jpg"}


def plate(rng: random.Random) -> str:
    """A California-style plate: digit, three letters, three digits."""
    return (rng.choice(string.digits[1:]) + "".join(rng.choices(string.ascii_uppercase, k=3))
            + "".join(rng.choices(string.digits, k=3)))


def images(data_dir: Path) -> None:
    """The crop and overview every bench read points to (small real JPEGs)."""
    for kind, (width, height) in (("crop", (160, 48)), ("overview", (640, 360))):
        ok, buffer = cv2.imencode(".jpg", np.full((height, width, 3), 120, np.uint8))
        assert ok
        (data_dir / IMAGES[kind]).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / IMAGES[kind]).write_bytes(buffer.tobytes())


def populate(url: str, rows: int, n_users: int,
             data_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Reads (with images) at 10 cameras and ``n_users`` trained officers with TOTP;
    return plates, secrets."""
    images(data_dir)
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    site = sites.create_site(engine, code="bench", name="Bench", latitude=34.0, longitude=-118.0)
    cameras = [sites.create_camera(engine, site, {"name": f"cam {i}", "host": "127.0.0.1"})
               for i in range(10)]
    plates = []
    for start in range(0, rows, 5000):
        batch = []
        for i in range(start, min(rows, start + 5000)):
            text = plate(rng)
            plates.append(text)
            seen = T0 + timedelta(seconds=i * 3)
            batch.append({"read": {
                "uuid": str(uuid.uuid4()), "plate": text, "raw_text": text, "confidence": 0.9,
                "char_confidences": [], "camera_id": cameras[i % 10], "site_id": site,
                "seen_at": seen, "created_at": seen},
                "images": [{"kind": kind, "path": path, "sha256": "0" * 64, "width": 160,
                            "height": 48} for kind, path in IMAGES.items()]})
        hits.write_reads(engine, batch, sinks=[], now=T0)
    secrets = add_officers(engine, n_users)
    engine.dispose()
    return plates, secrets


def add_officers(engine: Engine, n_users: int) -> dict[str, str]:
    """``n_users`` trained officers with TOTP (made once: an existing one is reused with a
    new secret); return name -> TOTP secret."""
    rules = settings_from_mapping({}, "(bench)", env={}).security
    secrets = {}
    for n in range(n_users):
        name = f"bench.officer{n}"
        try:
            user_repo.get(engine, name)
        except NotFound:
            users.add_user(engine, rules, username=name, role="officer", password=PASSWORD,
                           actor="bench")
            users.record_training(engine, username=name, course="ALPR", trainer="bench",
                                  completed_on=date.today() - timedelta(days=1), actor="bench")
        secret = pyotp.random_base32()
        account_repo.set_totp(engine, int(user_repo.get(engine, name)["id"]), secret, True)
        secrets[name] = secret
    return secrets


def sign_in(base: str, name: str, secret: str) -> tuple[httpx.Client, str]:
    """A client signed in as ``name``, and its CSRF token."""
    client = httpx.Client(base_url=base, timeout=30)
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"csrf_token": token, "username": name, "password": PASSWORD,
                                "banner_ack": "yes"})
    client.post("/login/code", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    token = CSRF.search(client.get("/search").text).group(1)  # type: ignore[union-attr]
    return client, token


# One request of a simulated user: the statistic it counts towards and the search form.
Request = tuple[str, dict[str, Any]]


def run_requests(client: httpx.Client, token: str, requests: list[Request], thumbs: int,
                 out: dict[str, list[float]], barrier: threading.Barrier,
                 pause: float = 0.0, seed: int = 0) -> None:
    """Post each search (with purpose, case number and attestation), each followed by its
    first ``thumbs`` thumbnails; record latencies by name.  With ``pause`` 0 the next
    search goes as soon as the last is answered; otherwise the officer reads the page
    first, for a time drawn from an exponential distribution of mean ``pause`` seconds
    (seeded: the same pauses in every run)."""
    rng = random.Random(seed)
    barrier.wait()
    if pause:
        time.sleep(rng.uniform(0, pause))  # officers do not all start at one instant
    for n, (name, fields) in enumerate(requests):
        if pause and n:
            time.sleep(rng.expovariate(1 / pause))
        form = {"csrf_token": token, "attest": "yes", "purpose": "Stolen vehicle investigation",
                "case_number": "26-000001", **fields}
        start = time.perf_counter()
        response = client.post("/search", data=form)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            # Counted, not raised: a thread that died would only shrink the sample.
            out.setdefault(f"{name}_failed_{response.status_code}", []).append(elapsed)
            continue
        out.setdefault(name, []).append(elapsed)
        for src in THUMB.findall(response.text)[:thumbs]:
            start = time.perf_counter()
            image = client.get(src.replace("&amp;", "&"))
            if image.status_code != 200:
                raise RuntimeError(f"thumbnail answered {image.status_code}")
            out.setdefault("thumb", []).append((time.perf_counter() - start) * 1000)


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of the samples, in ms."""
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def summary(samples: list[float]) -> dict[str, float]:
    """n, p50, p95 and max milliseconds."""
    return {"n": len(samples), "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": percentile(samples, 0.95), "max_ms": round(max(samples), 2)}


def measure(base: str, plates: list[str], secrets: dict[str, str],
            searches: int, thumbs: int, pause: float) -> dict[str, Any]:
    """Every user searches at once; latency percentiles per mode."""
    per_user: list[list[Request]] = []
    for n in range(len(secrets)):
        rng = random.Random(n)
        requests: list[Request] = []
        for i in range(searches):
            target = rng.choice(plates)
            mode, text = ("exact", target) if i % 2 == 0 else ("partial", target[:3] + "*")
            requests.append((mode, {"mode": mode, "plate": text}))
        per_user.append(requests)
    out, wall = concurrent(base, secrets, per_user, thumbs, pause)
    result: dict[str, Any] = {"wall_s": round(wall, 2)}
    result.update({mode: summary(samples) for mode, samples in out.items()})
    every = out.get("exact", []) + out.get("partial", [])
    result["all_p95_ms"] = percentile(every, 0.95)
    result["searches_per_s"] = round(len(every) / wall, 1)
    result["thumbs_per_s"] = round(len(out.get("thumb", [])) / wall, 1)
    return result


def concurrent(base: str, secrets: dict[str, str], per_user: list[list[Request]],
               thumbs: int, pause: float = 0.0) -> tuple[dict[str, list[float]], float]:
    """Sign every user in, then have each post its requests at once (one thread each,
    ``pause``: see ``run_requests``); return the latencies by request name and the wall
    time of the run."""
    sessions = [sign_in(base, name, secret) for name, secret in secrets.items()]
    out: dict[str, list[float]] = {}
    barrier = threading.Barrier(len(sessions))
    threads = [threading.Thread(target=run_requests, args=(c, t, per_user[n], thumbs, out,
                                                               barrier, pause, n))
               for n, (c, t) in enumerate(sessions)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for client, _ in sessions:
        client.close()
    return out, wall


def main() -> None:
    """Parse arguments, build the data, run the controller, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--searches", type=int, default=10, help="searches per user")
    parser.add_argument("--thumbs", type=int, default=10,
                        help="thumbnails each user fetches after each result page")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="mean seconds an officer reads a result page before the next "
                             "search (exponential; 0: back to back, the server saturated)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        plates, secrets = populate(url, args.rows, args.users, Path(tmp))
        settings = settings_from_mapping(
            {"data_dir": tmp, "database": {"url": url}, "web": {"port": 0, "threads": 8}},
            "(bench)", env={}).model_copy(update={"node": NodeSettings(run_cameras=False)})

        async def serve() -> dict[str, Any]:
            controller = Controller(settings, web=web_factory())
            await controller.start()
            try:
                base = f"http://127.0.0.1:{controller.web_port}"
                with ProcessPoolExecutor(
                        1, mp_context=multiprocessing.get_context("spawn")) as users_process:
                    return await asyncio.wrap_future(users_process.submit(
                        measure, base, plates, secrets, args.searches, args.thumbs,
                        args.pause))
            finally:
                await controller.stop()

        result = asyncio.run(serve())
    print(json.dumps({"benchmark": "web_search", "rows": args.rows, "users": args.users,
                      "thumbs_per_page": args.thumbs, "pause_s": args.pause,
                      "database": url.split(":")[0],
                      "target_p95_ms": 300, **result}))


if __name__ == "__main__":
    main()
