"""Keyset pages, shared by the API's lists and the search page.

A page's cursor is the signed (timestamp, id) of the previous page's last row, and
the use case's store query continues after it (``WHERE (ts, id) < (:ts, :id) ...
LIMIT``), so no page re-runs the ones before it. Cursors are signed with the
application's secret and per list: a cursor of one list, or one made up, is refused
rather than read, so the store only ever gets a boundary this application gave out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from controller.errors import ValidationError

T = TypeVar("T")
# A keyset boundary: (timestamp, id) of the previous page's last row, in the list's order.
Keyset = tuple[datetime, int]
# A cursor is about 80 characters; anything longer was not given out here.
CURSOR_MAX = 200


def _signer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.secret_key), salt=salt)


def boundary(cursor: str, salt: str, field: str = "cursor") -> Keyset | None:
    """The boundary ``cursor`` names (None for an empty one); a cursor this application
    did not sign with ``salt`` is a ValidationError on ``field``."""
    if not cursor:
        return None
    refused = ValidationError(field, "not a cursor given for this list; start without one")
    if len(cursor) > CURSOR_MAX:
        raise refused
    try:
        at, ident = _signer(salt).loads(cursor)
        found = (datetime.fromisoformat(at), int(ident))
    except (BadSignature, ValueError, TypeError):
        raise refused from None
    if found[0].tzinfo is None:
        raise refused
    return found


def following(page: Sequence[T], more: bool, salt: str,
              key: Callable[[T], Keyset]) -> str | None:
    """The cursor of the page after ``page``: its last row's (timestamp, id), signed;
    None when no more rows follow it."""
    if not more or not page:
        return None
    at, ident = key(page[-1])
    return str(_signer(salt).dumps([at.isoformat(), int(ident)]))


def cut(rows: Sequence[T], limit: int, salt: str,
        key: Callable[[T], Keyset]) -> tuple[list[T], str | None]:
    """One page of ``rows`` (fetched with ``limit + 1`` past the boundary) and the cursor
    of the next page (None on the last page)."""
    chunk = list(rows[:limit])
    return chunk, following(chunk, len(rows) > limit, salt, key)
