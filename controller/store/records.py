"""The rows the store hands up, typed: reads, hits, cameras, accounts, masks, the
compliance records (purge proposals, holds, sharing requests, the access log) and
hotlists.

Each is a ``TypedDict``, so at run time the rows stay the plain dicts templates,
JSON and the tests see, while ``mypy --strict`` checks every field name the use
cases and blueprints use. The keys are those of the select statements in
``controller.store.reads``, ``.hits``, ``.sites``, ``.users``, ``.accounts``,
``.regions``, ``.retention``, ``.holds``, ``.sharing``, ``.audit`` and ``.hotlists``
over the tables of ``controller.store.schema.core`` and ``.compliance``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NotRequired, TypedDict


class ReadRow(TypedDict):
    """One row of ``reads`` (``select(reads)``)."""

    id: int
    uuid: str
    plate: str
    raw_text: str
    confidence: float
    char_confidences: list[float]
    plate_state: str | None
    camera_id: int
    site_id: int
    seen_at: datetime
    direction: str | None
    box: list[int] | None
    latitude: float | None
    longitude: float | None
    created_at: datetime


class PlacedRead(ReadRow):
    """A read with its camera's name and its site's code (``reads_by_ids``)."""

    camera: str
    site: str


class ImageRow(TypedDict):
    """One row of ``read_images``: an image of a read, path relative to the data directory."""

    id: int
    read_id: int
    kind: str
    path: str
    sha256: str
    width: int
    height: int


class ImageOfRead(TypedDict):
    """A read's id and the path of one of its images, None without one (``read_image``)."""

    id: int
    path: str | None


class DescribedRead(ReadRow):
    """A read with what ``describe_reads`` adds: its camera, site, images by kind and
    the plate as corrected by hand (None when it was not)."""

    camera_name: str
    site_code: str
    site_name: str
    images: dict[str, ImageRow]
    corrected_plate: str | None


class HitEntry(TypedDict):
    """The hotlist entry as a hit matched it (``hits.entry``, see ``HitRecord.entry``).

    The particulars are there when the entry had them (a hit raised without the
    entry's details has only the first four keys).
    """

    list: str | None
    plate: str | None
    match: str | None
    vote_margin: float | None
    category: NotRequired[str | None]
    reason: NotRequired[str | None]
    ncic_number: NotRequired[str | None]
    ori: NotRequired[str | None]
    plate_state: NotRequired[str | None]
    alert_note: NotRequired[str | None]
    expires_at: NotRequired[str | None]


class HitRow(TypedDict):
    """A hit with its read, camera and site (``store.hits.HIT_COLUMNS``); ``hit_id`` is its
    row number (with ``created_at``, the key of a keyset page)."""

    hit_id: int
    uuid: str
    alert_id: int | None
    created_at: datetime
    entry: HitEntry
    verification: str
    verified_by: str | None
    verified_at: datetime | None
    verification_note: str | None
    read_uuid: str
    plate: str
    raw_text: str
    confidence: float
    seen_at: datetime
    direction: str | None
    box: list[int] | None
    latitude: float | None
    longitude: float | None
    plate_state: str | None
    camera_id: int
    camera: str
    site: str
    site_name: str


class DueDelivery(HitRow):
    """A pending delivery of a hit to a sink, with the hit (``due_deliveries``)."""

    delivery_id: int
    sink: str
    idempotency_key: str
    attempts: int


class StoredHit(TypedDict):
    """One row of ``hits`` (``hits_for_reads``)."""

    id: int
    uuid: str
    read_id: int
    hotlist_entry_id: int | None
    entry: HitEntry
    created_at: datetime
    verification: str
    verified_by: str | None
    verified_at: datetime | None
    verification_note: str | None


class SiteRow(TypedDict):
    """One row of ``sites``; ``cabinet`` is the Modbus connection and point map, if any."""

    id: int
    code: str
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    cabinet: dict[str, Any] | None
    created_at: datetime
    enabled: bool


class CameraRow(TypedDict):
    """One row of ``cameras`` with its site's code (``get_camera``, ``list_cameras``)."""

    id: int
    site_id: int
    name: str
    host: str
    port: int
    username: str | None
    secret: str | None
    xaddr: str | None
    stream_uri: str | None
    snapshot_uri: str | None
    profile_token: str | None
    manufacturer: str | None
    model: str | None
    firmware: str | None
    serial: str | None
    latitude: float | None
    longitude: float | None
    heading: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    site_code: str


