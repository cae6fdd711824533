"""Request and response models ``/api/v1`` shares: purpose headers and cursor pages.

Pages are keyset pages (``web.paging``): a cursor is the signed (timestamp, id) of
the previous page's last row, and the use case's store query continues after it.

The OpenAPI document is generated from these (flask-openapi3 reads the pydantic
models the views declare), so a field's bounds here are its bounds in the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from controller.accounts.purpose import PurposeForm
from web import paging
from web.paging import Keyset

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


def _salt(kind: str) -> str:
    return f"sightline-api-cursor-{kind}"


def after(page: PageQuery, kind: str) -> Keyset | None:
    """The boundary a page's cursor names: the previous page's last (timestamp, id), or None."""
    return paging.boundary(page.cursor, _salt(kind))


def next_cursor(page: Sequence[T], more: bool, kind: str,
                key: Callable[[T], Keyset]) -> str | None:
    """The cursor of the page after ``page`` (None when ``more`` is false)."""
    return paging.following(page, more, _salt(kind), key)


def keyset_page(rows: Sequence[T], page: PageQuery, kind: str,
                key: Callable[[T], Keyset]) -> tuple[list[T], str | None]:
    """One page of ``rows`` (fetched with ``page.limit + 1`` past the boundary) and the
    cursor of the next page (``web.paging.cut``)."""
    return paging.cut(rows, page.limit, _salt(kind), key)
