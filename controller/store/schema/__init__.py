"""Every table of the schema: the one import path for them (`controller.store.schema`).

The tables are defined in `core` (sites, cameras, reads, hits, hotlists, accounts) and
`compliance` (audit, holds, purges, sharing, scheduler jobs) and `accountability`
(read corrections, hit re-verifications, account status, audit samples); nothing outside this
package imports those modules.
"""

from __future__ import annotations

from controller.store.schema.accountability import (
    account_status,
    audit_sample_items,
    audit_samples,
    hit_verifications,
    read_corrections,
)
from controller.store.schema.compliance import (
    apscheduler_jobs,
    audit_events,
    audit_head,
    audit_reviews,
    evidence_hold_reads,
    evidence_holds,
    purge_proposals,
    sharing_requests,
)
from controller.store.schema.core import (
    HOTLIST_CATEGORIES,
    REGION_KINDS,
    ROLES,
    VERIFICATION_OUTCOMES,
    camera_health,
    camera_regions,
    cameras,
    deliveries,
    hits,
    hotlist_entries,
    hotlists,
    login_throttle,
    mask_suspensions,
    metadata,
    password_history,
    policy_acknowledgements,
    policy_versions,
    program_activation,
    read_images,
    reads,
    roles,
    sites,
    training_records,
    user_sessions,
    users,
)

__all__ = [
    "HOTLIST_CATEGORIES",
    "REGION_KINDS",
    "ROLES",
    "VERIFICATION_OUTCOMES",
    "account_status",
    "apscheduler_jobs",
    "audit_events",
    "audit_head",
    "audit_reviews",
    "audit_sample_items",
    "audit_samples",
    "camera_health",
    "camera_regions",
    "cameras",
    "deliveries",
    "evidence_hold_reads",
    "evidence_holds",
    "hit_verifications",
    "hits",
    "hotlist_entries",
    "hotlists",
    "login_throttle",
    "mask_suspensions",
    "metadata",
    "password_history",
    "policy_acknowledgements",
    "policy_versions",
    "program_activation",
    "purge_proposals",
    "read_corrections",
    "read_images",
    "reads",
    "roles",
    "sharing_requests",
    "sites",
    "training_records",
    "user_sessions",
    "users",
]