class CameraStatus(CameraRow):
    """A camera with its health (``controller.operations.fleet``): the stored health row,
    its newest read's time, its state (``disabled`` or the health state, ``unknown``
    without one), whether the health is stale, and the node that runs it: the live
    lease's holder and expiry on PostgreSQL, the node that wrote the health on SQLite."""

    health: dict[str, Any] | None
    last_read: datetime | None
    state: str
    stale: bool
    node: str | None
    lease_expires_at: datetime | None


class CameraChoice(TypedDict):
    """A camera as pickers show it (``camera_choices``): id, name, state, site code and name."""

    id: int
    name: str
    enabled: bool
    code: str
    site_name: str



class UserRow(TypedDict):
    """One row of ``users`` (``store.users.get``, ``list_all``, ``accounts.get_user_by_id``)."""

    id: int
    username: str
    full_name: str
    role: str
    password_hash: str
    password_changed_at: datetime
    must_change_password: bool
    totp_secret: str | None
    totp_sealed: str | None
    totp_enrolled: bool
    totp_exempt: bool
    totp_last_step: int | None
    failed_logins: int
    locked_until: datetime | None
    disabled: bool
    created_at: datetime
    created_by: str


class SessionState(TypedDict):
    """What ``session_and_user`` reads of a ``user_sessions`` row beside its user."""

    ended_at: datetime | None
    end_reason: str | None
    last_seen_at: datetime


class TrainingRecord(TypedDict):
    """One row of ``training_records`` (``list_training``)."""

    id: int
    user_id: int
    course: str
    completed_on: date
    trainer: str
    recorded_by: str
    recorded_at: datetime


class PolicySummary(TypedDict):
    """A row of ``policy_versions`` without its content (``policy_history``)."""

    id: int
    version: str
    title: str
    adopted_on: date
    content_type: str
    sha256: str
    published_by: str
    published_at: datetime


class PolicyVersion(PolicySummary):
    """One whole row of ``policy_versions`` (``current_policy``, ``policy_document``)."""

    content: bytes


class RegionRow(TypedDict):
    """One row of ``camera_regions``: a privacy mask or recognition zone (``list_regions``)."""

    id: int
    camera_id: int
    kind: str
    name: str
    polygon: list[list[float]]
    created_at: datetime
    updated_at: datetime


class PlainRegion(TypedDict):
    """A region as ``replace_regions`` reports it before and after (``REGION_FIELDS``)."""

    id: int
    kind: str
    name: str
    polygon: list[list[float]]


class PlacedRegion(RegionRow):
    """A region with its camera's name (``get_region``)."""

    camera: str


class MaskSuspensionRow(TypedDict):
    """One row of ``mask_suspensions``: a court-order lift of a privacy mask."""

    id: int
    region_id: int
    court_order: str
    court: str
    lifted_by: str
    lifted_at: datetime
    expires_at: datetime
    restored_at: datetime | None


class MaskRequestRow(TypedDict):
    """One row of ``mask_change_requests`` with its camera's name (462.7.1(1))."""

    id: int
    camera_id: int
    camera: str
    requested_by: str
    requested_at: datetime
    reason: str
    changes: list[dict[str, Any]]
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    court_order: str | None
    court: str | None


class MaskVersionRow(TypedDict):
    """One row of ``mask_versions``: a camera's regions in force after one change."""

    id: int
    camera_id: int
    version: int
    regions: list[PlainRegion]
    change: str
    changed_by: str
    approved_by: str | None
    court_order: str | None
    request_id: int | None
    created_at: datetime


class RegionWithLift(RegionRow):
    """A region with its latest unrestored court-order lift, None without one (``with_lifts``)."""

    suspension: MaskSuspensionRow | None


class SuspensionRow(MaskSuspensionRow):
    """A lift with its mask's name, camera id and camera's name (``suspensions``)."""

    mask: str
    camera_id: int
    camera: str


class PurgeProposal(TypedDict):
    """One row of ``purge_proposals`` (``store.retention.get_proposal``, ``list_proposals``)."""

    id: int
    created_at: datetime
    cutoff: datetime
    read_count: int
    oldest: datetime | None
    newest: datetime | None
    status: str
    council_meeting_on: date | None
    council_resolution: str | None
    council_recorded_by: str | None
    attorney_name: str | None
    attorney_on: date | None
    attorney_recorded_by: str | None
    purged_at: datetime | None
    purged_reads: int | None
    purged_files: int | None


