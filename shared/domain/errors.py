"""Stable codes of refused human input: what a workflow's update validator answers with.

Pure names; how a code reads over HTTP (its status) is the gateway's business
(``services/gateway/temporal_errors.py``)."""

from __future__ import annotations

from shared.domain.arrival import CLOCK_SKEW  # gateway and workflow clocks disagree

WRONG_STAGE = "wrong_stage"
DEADLINE_PASSED = "deadline_passed"
PROGRAM_TOO_LARGE = "program_too_large"  # a launch over max_bases_per_year active bases
DUPLICATE_FILING = "duplicate_filing"
INVALID_SCORES = "invalid_scores"
COMPUTED_INDICATOR = "computed_indicator"
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
NOTHING_TO_FORWARD = "nothing_to_forward"  # no plan of the region waits at its aggregation step
ALREADY_FORWARDED = "already_forwarded"
NOT_A_FORWARDING_REGION = "not_a_forwarding_region"

CODES: tuple[str, ...] = (
    WRONG_STAGE,
    DEADLINE_PASSED,
    DUPLICATE_FILING,
    INVALID_SCORES,
    ALREADY_SCORED,
    INVALID_EXTENSION,
    INVALID_INPUT,
    COMPUTED_INDICATOR,
    STEP_NOT_SILENT,
    STEP_TAKEN_OVER,
    ACTOR_REQUIRED,
    NOT_YOUR_ROLE,
    NOT_ASSIGNED,
    NOT_IN_PUBLICATION,
    UNKNOWN_BASE,
    UNKNOWN_OBJECTION,
    ALREADY_DECIDED,
    NOTHING_TO_FORWARD,
    ALREADY_FORWARDED,
    NOT_A_FORWARDING_REGION,
    CLOCK_SKEW,
)
"""Every code a workflow may refuse an input with."""
