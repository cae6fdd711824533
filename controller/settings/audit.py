"""Audit-log settings: where the signed chain anchors are kept (policy 462.5, DESIGN.md 8)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from controller.settings.base import Section

ANCHOR_SUBDIR = "audit-anchors"


class AuditSettings(Section):
    """Where the audit chain's signed heads are written, outside the database; the
    quarterly audit's sample size and review deadline (policy 462.6)."""

    anchor_dir: Path | None = Field(
        default=None, title="Anchor directory",
        description=(
            "Directory of the append-only file of signed audit-chain heads. Empty: "
            "DATA_DIR/audit-anchors. Best on storage the database's user cannot write."
        ),
    )

    sample_size: int = Field(
        default=25, ge=0, le=1000, title="Searches sampled per quarter",
        description=(
            "How many of a quarter's searches the quarterly audit package draws at random "
            "(reproducibly, from a seed recorded in the package) for a supervisor to mark "
            "justified or not (policy 462.6). 0 draws none."
        ),
    )
    review_due_days: int = Field(
        default=30, ge=1, le=366, title="Days to record a quarterly review",
        description=(
            "Days after a quarter ends by which the administrator records the review of its "
            "audit package (policy 462.6: audits on a quarterly basis); later, the review "
            "is shown as overdue on the administrator's home page and in /metrics."
        ),
    )

    def anchor_path(self, data_dir: Path) -> Path:
        """The effective anchor directory (``data_dir``/audit-anchors when none is set)."""
        return self.anchor_dir if self.anchor_dir is not None else data_dir / ANCHOR_SUBDIR
