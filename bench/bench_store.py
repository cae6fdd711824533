"""Store benchmark: ingest rate and search latency over N reads. Prints one JSON object.

    python bench/bench_store.py [--rows 200000] [--database-url URL]

DESIGN.md section 7 targets (10 M reads): exact < 20 ms, partial `7AB*12?` < 300 ms,
canvass (10 cameras x 2 hours) < 100 ms, ingest >= 5,000 reads/s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from controller.store import hits, reads, sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def plate(rng: random.Random) -> str:
    """A California-style plate: digit, three letters, three digits."""
    return (rng.choice(string.digits[1:]) + "".join(rng.choices(string.ascii_uppercase, k=3))
            + "".join(rng.choices(string.digits, k=3)))


def timed(fn: object, repeat: int = 20) -> dict[str, float]:
    """Median and p95 milliseconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3)}


def writer_batch(rng: random.Random, site: int, cams: list[int], times: list[datetime],
                 created: datetime) -> list[dict[str, Any]]:
    """What the controller's writer stores for reads seen at ``times``: each read at one of
    ``cams`` with its two image rows (``hits.write_reads`` items)."""
    batch = []
    for seen in times:
        p = plate(rng)
        read_uuid = str(uuid.UUID(int=rng.getrandbits(128)))
        batch.append({"read": {
            "uuid": read_uuid, "plate": p, "raw_text": p, "confidence": 0.9,
            "char_confidences": [], "camera_id": rng.choice(cams), "site_id": site,
            "seen_at": seen, "created_at": created},
            "images": [{"kind": kind, "path": f"images/{read_uuid}-{kind}.jpg",
                        "sha256": "0" * 64, "width": 640, "height": 360}
                       for kind in ("crop", "overview")]})
    return batch


def main() -> None:
    """Fill a database with synthetic reads and time ingest and the three searches."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--cameras", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    rng = random.Random(462)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        upgrade(engine)
        site = sites.create_site(engine, code=f"B{uuid.uuid4().hex[:6]}", name="bench")
        cams = [sites.create_camera(engine, site, {"name": f"c{i}", "host": "127.0.0.1"})
                for i in range(args.cameras)]
        span = timedelta(days=30)
        step = span / args.rows
        start = time.perf_counter()
        for offset in range(0, args.rows, args.batch):
            times = [T0 + step * i for i in range(offset, min(offset + args.batch, args.rows))]
            hits.write_reads(engine, writer_batch(rng, site, cams, times, T0), sinks=[], now=T0)
        ingest_s = time.perf_counter() - start
        probe = plate(rng)
        mid = T0 + span / 2
        result = {
            "benchmark": "store", "dialect": engine.dialect.name, "rows": args.rows,
            "ingest_reads_per_s_with_images": round(args.rows / ingest_s),
            "exact": timed(lambda: reads.search_exact(engine, probe)),
            "partial_7AB*12?": timed(lambda: reads.search_partial(engine, "7AB*12?"), 5),
            "canvass_10cams_2h": timed(lambda: reads.search_canvass(
                engine, cams[:10], mid, mid + timedelta(hours=2), limit=10_000), 10),
        }
        engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
