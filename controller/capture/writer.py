"""The read writer: batches reads (with their hits) into the database, never losing one.

Every batch is first appended to a write-ahead journal (``spool/journal.jsonl``,
fsync'd) and only then written to the database; the journal is emptied once
everything in it is committed. So a read the writer has accepted survives a
crash (the journal is replayed at start) and a database outage (the writer keeps
journaling and replays in order when the database answers again). Replays are
idempotent because reads are unique by uuid and a read's hits are written in its
transaction.

An outage is the store's ``StoreUnavailable`` (a lost or refused connection): the
batch stays journaled and is retried. Any other database error is the database
refusing a row: the rows are retried one by one and the refused one is set aside
in ``rejected.jsonl`` with the reason, so it cannot hold up the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.capture.records import WriterItem
from controller.errors import StoreUnavailable
from controller.metrics import Metrics
from controller.store import Engine
from controller.store import hits as repo
from controller.store.outage import cause, refused

log = logging.getLogger("sightline.writer")

# Reads pending that start a write at once (else the flush timer does); under load
# this is the writer's batch.
BATCH_MAX = 200
# The most reads one transaction stores: a journal that grew during an outage is
# replayed in transactions of this many.
COMMIT_CHUNK = 500


class Journal:
    """An append-only, fsync'd file of accepted but not yet committed items."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "journal.jsonl"
        self.rejected = directory / "rejected.jsonl"

    def append(self, lines: Sequence[str]) -> None:
        """Append and fsync: after this returns the items survive a crash."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[str]:
        """Every journaled line in order (a torn last line from a crash is dropped)."""
        if not self.path.exists():
            return []
        text = self.path.read_text(encoding="utf-8")
        lines = text.split("\n")
        complete = lines[:-1]  # the part after the last newline never finished writing
        return [ln for ln in complete if ln]

    def clear(self) -> None:
        """Everything journaled is committed."""
        with self.path.open("w", encoding="utf-8") as handle:
            handle.flush()
            os.fsync(handle.fileno())

    def reject(self, line: str, error: str) -> None:
        """Keep an item the database refuses (bad data) aside, with the reason."""
        with self.rejected.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"error": error, "item": line}) + "\n")


class ReadWriter:
    """Batch reads into the database through the journal."""

    def __init__(self, engine: Engine, spool_dir: Path, *, sinks: Callable[[], Sequence[str]],
                 on_hits: Callable[[list[str]], None], metrics: Metrics, batch_max: int = BATCH_MAX,
                 flush_seconds: float = 0.2, retry_seconds: float = 2.0,
                 alert_window: timedelta = repo.ALERT_WINDOW) -> None:
        self._engine = engine
        self._alert_window = alert_window
        self._journal = Journal(spool_dir)
        self._sinks = sinks
        self._on_hits = on_hits
        self._metrics = metrics
        self._batch_max = batch_max
        self._flush_seconds = flush_seconds
        self._retry_seconds = retry_seconds
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._kick = asyncio.Event()
        self._unreadable: set[str] = set()  # journal lines already set aside
        # Whether run() has ended (a stop, or a stop cut short): nothing will flush
        # _pending again, so a read handed over after that is journaled at once.
        self._ended = False
        # Held by each append to the journal and from a replay's reading of it to its
        # clearing: a line appended in between would be cleared unstored.
        self._journal_lock = asyncio.Lock()
        self.database_ok = True

    async def submit(self, item: WriterItem) -> None:
        """Hand over a read; returns once it is journaled (accepted).

        After :meth:`run` has ended (a camera still finishing a frame when the writer
        stopped) the read is journaled at once and stored by the next run's replay: it is
        accepted all the same, and its caller is not left waiting for a flush that will
        never come."""
        if self._ended:
            async with self._journal_lock:
                await asyncio.to_thread(self._journal.append, [item.to_json()])
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item.to_json(), future))
        # A hit goes out at once; plain reads wait for the batch to fill or the timer.
        if item.hits or len(self._pending) >= self._batch_max:
            self._kick.set()
        await future

    async def run(self) -> None:
        """Replay what a previous run left, then journal and write batches until cancelled."""
        self._ended = False
        try:
            await self._replay()
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), self._flush_seconds
                                           if self.database_ok else self._retry_seconds)
                self._kick.clear()
                await self.flush()
        finally:
            # From here a read handed over goes straight to the journal; this last
            # flush takes every one handed over before.
            self._ended = True
            await self.flush()

    async def flush(self) -> None:
        """Journal what is pending, then commit the journal if the database answers."""
        batch, self._pending = self._pending, []
        if batch:
            try:
                async with self._journal_lock:
                    await asyncio.to_thread(self._journal.append, [line for line, _ in batch])
            except OSError as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                raise
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
        await self._replay()

    async def _replay(self) -> None:
        async with self._journal_lock:
            await self._replay_locked()

    async def _replay_locked(self) -> None:
        lines = await asyncio.to_thread(self._journal.read)
        if not lines:
            return
        try:
            created = await asyncio.to_thread(self._commit, lines)
        except Exception as exc:  # whatever it is, the journal keeps the batch for a retry
            if self.database_ok:  # once per outage, with its cause
                # An outage needs no traceback; anything else (a pool timeout, a bug)
                # gets one. Neither ends the writer: that would hang every camera.
                outage = isinstance(exc, StoreUnavailable)
                reason = str(exc) if outage else f"writing reads failed ({cause(exc)})"
                log.error("%s; spooling reads to %s", reason, self._journal.path,
                          exc_info=None if outage else exc)
            self.database_ok = False
            self._metrics.reads_spooled.inc(len(lines))
            return
        if not self.database_ok:
            log.warning("database back; replayed %d spooled reads", len(lines))
        self.database_ok = True
        await asyncio.to_thread(self._journal.clear)
        self._unreadable.clear()
        self._metrics.reads_stored.inc(len(lines))
        if created:
            self._metrics.hits_created.inc(len(created))
            self._on_hits(created)

    def _rows(self, lines: list[str]) -> list[tuple[str, dict[str, object]]]:
        """Journal lines with the store's rows: the records become rows only here."""
        rows = []
        for line in lines:
            try:
                rows.append((line, WriterItem.from_json(line).row()))
            except (ValueError, KeyError, TypeError) as exc:
                # Retrying cannot mend it, and kept in the batch it would stop the rest.
                if line not in self._unreadable:  # once, though outages retry the batch
                    self._unreadable.add(line)
                    log.error("unreadable journal line kept aside in %s: %s",
                              self._journal.rejected, exc)
                    self._journal.reject(line, f"unreadable: {exc!r}")
        return rows

    def _commit(self, lines: list[str]) -> list[str]:
        rows = self._rows(lines)
        now = datetime.now(UTC)
        created: list[str] = []
        try:
            for start in range(0, len(rows), COMMIT_CHUNK):
                created += repo.write_reads(self._engine,
                                            [row for _, row in rows[start:start + COMMIT_CHUNK]],
                                            sinks=self._sinks(), now=now,
                                            alert_window=self._alert_window)
        except Exception as exc:
            if not refused(exc):
                raise  # an outage (StoreUnavailable) or a bug: keep the journal
            # One bad row must not hold up the rest: retry singly, set the bad one aside.
            return self._commit_one_by_one(rows, now)
        return created

    def _commit_one_by_one(self, rows: list[tuple[str, dict[str, object]]],
                           now: datetime) -> list[str]:
        created: list[str] = []
        for line, row in rows:
            try:
                created += repo.write_reads(self._engine, [row], sinks=self._sinks(), now=now,
                                            alert_window=self._alert_window)
            except Exception as exc:
                if not refused(exc):
                    raise
                reason = str(getattr(exc, "orig", exc))
                log.error("database refused a read; kept aside in %s: %s",
                          self._journal.rejected, reason)
                self._journal.reject(line, reason)
        return created
