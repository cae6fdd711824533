"""Policy publication and the public transparency figures (policy 462.9).

A policy version is uploaded as Markdown or PDF with its adoption date and is
stored through the same repository the training gate reads, so every user must
acknowledge the new version before using the system again (462.13).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from controller import audit
from controller.accounts import users
from controller.compliance import exports, program
from controller.errors import Conflict, NotFound, ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import accounts as account_repo
from controller.store import program as program_repo
from controller.store import sharing as sharing_repo
from controller.store.records import PolicyVersion

MARKDOWN = "text/markdown; charset=utf-8"
PDF = "application/pdf"
MAX_BYTES = 20 * 1024 * 1024


def _content_type(filename: str, data: bytes) -> str:
    name = filename.lower()
    if name.endswith(".pdf"):
        if not data.startswith(b"%PDF-"):
            raise ValidationError("file", f"{filename} does not start like a PDF file")
        return PDF
    if name.endswith((".md", ".markdown", ".txt")):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("file", f"{filename} is not UTF-8 text") from None
        if not text.strip():
            raise ValidationError("file", f"{filename} is empty")
        return MARKDOWN
    raise ValidationError("file", "upload the policy as Markdown (.md) or PDF (.pdf)")


def publish_document(engine: Engine, *, version: str, title: str, adopted_on: date,
                     filename: str, data: bytes, actor: str,
                     client_addr: str | None = None) -> int:
    """Publish a policy version from an uploaded file; every user must acknowledge it."""
    version, title = version.strip(), title.strip()
    if not version or len(version) > 32:
        raise ValidationError("version", "a version label of 1-32 characters is required")
    if not title or len(title) > 200:
        raise ValidationError("title", "a title of 1-200 characters is required")
    if not data:
        raise ValidationError("file", "choose the policy file to upload")
    if len(data) > MAX_BYTES:
        raise ValidationError("file", f"the file is larger than {MAX_BYTES // 2**20} MiB")
    content_type = _content_type(filename, data)
    digest = hashlib.sha256(data).hexdigest()
    try:
        policy_id = account_repo.publish_policy(
            engine, version=version, title=title, adopted_on=adopted_on, content=data,
            content_type=content_type, sha256=digest, published_by=actor,
            now=datetime.now(UTC))
    except Conflict:
        raise ValidationError("version", f"version '{version}' is already published") from None
    users.forget_training_state()  # every user's gate must see the new version at once
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="policy.publish", client_addr=client_addr,
        data={"version": version, "title": title, "adopted_on": adopted_on.isoformat(),
              "content_type": content_type, "bytes": len(data), "sha256": digest}))
    return policy_id


def policy_document(engine: Engine, version_id: int) -> PolicyVersion:
    """A published version with its content; unknown ids are a ValidationError."""
    try:
        return account_repo.policy_document(engine, version_id)
    except NotFound:
        raise ValidationError("version", f"no policy version {version_id}") from None


def transparency(engine: Engine, settings: Settings,
                 now: datetime | None = None) -> dict[str, Any]:
    """Everything the public page shows: policy, history, hearing, retention, figures."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    history = account_repo.policy_history(engine)
    current = account_repo.current_policy(engine)
    state = program.status(engine, when.date())
    return {
        "current": next((h for h in history if current and h["id"] == current["id"]), None),
        "history": history,
        "hearing_on": state.hearing_on,
        "adopted_on": state.adopted_on,
        "program_active": state.active,
        "retention_days": settings.retention.days,
        "figures": program_repo.program_figures(engine, when - timedelta(days=30)),
        "shared_with": sharing_repo.shared_agencies(engine),
        "last_review": exports.last_review_date(engine),
        "as_of": when,
    }


def published_policy(engine: Engine, version_id: str) -> PolicyVersion:
    """A published version as the public asks for it (no login: 462.9); NotFound if none."""
    try:
        return account_repo.policy_document(engine, int(version_id))
    except (ValueError, NotFound):
        raise NotFound("no such policy version") from None


def policy_text(engine: Engine, version: Mapping[str, Any] | None) -> str | None:
    """The text of a Markdown version for the public page (None for a PDF or no version)."""
    if version is None or version["content_type"] == PDF:
        return None
    return bytes(policy_document(engine, int(version["id"]))["content"]).decode("utf-8",
                                                                               "replace")
