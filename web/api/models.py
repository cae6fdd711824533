"""Request and response models ``/api/v1`` shares: purpose headers and cursor pages.

The OpenAPI document is generated from these (flask-openapi3 reads the pydantic
models the views declare), so a field's bounds here are its bounds in the spec.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from controller.accounts.purpose import PurposeForm
from controller.errors import ValidationError

T = TypeVar("T")
PAGE_MAX = 200


class PurposeHeaders(BaseModel):
    """Why the client looks at plate data (462.5): sent with every call that shows it.

    The same rules as the UI's purpose form (``controller.accounts.purpose.check``):
    a purpose from the configured list, a case number, and the attestation of
    official law-enforcement use. A changed purpose or case number is a new
    statement, audited.
    """

    model_config = ConfigDict(populate_by_name=True)

    purpose: str = Field(alias="Sightline-Purpose", max_length=300,
                         description="a purpose from the configured list")
    case_number: str = Field(default="", alias="Sightline-Case-Number", max_length=64,
                             description="the case number (required unless configured not)")
    attest: str = Field(alias="Sightline-Attest", max_length=8,
                        description="'yes': this work is for official law-enforcement use")

    def form(self) -> PurposeForm:
        """The statement as the purpose use cases take it."""
        return PurposeForm(self.purpose, self.case_number, self.attest)


class PageQuery(BaseModel):
    """Cursor pagination: where to go on from, and how many items a page holds."""

    cursor: str = Field(default="", max_length=200,
                        description="the next_cursor of the previous page (empty: the first)")
    limit: int = Field(default=50, ge=1, le=PAGE_MAX, description="items per page")


def _decode(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=="))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        position = None
    if not isinstance(position, int) or position < 0:
        raise ValidationError("cursor", "not a cursor this API gave; start without one")
    return position


def _encode(position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": position}).encode()).decode().rstrip("=")


def paginate(items: Sequence[T], page: PageQuery) -> tuple[list[T], str | None]:
    """One page of ``items`` (the use case's bounded, ordered result) and the next cursor."""
    start = _decode(page.cursor)
    chunk = list(items[start:start + page.limit])
    more = start + page.limit < len(items)
    return chunk, _encode(start + page.limit) if more else None
