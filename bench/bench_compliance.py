"""Compliance benchmarks (JSON on stdout): audit package build time, purge rate.

    .venv/bin/python bench/bench_compliance.py [--events 20000] [--reads 20000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from controller import audit
from controller.compliance import exports, retention
from controller.settings.loader import settings_from_mapping
from controller.store import hits as hit_repo
from controller.store import sites as site_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade

Q3 = datetime(2026, 7, 1, tzinfo=UTC)


def seed_events(engine: object, count: int) -> None:
    rng = random.Random(7)
    for i in range(count):
        audit.record(engine, audit.AuditEvent(  # type: ignore[arg-type]
            actor=f"user{rng.randrange(40)}", action="search.exact",
            plate=f"{rng.randrange(10**6):06d}A", purpose=rng.choice(
                ["Stolen vehicle investigation", "investigation", "Missing person"]),
            case_number=rng.choice(["26-1", "", "26-2"]), data={"results": 1}),
            at=Q3 + timedelta(seconds=i * 388))


def seed_reads(engine: object, data_dir: Path, count: int) -> None:
    site = site_repo.create_site(engine, code="s", name="s")  # type: ignore[arg-type]
    camera = site_repo.create_camera(engine, site, {"name": "c", "host": "h"})  # type: ignore[arg-type]
    old = datetime.now(UTC) - timedelta(days=800)
    for start in range(0, count, 1000):
        items = []
        for i in range(start, min(count, start + 1000)):
            read_uuid = str(uuid.uuid4())
            relative = Path("images") / "old" / f"{read_uuid}-crop.jpg"
            (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (data_dir / relative).write_bytes(read_uuid.encode())
            items.append({"read": {
                "uuid": read_uuid, "plate": f"P{i}", "raw_text": f"P{i}", "confidence": 0.9,
                "char_confidences": [], "camera_id": camera, "site_id": site,
                "seen_at": old + timedelta(seconds=i), "created_at": old},
                "images": [{"kind": "crop", "path": str(relative), "width": 1, "height": 1,
                            "sha256": hashlib.sha256(read_uuid.encode()).hexdigest()}],
                "hits": [{"uuid": str(uuid.uuid4()), "entry": {}}] if i % 50 == 0 else []})
        hit_repo.write_reads(engine, items, sinks=[], now=old)  # type: ignore[arg-type]


def ingest_while(engine: object, world: tuple[int, int], busy: threading.Event
                 ) -> list[float]:
    """Insert one batch of 50 reads every 20 ms while ``busy`` is set; return latencies."""
    site, camera = world
    latencies = []
    while busy.is_set():
        now = datetime.now(UTC)
        items = [{"read": {"uuid": str(uuid.uuid4()), "plate": "NEW1", "raw_text": "NEW1",
                           "confidence": 0.9, "char_confidences": [], "camera_id": camera,
                           "site_id": site, "seen_at": now, "created_at": now}}
                 for _ in range(50)]
        started = time.monotonic()
        hit_repo.write_reads(engine, items, sinks=[], now=now)  # type: ignore[arg-type]
        latencies.append(time.monotonic() - started)
        time.sleep(0.02)
    return latencies


def main() -> None:
    """Run both measurements and print one JSON object."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--reads", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = settings_from_mapping({"data_dir": str(root / "data")}, "(bench)", env={})
        engine = make_engine(settings.database_url())
        upgrade(engine)
        seed_events(engine, args.events)
        started = time.monotonic()
        folder = exports.build_audit_package(engine, settings, "2026Q3", root, actor="bench")
        build = time.monotonic() - started
        seed_reads(engine, settings.data_dir, args.reads)
        proposal = retention.propose(engine, settings, actor="bench", today=date.today())
        assert proposal is not None
        retention.record_council(engine, proposal["id"], meeting_on=date.today(),
                                 resolution="R", actor="bench")
        retention.record_attorney(engine, proposal["id"], name="A", permitted_on=date.today(),
                                  actor="bench")
        busy = threading.Event()
        busy.set()
        latencies: list[float] = []
        writer = threading.Thread(target=lambda: latencies.extend(
            ingest_while(engine, (1, 1), busy)))
        writer.start()
        try:
            report = retention.purge(engine, settings, proposal["id"], actor="bench")
        finally:
            busy.clear()
            writer.join()
        latencies.sort()
        json.dump({"audit_events": args.events, "package_seconds": round(build, 2),
                   "package_bytes": sum(p.stat().st_size for p in folder.iterdir()),
                   "purged_reads": report.reads, "purge_seconds": round(report.seconds, 2),
                   "purge_reads_per_second": round(report.reads / report.seconds),
                   "ingest_batches_during_purge": len(latencies),
                   "ingest_batch_p95_ms": round(1000 * latencies[int(0.95 * len(latencies))]),
                   "ingest_batch_max_ms": round(1000 * latencies[-1]),
                   "database": "sqlite"}, sys.stdout)
        print()
        engine.dispose()


if __name__ == "__main__":
    main()
