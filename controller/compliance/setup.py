"""The first-run steps (issue 16, point 1): what the policy requires before go-live.

Each step says whether it is done, when and by whom, from the records the steps
themselves wrote (training, publication, acknowledgement, activation, profile,
sites and cameras); nothing here changes anything. The steps are done through
the use cases that own them, so the policy's order holds (no activation before a
published policy, no data before training and acknowledgement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from controller.accounts import Caller, authorize
from controller.compliance import program
from controller.settings import Settings
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import agency as agency_repo
from controller.store import program as program_repo
from controller.store.records import AgencyProfileRow, PolicyVersion
from controller.validation import optional_text, required_day

PERMISSION = "agency.manage"


@dataclass(frozen=True)
class Step:
    """One go-live step and its state; ``when``/``who`` say who did it, if done."""

    key: str
    title: str
    clause: str
    done: bool
    detail: str
    when: datetime | date | None = None
    who: str | None = None


@dataclass(frozen=True)
class FirstRun:
    """Every step in the order the policy allows them."""

    steps: tuple[Step, ...]

    @property
    def complete(self) -> bool:
        """Whether every step is done."""
        return all(s.done for s in self.steps)

    def step(self, key: str) -> Step:
        """The step named ``key``."""
        return next(s for s in self.steps if s.key == key)


def _training(engine: Engine, settings: Settings, caller: Caller) -> Step:
    records = account_repo.list_training(engine, caller.user_id or 0)
    title = "Your ALPR training on record"
    if not records:
        return Step("training", title, "462.4.1, 462.13", False,
                    "No training is recorded for you.")
    latest = records[0]
    age = (datetime.now(UTC).date() - latest["completed_on"]).days
    current = age <= settings.security.training_valid_days
    return Step("training", title, "462.4.1, 462.13", current,
                f"{latest['course']}, completed {latest['completed_on']:%Y-%m-%d} with "
                f"{latest['trainer']}" + ("" if current else " (no longer current)"),
                latest["recorded_at"], latest["recorded_by"])


def _policy_steps(engine: Engine, caller: Caller,
                  policy: PolicyVersion | None) -> tuple[Step, Step]:
    if policy is None:
        return (Step("policy", "Publish the usage and privacy policy", "462.9(2)", False,
                     "No policy version is published."),
                Step("acknowledge", "Acknowledge the policy yourself", "462.4.1", False,
                     "Publish the policy first."))
    at = agency_repo.acknowledged_at(engine, caller.user_id or 0, int(policy["id"]))
    return (Step("policy", "Publish the usage and privacy policy", "462.9(2)", True,
                 f"Version {policy['version']} ({policy['title']}), adopted "
                 f"{policy['adopted_on']:%Y-%m-%d}", policy["published_at"],
                 policy["published_by"]),
            Step("acknowledge", "Acknowledge the policy yourself", "462.4.1", at is not None,
                 f"Version {policy['version']}" + (" acknowledged" if at else
                                                   " is not acknowledged by you yet"),
                 at, caller.username if at else None))


def _activation(engine: Engine) -> Step:
    title = "Record the public hearing and the Council's adoption"
    row = program_repo.latest(engine)
    state = program.status(engine)
    if row is None:
        return Step("program", title, "462.9(1)", False, state.reason)
    return Step("program", title, "462.9(1)", state.active,
                f"Hearing {row['public_hearing_on']:%Y-%m-%d}, adopted "
                f"{row['adopted_on']:%Y-%m-%d}, resolution {row['council_resolution']}"
                + ("" if state.active else f"; {state.reason}"),
                row["recorded_at"], row["recorded_by"])


def _agency(settings: Settings, profile: AgencyProfileRow | None) -> Step:
    title = "Confirm the agency's name and time zone"
    if profile is None or profile["time_zone"] is None:
        return Step("agency", title, "462.11", False,
                    f"{settings.agency.name}, {settings.agency.time_zone} (from the settings "
                    "file; confirm them)")
    return Step("agency", title, "462.11", True,
                f"{profile['name'] or settings.agency.name}, {profile['time_zone']}",
                profile["updated_at"], profile["updated_by"])


def first_run(engine: Engine, settings: Settings, caller: Caller) -> FirstRun:
    """Every go-live step with its state (``agency.manage``: administrators)."""
    authorize(engine, caller, PERMISSION, "setup.view")
    return _steps(engine, settings, caller)


def _steps(engine: Engine, settings: Settings, caller: Caller) -> FirstRun:
    policy = account_repo.current_policy(engine)
    profile = agency_repo.profile(engine)
    site_count, camera_count = agency_repo.site_and_camera_counts(engine)
    return FirstRun((
        _training(engine, settings, caller),
        *_policy_steps(engine, caller, policy),
        _activation(engine),
        _agency(settings, profile),
        Step("site", "Add a site", "462.3", site_count > 0,
             f"{site_count} site{'s' if site_count != 1 else ''} on record"),
        Step("camera", "Adopt a camera", "462.3", camera_count > 0,
             f"{camera_count} camera{'s' if camera_count != 1 else ''} on record"),
    ))


def activate_program(engine: Engine, caller: Caller, *, hearing_on: str, adopted_on: str,
                     resolution: str) -> program.ProgramStatus:
    """Record the public hearing and the Council's adoption from the browser (462.9(1)).

    The same use case as ``sightline program activate`` (``compliance.manage``):
    refused, audited, while no policy is published.
    """
    authorize(engine, caller, "compliance.manage", "program.activate")
    program.activate(engine, hearing_on=required_day("hearing_on", hearing_on),
                     adopted_on=required_day("adopted_on", adopted_on),
                     resolution=optional_text("resolution", resolution, 64) or "",
                     **caller.who())
    return program.status(engine)


def pending(engine: Engine, settings: Settings, caller: Caller) -> bool:
    """Whether an administrator still has go-live steps to do (False for other roles)."""
    if caller.role != "administrator":
        return False
    return not _steps(engine, settings, caller).complete
