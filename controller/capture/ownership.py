"""Which cameras this node runs: camera leases on PostgreSQL, one node on SQLite.

Why leases and not advisory locks: a session advisory lock lives exactly as long
as one database connection. That is right for a SIGKILL (the connection dies,
the lock goes), but wrong for a network blip or a pool reconnect: the lock is
gone at once while the node, which has not noticed, still reads its cameras, and
another node takes them. A lease row survives a blip, is renewed every
``node.renew_seconds``, expires ``node.lease_seconds`` after its last renewal by
the database's clock, and carries an epoch that fences the holder that lost it.

"Never two nodes on one camera" is kept where reads are taken, not where they are
written: the holder stops recording a camera's reads (and then its pipeline)
``node.stop_after_seconds()`` (two thirds of a lease) after the start of its last
good renewal, by its own monotonic clock, so before the lease can expire in the
database, where another node may take it only after expiry. The read writer does
not reject reads by epoch: it replays its journal after a database outage, and a
read taken under a valid lease and replayed after that lease moved is still a
true read, which the policy says must not be lost (DESIGN.md section 8).

Hand-back: a camera's own node (``node.sites``) asks a stand-in (a node that
took it under ``node.failover_sites``) for it; the stand-in sees the request at
its next renewal, stops the camera, and only then releases the lease, which the
own node acquires at its next pass. At no moment do both run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from controller import audit
from controller.errors import ConfigError
from controller.metrics import OwnedCamera
from controller.settings import NodeSettings
from controller.store import Engine
from controller.store import leases as lease_repo
from controller.store import sites as site_repo
from controller.store.outage import OutageLog

log = logging.getLogger("sightline.leases")

T = TypeVar("T")


@dataclass
class Held:
    """A lease this node holds, and until when (monotonic) its camera may be read."""

    epoch: int
    expires_at: datetime
    fresh_until: float
    name: str
    site: str


@dataclass(frozen=True)
class Candidate:
    """An enabled camera with a stream at one of this node's sites (own or stand-in)."""

    camera_id: int
    name: str
    site: str


