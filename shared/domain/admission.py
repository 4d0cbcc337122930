"""Whether a cycle accepts a filing now: one pure rule, used by the workflow's update validators
and by the gateway before it stores any bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shared.contracts.cycle import CycleState
from shared.domain import errors
from shared.domain.stages import Stage

FilingKind = Literal["plan", "self_evaluation", "rectification"]

_STAGE = {
    "plan": Stage.PLAN_FILING,
    "self_evaluation": Stage.IMPLEMENTING,
    "rectification": Stage.RECTIFYING,
}
_WHAT = {
    "plan": "a plan",
    "self_evaluation": "a self-evaluation",
    "rectification": "a rectification",
}


def filing_refusal(
    state: CycleState, kind: FilingKind, now: datetime, sha256: str | None = None
) -> tuple[str, str] | None:
    """``(code, message)`` when the filing must be refused, else ``None``.

    Order matters for a clear reason: a repeated filing is a duplicate, a missed deadline is
    ``deadline_passed`` even after the cycle moved on, and only then is the stage wrong.
    """
    if _duplicate(state, kind, sha256):
        return errors.DUPLICATE_FILING, f"{_WHAT[kind]} has already been filed"
    due = state.deadlines.get(kind)
    if due is not None and now >= due and not _filed_in_time(state, kind):
        return errors.DEADLINE_PASSED, f"the {kind} deadline passed at {due.isoformat()}"
    if state.stage != _STAGE[kind]:
        return (
            errors.WRONG_STAGE,
            f"{_WHAT[kind]} is not accepted now: the cycle is in stage {state.stage.value}",
        )
    return None


def _duplicate(state: CycleState, kind: FilingKind, sha256: str | None) -> bool:
    if kind == "plan":
        return state.plan_filed
    if kind == "rectification":
        return state.stage == Stage.RECTIFYING and state.rectification_filed_round >= state.round
    return sha256 is not None and any(
        d.kind == kind and d.sha256 == sha256 for d in state.documents
    )


def _filed_in_time(state: CycleState, kind: FilingKind) -> bool:
    return (
        kind == "self_evaluation"
        and state.stage != Stage.IMPLEMENTING
        and any(d.kind == kind for d in state.documents)
    )
