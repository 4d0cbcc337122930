"""The problem responses a route documents: ``responses=problem_responses(401, 403, 404)``.

Each is RFC 9457 ``application/problem+json`` with the ``Problem`` schema (the bodies
:mod:`services.gateway.problems` writes), described by the stable codes it carries.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_REF = "#/components/schemas/Problem"

# For each status, what it means here and the codes it carries.
MEANINGS: dict[int, str] = {
    400: "Bad request / 请求有误 (bad_request)",
    401: (
        "No token, or a token refused / 未认证 "
        "(unauthenticated, invalid_token, token_expired, token_revoked)"
    ),
    403: "The caller's role may not do this here / 无权操作 (forbidden, not_your_role, ...)",
    404: (
        "Not found, or not the caller's to see / 不存在或无权查看 "
        "(program_not_found, base_not_found, cycle_not_found, document_not_found, not_found)"
    ),
    409: (
        "Refused in the resource's current state / 当前阶段不受理 "
        "(wrong_stage, deadline_passed, duplicate_filing, already_scored, ...)"
    ),
    410: "Gone: stored bytes are missing / 文件已丢失 (document_gone)",
    413: "The body is too large / 文件过大 (body_too_large, file_too_large)",
    415: "The file type is not accepted / 文件类型不受理 (unsupported_media_type)",
    422: "The request is malformed / 请求格式有误 (invalid_request, and the route's own codes)",
    429: "Too many requests; see Retry-After / 请求过于频繁 (rate_limited, too_many_streams)",
    503: (
        "A component is not answering; retry / 服务暂不可用 "
        "(worker_unavailable, service_unavailable, database_unavailable, ...)"
    ),
}

# A public route that reads a token when one is sent (who objects, what they may see).
OPTIONAL_BEARER: dict[str, Any] = {"security": [{}, {"bearer": []}]}

# What every route behind a bearer token can answer, besides its own refusals.
AUTHENTICATED = (401, 403, 404, 422, 503)


class Problem(BaseModel):
    """An RFC 9457 problem; a refusal may add fields of its own (``errors``, ``stage``, ...)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="https://navcycle.dev/problems/<code>")
    title: str
    status: int
    detail: str = Field(description="For a person; bilingual where a person reads it")
    code: str = Field(description="Stable, for programs to branch on")
    instance: str = Field("", description="The request path")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer ``statuses`` as problems."""
    return {
        status: {
            "description": MEANINGS[status],
            "content": {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}},
        }
        for status in sorted(set(statuses))
    }


def authenticated(*more: int) -> dict[int | str, dict[str, Any]]:
    """A route behind a bearer token: :data:`AUTHENTICATED` and ``more``."""
    return problem_responses(*AUTHENTICATED, *more)
