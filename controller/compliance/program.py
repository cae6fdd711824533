"""Program activation (policy 462.9): no read is recorded before the public hearing and
the City Council's adoption are on record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from controller import audit
from controller.errors import ValidationError
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import program as repo


@dataclass(frozen=True)
class ProgramStatus:
    """Whether cameras may record reads, and why not when they may not."""

    active: bool
    reason: str
    hearing_on: date | None = None
    adopted_on: date | None = None


def status(engine: Engine, today: date | None = None) -> ProgramStatus:
    """Tell whether the ALPR program is active on ``today``."""
    today = today or datetime.now(UTC).date()
    row = repo.latest(engine)
    if row is None:
        return ProgramStatus(False, "policy 462.9: no public hearing and adoption recorded; "
                                    "cameras do not record reads")
    if row["adopted_on"] > today:
        return ProgramStatus(False, f"policy 462.9: adoption takes effect on "
                                    f"{row['adopted_on'].isoformat()}",
                             row["public_hearing_on"], row["adopted_on"])
    return ProgramStatus(True, "program active", row["public_hearing_on"], row["adopted_on"])


def activate(engine: Engine, *, hearing_on: date, adopted_on: date, resolution: str,
             actor: str, client_addr: str | None = None) -> None:
    """Record the hearing and adoption (audited); the hearing must come first.

    Refused until a usage and privacy policy is published (462.9(2), Civil Code
    1798.90.51(b)): the program may not start on a policy the public cannot read.
    """
    if account_repo.current_policy(engine) is None:
        audit.record(engine, audit.AuditEvent(
            actor=actor, action="program.activate", outcome="denied", client_addr=client_addr,
            data={"reason": "no published usage and privacy policy"}))
        raise ValidationError("policy", "publish the usage and privacy policy first "
                                        "(policy 462.9(2), Civil Code 1798.90.51(b)): "
                                        "Compliance > Policy, or the first-run steps")
    if adopted_on < hearing_on:
        raise ValidationError("adopted_on", "the policy is adopted after its public hearing "
                                            "(462.9(1))")
    if not resolution.strip():
        raise ValidationError("resolution", "the City Council resolution number is required")
    repo.record(engine, hearing_on=hearing_on, adopted_on=adopted_on,
                resolution=resolution.strip(), actor=actor, now=datetime.now(UTC))
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="program.activate", client_addr=client_addr,
        data={"hearing_on": hearing_on.isoformat(), "adopted_on": adopted_on.isoformat(),
              "resolution": resolution.strip()}))
