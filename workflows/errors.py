"""Stable error codes for rejected human input. The gateway maps each to an HTTP status."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from shared.domain.arrival import CLOCK_SKEW  # gateway and workflow clocks disagree

WRONG_STAGE = "wrong_stage"
DEADLINE_PASSED = "deadline_passed"
DUPLICATE_FILING = "duplicate_filing"
INVALID_SCORES = "invalid_scores"
ALREADY_SCORED = "already_scored"
INVALID_EXTENSION = "invalid_extension"
INVALID_INPUT = "invalid_input"
STEP_NOT_SILENT = "step_not_silent"
STEP_TAKEN_OVER = "step_taken_over"
ACTOR_REQUIRED = "actor_required"
NOT_YOUR_ROLE = "not_your_role"
NOT_ASSIGNED = "not_assigned"
NOT_IN_PUBLICATION = "not_in_publication"
UNKNOWN_BASE = "unknown_base"
UNKNOWN_OBJECTION = "unknown_objection"
ALREADY_DECIDED = "already_decided"

HTTP_STATUS = {
    WRONG_STAGE: 409,
    DEADLINE_PASSED: 409,
    DUPLICATE_FILING: 409,
    INVALID_SCORES: 422,
    ALREADY_SCORED: 409,
    INVALID_EXTENSION: 422,
    INVALID_INPUT: 422,
    STEP_NOT_SILENT: 409,
    STEP_TAKEN_OVER: 409,
    ACTOR_REQUIRED: 403,
    NOT_YOUR_ROLE: 403,
    NOT_ASSIGNED: 403,
    NOT_IN_PUBLICATION: 409,
    UNKNOWN_BASE: 404,
    UNKNOWN_OBJECTION: 404,
    ALREADY_DECIDED: 409,
    # Not the client's doing: the clocks must be put right; a retry may pass.
    CLOCK_SKEW: 503,
}


def rejected(code: str, message: str, **details: object) -> ApplicationError:
    return ApplicationError(message, details or None, type=code, non_retryable=True)
