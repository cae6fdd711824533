"""Audit-log settings: where the signed chain anchors are kept (policy 462.5, DESIGN.md 8)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from controller.settings.base import Section

ANCHOR_SUBDIR = "audit-anchors"


class AuditSettings(Section):
    """Where the audit chain's signed heads are written, outside the database."""

    anchor_dir: Path | None = Field(
        default=None, title="Anchor directory",
        description=(
            "Directory of the append-only file of signed audit-chain heads. Empty: "
            "DATA_DIR/audit-anchors. Best on storage the database's user cannot write."
        ),
    )

    def anchor_path(self, data_dir: Path) -> Path:
        """The effective anchor directory (``data_dir``/audit-anchors when none is set)."""
        return self.anchor_dir if self.anchor_dir is not None else data_dir / ANCHOR_SUBDIR
