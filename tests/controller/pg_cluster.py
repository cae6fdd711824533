"""A throwaway PostgreSQL cluster a test can stop and start (never CI's shared one)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from controller.demo.world import free_port


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None




class Cluster:
    """initdb + pg_ctl as the postgres user, listening on loopback only."""

    def __init__(self) -> None:
        bindir = pg_bin()
        assert bindir is not None
        self.bindir = bindir
        # Under /tmp itself: pytest's tmp_path is private to root, and the server runs
        # as postgres, which must be able to reach its data directory.
        self.root = Path(tempfile.mkdtemp(prefix="sightline-pg-"))
        self.root.chmod(0o755)
        self.dir = self.root / "pgdata"
        self.port = free_port()
        self.dir.mkdir(mode=0o700)
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(str(bindir / "initdb"), "-D", str(self.dir), "-A", "trust",
                          "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                       capture_output=True, timeout=120, cwd="/")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.dir), "-o", options,
                          "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.dir), "-m", "fast",
                          "-w", "stop")

    def running(self) -> bool:
        return (self.dir / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def can_run() -> str | None:
    """Why a throwaway cluster cannot run here, or None."""
    if pg_bin() is None:
        return "PostgreSQL server binaries are not installed"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "starting a throwaway cluster needs root (to run initdb as postgres)"
    return None
