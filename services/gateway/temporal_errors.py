"""Turning Temporal outcomes into problem+json: a rejected update keeps its stable code."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.gateway.problems import ApiError
from shared.domain import errors

T = TypeVar("T")

# How each refusal code of a workflow reads over HTTP.
HTTP_STATUS: dict[str, int] = {
    errors.WRONG_STAGE: 409,
    errors.DEADLINE_PASSED: 409,
    errors.DUPLICATE_FILING: 409,
    errors.INVALID_SCORES: 422,
    errors.COMPUTED_INDICATOR: 422,
    errors.ALREADY_SCORED: 409,
    errors.INVALID_EXTENSION: 422,
    errors.INVALID_INPUT: 422,
    errors.STEP_NOT_SILENT: 409,
    errors.STEP_TAKEN_OVER: 409,
    errors.ACTOR_REQUIRED: 403,
    errors.NOT_YOUR_ROLE: 403,
    errors.NOT_ASSIGNED: 403,
    errors.NOT_IN_PUBLICATION: 409,
    errors.UNKNOWN_BASE: 404,
    errors.UNKNOWN_OBJECTION: 404,
    errors.ALREADY_DECIDED: 409,
    errors.NOTHING_TO_FORWARD: 409,
    errors.ALREADY_FORWARDED: 409,
    errors.NOT_A_FORWARDING_REGION: 422,
    # Not the client's doing: the clocks must be put right; a retry may pass.
    errors.CLOCK_SKEW: 503,
}


async def call_workflow(awaitable: Awaitable[T], *, what: str) -> T:
    try:
        return await awaitable
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in HTTP_STATUS:
            extra = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
            raise ApiError(HTTP_STATUS[cause.type], cause.type, cause.message, **extra) from None
        raise ApiError(409, "rejected", f"{what} was rejected: {cause}") from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise ApiError(503, "worker_unavailable", f"{what}: no workflow worker answered") from None
    except WorkflowQueryFailedError as exc:
        raise ApiError(503, "worker_unavailable", f"{what}: {exc}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, "cycle_not_found", f"{what}: no such cycle") from None
        # A client-side RPC timeout ("Timeout expired", e.g. a query no busy or live worker
        # answered in time) arrives as CANCELLED.
        if exc.status in (
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.CANCELLED,
        ):
            raise ApiError(503, "worker_unavailable", f"{what}: Temporal did not answer") from None
        if exc.status == RPCStatusCode.FAILED_PRECONDITION:
            raise ApiError(409, "wrong_stage", f"{what}: the cycle has ended") from None
        if exc.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            # The engine sheds load (e.g. "consistent query buffer is full" in a rush): a retry
            # in a moment passes; it is no fault of the request.
            raise ApiError(
                503,
                "service_unavailable",
                f"{what}: Temporal is busy ({exc.message}); try again shortly",
                retry_after=2,
            ) from None
        raise