class SingleNodeLock:
    """SQLite is single-node: a lock file beside the database file, held (``flock``) for
    as long as the node runs cameras, refuses a second node on the same file. The kernel
    lets go of it when the process ends, SIGKILL included, so no stale lock is left."""

    def __init__(self, database: Path, node: str) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".node-lock")
        self._node = node
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``ConfigError`` naming the node that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another node"
            os.close(fd)
            raise ConfigError(
                f"database.url: SQLite is single-node, and {holder} already runs cameras on "
                f"{self.database}; stop that node, or move to PostgreSQL to run several nodes "
                "(README: Running on PostgreSQL)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"node {self._node} (pid {os.getpid()})\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the next node start."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class SingleNode:
    """SQLite: one node, which runs every camera of its sites; no leases."""

    def __init__(self, node: NodeSettings) -> None:
        self._node = node

    def owns(self, camera_id: int) -> bool:
        """Every camera is this node's."""
        return True

    def report(self) -> list[OwnedCamera]:
        """Nothing held by lease (health shows the node from the cameras' health rows)."""
        return []

    async def run(self) -> None:
        """Nothing to renew."""

    async def tick(self) -> None:
        """Nothing to acquire."""

    async def release_all(self) -> None:
        """Nothing to release."""


class LeaseKeeper:
    """Acquires, renews, hands back and releases this node's camera leases (PostgreSQL)."""

    def __init__(self, engine: Engine, node: NodeSettings, *,
                 stop_camera: Callable[[int], Awaitable[None]], started: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._node = node
        self._me = node.name
        self._actor = f"node:{node.name}"
        self._stop_camera = stop_camera
        self._started = started
        self._clock = clock
        self._held: dict[int, Held] = {}
        self._pending: list[audit.AuditEvent] = []
        self._outage = OutageLog(log, "camera lease renewal",
                                 "cameras stop before their leases can expire")

    # --- what the pipelines and health ask ------------------------------------------------

    def owns(self, camera_id: int) -> bool:
        """Whether this node holds the camera's lease and its last renewal is fresh enough
        to read: asked before a pipeline starts and before every read is recorded. A node
        that claims every site (no ``node.sites``) has no stand-in, so a lease it holds
        stays its own while the database cannot be reached."""
        held = self._held.get(camera_id)
        if held is None:
            return False
        return not self._node.sites or self._clock() < held.fresh_until

    def report(self) -> list[OwnedCamera]:
        """The leases this node holds, for its health."""
        return [OwnedCamera(camera_id, h.name, h.site, h.epoch, h.expires_at)
                for camera_id, h in sorted(self._held.items())]

    def _own_site(self, site: str) -> bool:
        return not self._node.sites or site in self._node.sites

    # --- the pass ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Renew and look for cameras every ``node.renew_seconds`` until cancelled."""
        while True:
            await asyncio.sleep(self._node.renew_seconds)
            await self.tick()

    async def tick(self) -> None:
        """One pass: renew what is held, give up what is lost or asked back, take what is
        free. A database that does not answer only lets held leases run out."""
        try:
            await self._renew()
            await self._take()
        except Exception as exc:  # an outage: the leases run out, the cameras stop in time
            self._outage.failed(exc)
            await self._stop_stale()
        else:
            self._outage.succeeded()
            await self._write_audit()

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # Bounded: a hung connection must not keep the pass from stopping stale cameras.
        return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs),
                                      self._node.renew_seconds)

    async def _renew(self) -> None:
        if not self._held:
            return
        started = self._clock()
        epochs = {camera_id: h.epoch for camera_id, h in self._held.items()}
        renewed = {r.camera_id: r for r in await self._db(
            lease_repo.renew, self._engine, self._me, epochs, self._node.lease_seconds,
            lapsed=not self._node.sites)}
        for camera_id in list(self._held):
            found = renewed.get(camera_id)
            if found is None or found.epoch != epochs[camera_id]:
                await self._lose(camera_id, "the lease expired or another node took it")
                continue
            held = self._held[camera_id]
            held.fresh_until = started + self._node.stop_after_seconds()
            held.expires_at = found.expires_at
            if found.wanted_by and found.wanted_by != self._me and not self._own_site(held.site):
                await self._hand_back(camera_id, found.wanted_by)

    async def _take(self) -> None:
        candidates, rows = await self._db(self._survey)
        by_camera = {row.camera_id: row for row in rows}
        wanted = {c.camera_id for c in candidates}
        for camera_id in [c for c in self._held if c not in wanted]:
            await self._release(camera_id, "camera disabled or no longer at this node's sites")
        acquired = False
        # The cameras of this node's own sites first, then those it may stand in for.
        for camera in sorted(candidates, key=lambda c: (not self._own_site(c.site), c.camera_id)):
            if camera.camera_id in self._held:
                continue
            row = by_camera.get(camera.camera_id)
            own = self._own_site(camera.site)
            if row is not None and row.live:
                if own and row.holder != self._me:
                    asked = await self._db(lease_repo.ask_back, self._engine, camera.camera_id,
                                           self._me, self._node.lease_seconds)
                    if asked:
                        log.info("camera %s: asked %s to hand it back", camera.name, asked)
                continue  # held (by us under an older epoch it expires first)
            acquired |= await self._acquire(camera, own)
        if acquired:
            self._started()

    def _survey(self) -> tuple[list[Candidate], list[lease_repo.Lease]]:
        sites = () if not self._node.sites else (*self._node.sites, *self._node.failover_sites)
        cameras = [Candidate(int(r["id"]), str(r["name"]), str(r["site_code"]))
                   for r in site_repo.list_cameras(self._engine, enabled_only=True,
                                                   site_codes=sites) if r["stream_uri"]]
        return cameras, lease_repo.leases(self._engine)

    async def _acquire(self, camera: Candidate, own: bool) -> bool:
        started = self._clock()
        got = await self._db(lease_repo.acquire, self._engine, camera.camera_id, self._me,
                             self._node.lease_seconds, own=own)
        if got is None:
            return False
        self._held[camera.camera_id] = Held(got.epoch, got.expires_at,
                                            started + self._node.stop_after_seconds(),
                                            camera.name, camera.site)
        data: dict[str, Any] = {"camera_id": camera.camera_id, "camera": camera.name,
                                "site": camera.site, "epoch": got.epoch,
                                "expires_at": got.expires_at.isoformat(),
                                "stand_in": not own}
        if got.previous is not None and got.previous != self._me:
            data.update(previous=got.previous, previous_expired_at=(
                got.previous_expired_at.isoformat() if got.previous_expired_at else None))
            log.warning("camera %s: taken over from %s, whose lease expired", camera.name,
                        got.previous)
            self._audit("lease.taken_over", data)
        else:
            log.info("camera %s: lease acquired (epoch %d)", camera.name, got.epoch)
            self._audit("lease.acquired", data)
        return True

    # --- giving cameras up --------------------------------------------------------------------

    async def _lose(self, camera_id: int, reason: str) -> None:
        held = self._held.pop(camera_id)  # reads stop now: ``owns`` says no from here on
        await self._stop_camera(camera_id)
        log.warning("camera %s: lease lost (%s); camera stopped", held.name, reason)
        self._audit("lease.lost", {"camera_id": camera_id, "camera": held.name,
                                   "site": held.site, "epoch": held.epoch, "reason": reason})

    async def _stop_stale(self) -> None:
        if not self._node.sites:
            # A node that claims every site is the whole system (a single node on
            # PostgreSQL): no other node may stand in for it, so through a database outage
            # it keeps reading and spools its reads (DESIGN.md section 8: nothing accepted is
            # lost) instead of stopping for a takeover that cannot come.
            return
        now = self._clock()
        for camera_id in [c for c, h in self._held.items() if now >= h.fresh_until]:
            await self._lose(camera_id, "not renewed in time (database unreachable)")

    async def _hand_back(self, camera_id: int, to: str) -> None:
        held = self._held.pop(camera_id)
        await self._stop_camera(camera_id)  # stopped before the lease is let go
        await self._db(lease_repo.release, self._engine, camera_id, self._me, held.epoch)
        log.info("camera %s: handed back to %s", held.name, to)
        self._audit("lease.handed_back", {"camera_id": camera_id, "camera": held.name,
                                          "site": held.site, "epoch": held.epoch, "to": to})

    async def _release(self, camera_id: int, reason: str) -> None:
        held = self._held.pop(camera_id)
        await self._stop_camera(camera_id)
        await self._db(lease_repo.release, self._engine, camera_id, self._me, held.epoch)
        log.info("camera %s: lease released (%s)", held.name, reason)
        self._audit("lease.released", {"camera_id": camera_id, "camera": held.name,
                                       "site": held.site, "epoch": held.epoch,
                                       "reason": reason})

    async def release_all(self) -> None:
        """Shutting down: stop and release every camera, so another node may take it at
        once rather than after the lease runs out."""
        for camera_id in list(self._held):
            try:
                await self._release(camera_id, "node stopping")
            except Exception as exc:  # the lease then runs out by itself
                log.warning("camera %d: lease not released (%s); it expires by itself",
                            camera_id, exc)
        await self._write_audit()

    # --- the audit log --------------------------------------------------------------------------

    def _audit(self, action: str, data: dict[str, Any]) -> None:
        # Queued, and written once the database answers: a loss is noticed in an outage.
        self._pending.append(audit.AuditEvent(actor=self._actor, action=action,
                                              data={**data, "node": self._me}))

    async def _write_audit(self) -> None:
        while self._pending:
            try:
                # Not bounded like the lease calls: a write given up on could still land,
                # and be written twice.
                await asyncio.to_thread(audit.record, self._engine, self._pending[0])
            except Exception as exc:  # kept for the next pass
                log.warning("lease audit entries wait for the database: %s", exc)
                return
            self._pending.pop(0)
