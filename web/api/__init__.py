"""The versioned JSON API, ``/api/v1`` (issue 17): beside the HTML UI, on the same rules.

Views are thin: each parses its request with a pydantic model (which the OpenAPI
document is generated from), calls one controller use case with the API client
as the ``Caller`` (role, purpose, training and audit are checked there, as for the
UI and the CLI) and returns a pydantic model. Refusals are RFC 9457 problems.
"""

from __future__ import annotations

from flask_openapi3.blueprint import APIBlueprint

from web.api import auth, problems

BLUEPRINT = "api_v1"
PREFIX = "/api/v1"

bp = APIBlueprint(BLUEPRINT, __name__, url_prefix=PREFIX, abp_security=[{"bearer": []}],
                  abp_responses=problems.responses(400, 401, 403, 404, 409, 503))
auth.install(bp)
problems.register(bp)

# The areas register their operations on ``bp`` when imported.
from web.api import (  # noqa: E402,F401
    audit,
    cameras,
    hits,
    holds,
    hotlists,
    reads,
    sharing,
    status,
)
