"""The event types of DESIGN.md. Each value is the ``<type>`` part of ``navcycle.<type>``."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    PROGRAM_LAUNCHED = "program.launched"
    CYCLE_OPENED = "cycle.opened"
    REMINDER_SENT = "reminder.sent"
    PLAN_FILED = "plan.filed"
    PLAN_RETURNED = "plan.returned"
    PLAN_VERIFIED = "plan.verified"
    PLAN_ACCEPTED = "plan.accepted"
    PLAN_OVERDUE = "plan.overdue"
    SELFEVAL_FILED = "selfeval.filed"
    SELFEVAL_OVERDUE = "selfeval.overdue"
    REVIEW_OPENED = "review.opened"
    REVIEW_SCORED = "review.scored"
    REVIEW_GRADED = "review.graded"
    RECTIFICATION_ORDERED = "rectification.ordered"
    RECTIFICATION_FILED = "rectification.filed"
    RECTIFICATION_PASSED = "rectification.passed"
    RECTIFICATION_FAILED = "rectification.failed"
    BASE_DELISTED = "base.delisted"
    DEADLINE_EXTENDED = "deadline.extended"
    RESULTS_PUBLISHED = "results.published"
    RESULTS_FINALIZED = "results.finalized"
    CYCLE_CLOSED = "cycle.closed"
    CYCLE_EXCLUDED = "cycle.excluded"
    OPERATOR_ACTION = "operator.action"
    # Trust (issue 11): every decision a bureau must defend is an event of its own.
    CYCLE_ENDED = "cycle.ended"  # a later cycle of a de-listed base, ended with the reason
    BASE_REINSTATED = "base.reinstated"
    PLAN_STEP_TAKEN_OVER = "plan.step_taken_over"  # silence: consent, or the province acts
    EXPERT_REASSIGNED = "expert.reassigned"
    EXPERT_ASSIGNED = "expert.assigned"
    DEADLINE_RECOMPUTED = "deadline.recomputed"  # a provisional deadline after a holiday table
    DEADLINE_MOVED = "deadline.moved"  # a deadline that follows someone else's step
    OBJECTION_LODGED = "objection.lodged"
    OBJECTION_DECIDED = "objection.decided"
    RESULTS_CORRECTED = "results.corrected"  # 补充公示: a change after publication
    CALENDAR_APPLIED = "calendar.applied"
    BASE_DESIGNATED = "base.designated"  # 验收: designated a provincial base
    OUTCOME_DECIDED = "outcome.decided"  # an outcome rule applied to a final grade
    TARGETS_REPORTED = "targets.reported"  # a year's actuals against the program's targets
    PROGRAM_EVALUATED = "program.evaluated"  # a multi-year program's mid-term or final evaluation
    PLANS_FORWARDED = "plans.forwarded"  # a region's aggregation step: its units' plans, one filing

    @property
    def cloudevents_type(self) -> str:
        return f"navcycle.{self.value}"

    @classmethod
    def from_cloudevents_type(cls, value: str) -> EventType:
        prefix = "navcycle."
        if not value.startswith(prefix):
            raise ValueError(f"not a navcycle event type: {value!r}")
        return cls(value[len(prefix) :])
