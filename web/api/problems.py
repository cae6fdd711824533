"""RFC 9457 problem details for ``/api/v1``: every refusal as ``application/problem+json``.

A bad field is named in ``field`` (and every bad field in ``errors``), whether the
request's own schema refused it (pydantic, before the view runs) or a use case did
(``controller.errors.ValidationError``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, json
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import HTTPException

from controller.errors import (
    Conflict,
    NotFound,
    PolicyViolation,
    StoreUnavailable,
    ValidationError,
)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://sightline.invalid/problems/"


def responses(*codes: int) -> dict[str | int | HTTPStatus, type[BaseModel] | dict[Any, Any] | None]:
    """The OpenAPI responses of these status codes: a ``Problem`` as problem+json."""
    reason = {400: "Bad Request: a field is named", 401: "Unauthorized: no or a refused token",
              403: "Forbidden: role, training or policy", 404: "Not Found",
              409: "Conflict", 503: "Service Unavailable"}
    return {code: {"description": reason[code], "content": {MEDIA_TYPE: {
        "schema": {"$ref": "#/components/schemas/Problem"}}}} for code in codes}


class FieldError(BaseModel):
    """One bad field: where it was and what is wrong with it."""

    field: str = Field(description="the field, parameter or header, dotted for nested ones")
    detail: str = Field(description="what is wrong with it")


class Problem(BaseModel):
    """An RFC 9457 problem: why the request was refused."""

    type: str = Field(description="a URI naming the kind of problem")
    title: str = Field(description="the kind of problem, for people")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request")
    field: str | None = Field(default=None, description="the first bad field, when one is")
    errors: list[FieldError] = Field(default_factory=list, description="every bad field")


def problem(status: int, title: str, detail: str, *, field: str | None = None,
            errors: list[FieldError] | None = None, kind: str | None = None) -> Response:
    """A problem response (``application/problem+json``)."""
    body = Problem(type=TYPE_BASE + (kind or title.lower().replace(" ", "-")), title=title,
                   status=status, detail=detail, field=field, errors=errors or [])
    return Response(json.dumps(body.model_dump()), status=status, mimetype=MEDIA_TYPE)


def _loc(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def invalid_request(exc: PydanticError) -> Response:
    """flask-openapi3's ``validation_error_callback``: the request's schema refused it."""
    errors = [FieldError(field=_loc(e["loc"]), detail=str(e["msg"]))
              for e in exc.errors(include_url=False)]
    first = errors[0] if errors else FieldError(field="body", detail="invalid request")
    return problem(400, "Bad Request", f"{first.field}: {first.detail}", field=first.field,
                   errors=errors, kind="invalid-field")


def _validation(exc: ValidationError) -> Response:
    return problem(400, "Bad Request", str(exc), field=exc.field,
                   errors=[FieldError(field=exc.field, detail=exc.reason)], kind="invalid-field")


def register(blueprint: Blueprint) -> None:
    """Answer the API's refusals as problems (the HTML UI keeps its own error pages).

    Handlers on the blueprint come before the application's for its own views.
    """
    handlers: dict[type[Exception], Any] = {
        ValidationError: _validation,
        PolicyViolation: lambda exc: problem(403, "Forbidden", str(exc)),
        NotFound: lambda exc: problem(404, "Not Found", str(exc)),
        Conflict: lambda exc: problem(409, "Conflict", str(exc)),
        StoreUnavailable: lambda exc: problem(503, "Service Unavailable",
                                              "the database cannot be reached; try again"),
        HTTPException: http_problem,
    }
    for kind, handler in handlers.items():
        blueprint.register_error_handler(kind, handler)


def http_problem(exc: HTTPException) -> Response:
    """A werkzeug HTTP error (404, 405, 413...) as a problem."""
    code = exc.code or 500
    return problem(code, exc.name, exc.description or exc.name)
