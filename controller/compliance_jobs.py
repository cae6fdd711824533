"""The policy's scheduled paperwork: daily purge proposals, quarterly audits, mask restores.

Importing this module registers the job kinds with ``controller.jobs``.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from controller import court_orders, exports, retention
from controller.scheduler import JobSpec
from controller.settings import Settings

# The implementations named by the specs below (imported for their registration).
KINDS = (retention.retention_propose_job, exports.audit_quarterly_job,
         court_orders.mask_restore_job)


def job_specs(settings: Settings) -> list[JobSpec]:
    """The compliance jobs this configuration schedules."""
    return [
        JobSpec("retention:propose", "retention_propose",
                CronTrigger(hour=settings.retention.proposal_hour_utc, minute=0,
                            timezone="UTC"),
                "record a purge proposal for reads past retention (462.8)"),
        JobSpec("audit:quarterly", "audit_quarterly",
                CronTrigger(month="1,4,7,10", day=1, hour=1, minute=30, timezone="UTC"),
                "build the audit package of the quarter that ended (462.6)"),
        JobSpec("masks:restore", "mask_restore", IntervalTrigger(minutes=1, timezone="UTC"),
                "restore privacy masks whose court order expired (462.7.1(1))"),
    ]
