"""What the scheduler runs, and when: hotlist feed fetches and the policy's scheduled paperwork
(daily purge proposals, quarterly audits, mask restores, account reviews); each job is
registered by name in ``controller.jobs.runner``.

The jobs are thin wrappers here, above ``compliance`` and ``alerts``: those packages hold
the work and know nothing of the scheduler (the dependencies inside ``controller`` point
one way, see ``tests/test_packaging.py``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from controller import audit
from controller.accounts import dormancy
from controller.alerts import feeds
from controller.alerts.feed_fetch import describe
from controller.compliance import court_orders, exports, retention
from controller.jobs.runner import JobContext, register
from controller.jobs.scheduler import JobSpec
from controller.settings import Settings
from controller.store import partitions

log = logging.getLogger("sightline.jobs")

SCHEDULER_ACTOR = "system:scheduler"
# A feed added to the settings is fetched this long after the scheduler starts, then on
# its schedule (an interval trigger would otherwise wait a whole interval first).
FIRST_FETCH_DELAY = timedelta(seconds=5)


@register("feed_fetch")
async def feed_fetch_job(context: JobContext, job_id: str) -> None:
    """Fetch the hotlist feed the job is named after; reload the matcher if it changed."""
    name = job_id.split(":", 1)[1]
    feed = context.settings.hotlists.feed(name)
    if feed is None:
        log.warning("job %s: no feed named %s any more", job_id, name)
        return
    report = await feeds.fetch_feed(context.engine, feed, actor=SCHEDULER_ACTOR)
    if report.outcome == "loaded":
        context.on_change("hotlists")


@register("retention_propose")
async def retention_propose_job(context: JobContext, job_id: str) -> None:
    """Daily: record what is eligible for purging (nothing is deleted)."""
    proposal = await asyncio.to_thread(retention.propose, context.engine, context.settings,
                                       skip_empty=True)
    if proposal is None:
        log.info("job %s: no read is past retention", job_id)
        return
    log.info("job %s: purge proposal %d lists %d reads", job_id, proposal["id"],
             proposal["read_count"])


@register("audit_quarterly")
async def audit_quarterly_job(context: JobContext, job_id: str) -> None:
    """First day of each quarter: build the package of the quarter that just ended."""
    quarter = exports.previous_quarter(datetime.now(UTC).date())
    out = exports.audit_export_dir(context.settings)
    if (out / f"audit-{quarter}").exists():
        log.info("job %s: the %s package exists already", job_id, quarter)
        return
    out.mkdir(parents=True, exist_ok=True)
    path = await asyncio.to_thread(exports.build_audit_package, context.engine,
                                   context.settings, quarter, out, actor=SCHEDULER_ACTOR)
    log.info("job %s: audit package %s written to %s", job_id, quarter, path)


@register("mask_restore")
async def mask_restore_job(context: JobContext, job_id: str) -> None:
    """Every minute: restore masks whose court order expired."""
    restored = await asyncio.to_thread(court_orders.restore_due, context.engine,
                                       notify=context.on_change)
    for lift in restored:
        log.info("job %s: mask %s on %s restored (order %s expired)", job_id, lift["mask"],
                 lift["camera"], lift["court_order"])


@register("accounts_review")
async def accounts_review_job(context: JobContext, job_id: str) -> None:
    """Daily: suspend accounts unused for 90 days or not reconfirmed last quarter."""
    suspended = await asyncio.to_thread(dormancy.suspend_due, context.engine,
                                        context.settings.security, actor=SCHEDULER_ACTOR)
    log.info("job %s: %d accounts suspended%s", job_id, len(suspended),
             f" ({', '.join(suspended)})" if suspended else "")


@register("audit_anchor")
async def audit_anchor_job(context: JobContext, job_id: str) -> None:
    """Daily: sign the audit chain's head into the anchor file outside the database."""
    line = await asyncio.to_thread(audit.write_anchor, context.engine, context.settings,
                                   actor=SCHEDULER_ACTOR)
    log.info("job %s: audit anchor %s written (chain head row %s)", job_id, line.get("seq"),
             line.get("row_id"))


@register("read_partitions")
async def read_partitions_job(context: JobContext, job_id: str) -> None:
    """Daily (PostgreSQL): make the monthly read partitions of the coming months, move
    any read that waits in the default partition into its month's partition, then put
    the months past ``plate_order_after_months`` in plate order."""
    today = datetime.now(UTC).date()
    report = await asyncio.to_thread(
        partitions.ensure_ahead, context.engine, today,
        context.settings.database.partition_months_ahead)
    log.info("job %s: %d read partitions made, %d reads moved out of the default one",
             job_id, len(report.created), report.moved)
    ordered = await asyncio.to_thread(partitions.order_closed_months, context.engine, today,
                                      context.settings.database.plate_order_after_months)
    log.info("job %s: %d of %d closed months put in plate order", job_id,
             sum(o.done for o in ordered), len(ordered))


def storage_specs(settings: Settings) -> list[JobSpec]:
    """The database's own upkeep: read partitions ahead (PostgreSQL only)."""
    if not settings.database_url().startswith("postgresql"):
        return []
    return [JobSpec("reads:partitions", "read_partitions",
                    CronTrigger(hour=0, minute=40, timezone="UTC"),
                    f"make the monthly read partitions "
                    f"{settings.database.partition_months_ahead} months ahead")]


def compliance_specs(settings: Settings) -> list[JobSpec]:
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
        JobSpec("accounts:review", "accounts_review",
                CronTrigger(hour=0, minute=20, timezone="UTC"),
                "suspend accounts unused for 90 days or not reconfirmed last quarter (462.4)"),
        JobSpec("audit:anchor", "audit_anchor",
                CronTrigger(hour=0, minute=5, timezone="UTC"),
                "sign the audit chain head into the anchor file outside the database (462.5)"),
    ]


def job_specs(settings: Settings) -> list[JobSpec]:
    """Every job this configuration schedules."""
    first = datetime.now(UTC) + FIRST_FETCH_DELAY
    specs = [JobSpec(f"feed:{f.name}", "feed_fetch",
                     IntervalTrigger(minutes=f.every_minutes, start_date=first, timezone="UTC"),
                     f"fetch hotlist feed {f.name} from {describe(f.source)}")
             for f in settings.hotlists.feeds]
    specs += compliance_specs(settings)
    specs += storage_specs(settings)
    return specs
