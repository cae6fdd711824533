"""Owner-only permissions for everything Sightline writes under its data directory.

Directories are made 0700 and files 0600 (DESIGN.md section 8, "at rest"): reads,
images, exports and the audit anchors are evidence and personal data, and the
process's umask (often 022) would otherwise leave them readable by every local
account.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
# The process umask the ``sightline`` command sets: group and others get nothing.
PRIVATE_UMASK = 0o077


def private_dir(path: Path, *, enforce: bool = False) -> Path:
    """Create ``path`` (and missing parents) as owner-only directories; return it.

    Directories that already existed keep their mode unless ``enforce`` is set,
    which makes ``path`` itself owner-only too (the data directory of an
    installation made before this rule).
    """
    missing = []
    probe = path
    while not probe.exists() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask and does not apply to parents: set it.
    for made in missing:
        made.chmod(DIR_MODE)
    if enforce:
        path.chmod(DIR_MODE)
    return path


def private_tree(root: Path) -> None:
    """Make every directory under ``root`` (itself included) 0700 and every file 0600."""
    root.chmod(DIR_MODE)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(DIR_MODE if path.is_dir() else FILE_MODE)


def private_file(path: Path) -> Path:
    """Make an existing file owner-only (read and write); return it."""
    path.chmod(FILE_MODE)
    return path


def open_append(path: Path) -> int:
    """Open ``path`` for appending (created owner-only if missing); return the descriptor."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with owner-only permissions from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(data)