class HoldRow(TypedDict):
    """One row of ``evidence_holds`` with how many reads it holds (``get_hold``, ``list_holds``)."""

    id: int
    case_number: str
    reason: str
    created_by: str
    created_at: datetime
    released_by: str | None
    released_at: datetime | None
    read_count: int


class SharingRequest(TypedDict):
    """One row of ``sharing_requests`` (``store.sharing.get_request``, ``list_requests``);
    ``scope`` is the stored JSON of the request's plates, time range and cameras."""

    id: int
    agency: str
    ori: str
    agency_state: str
    agency_kind: str
    requester_name: str
    purpose: str
    case_number: str
    scope: dict[str, Any]
    received_on: date
    entered_by: str
    entered_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    fulfilled_at: datetime | None
    export_path: str | None


class AuditRow(TypedDict):
    """One row of ``audit_events``, the hash-chained access log (``store.audit.search``,
    ``scan``, ``audit_between``, ``audit_lines_about``, ``audit_event``)."""

    id: int
    at: datetime
    actor: str
    action: str
    outcome: str
    plate: str | None
    data: dict[str, Any]
    purpose: str | None
    case_number: str | None
    client_addr: str | None
    prev_hash: str
    hash: str


class AuditReview(TypedDict):
    """One row of ``audit_reviews``: an administrator's quarterly review (``list_reviews``)."""

    id: int
    quarter: str
    reviewed_on: date
    findings: str
    actions: str
    reviewed_by: str
    recorded_at: datetime


class HotlistRow(TypedDict):
    """One row of ``hotlists``: a list with its active version and size (``list_hotlists``)."""

    id: int
    name: str
    source: str | None
    active_version: int
    entry_count: int
    updated_at: datetime
    updated_by: str
    enabled: bool


class HotlistEntryRow(TypedDict):
    """One row of ``hotlist_entries`` (``list_entries``)."""

    id: int
    hotlist_id: int
    version: int
    plate: str
    is_partial: bool
    plate_state: str | None
    category: str
    reason: str | None
    ncic_number: str | None
    ori: str | None
    entered_at: datetime | None
    expires_at: datetime | None
    alert_note: str | None


class ActiveEntry(HotlistEntryRow):
    """An entry of a list's active version with the list's name (``active_entries``)."""

    list_name: str


class HotlistVersionRow(TypedDict):
    """One row of ``hotlist_versions`` with its list's name (``get_version``)."""

    id: int
    hotlist_id: int
    version: int
    official: bool
    source: str | None
    entry_count: int
    digest: str | None
    submitted_by: str
    submitted_at: datetime
    case_number: str | None
    reason: str | None
    expires_at: datetime | None
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    active_from: datetime | None
    active_until: datetime | None
    import_event_id: int | None
    list_name: str
    active_version: int


class PlateHistoryEntry(HotlistEntryRow):
    """An entry of any kept version with its version's particulars (``entries_holding``)."""

    list_name: str
    version_id: int | None
    official: bool | None
    status: str | None
    submitted_by: str | None
    submitted_at: datetime | None
    case_number: str | None
    version_reason: str | None
    version_expires_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    active_from: datetime | None
    active_until: datetime | None
    import_event_id: int | None
    source: str | None


class PlateHistoryHit(TypedDict):
    """A hit raised by a listed entry, with its read (``hits_of_entries``)."""

    uuid: str
    hotlist_entry_id: int
    created_at: datetime
    verification: str
    read_uuid: str
    plate: str
    seen_at: datetime
    camera: str
    site: str


class HistoricalRequestRow(TypedDict):
    """One row of ``hotlist_historical_requests``."""

    id: int
    hotlist_entry_id: int | None
    list_name: str
    version: int
    plate: str
    is_partial: bool
    purpose: str
    case_number: str
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    runs: int


class AlertRow(TypedDict):
    """A dispatch alert with its latest sighting, lists and hit count
    (``store.alerts``)."""

    id: int
    plate: str
    state: str
    outcome: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    created_at: datetime
    sightings: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    close_note: str | None
    read_id: int | None
    read_uuid: str | None
    plate_state: str | None
    direction: str | None
    camera_id: int | None
    camera: str | None
    site_name: str | None
    lists: list[str]
    hits: int


class AgencyProfileRow(TypedDict):
    """The one row of ``agency_profile`` without the logo's bytes (``agency.profile``)."""

    name: str | None
    time_zone: str | None
    logo_type: str | None
    logo_sha256: str | None
    updated_at: datetime
    updated_by: str
