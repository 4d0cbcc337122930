"""Payloads of a program's targets: the actuals reported for a year, and the mid-term and final
evaluations of the program-level targets (shared/domain/target_reports.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.events.payloads.base import EventPayload, payload
from shared.events.types import EventType


@payload(EventType.TARGETS_REPORTED)
class TargetsReported(EventPayload):
    """The province's report of the year's actuals against the program-level targets (a later
    report replaces the year's earlier one: ``revision`` counts them), with the progress they
    measure this year."""

    actuals: dict[str, Any] = Field(
        description="target key -> a number, {numerator, denominator} for a ratio, or a boolean"
    )
    revision: int = Field(1, description="1 for the year's first report, then 2, 3, ...")
    by: str = ""
    years_read: list[int] = Field(default_factory=list)
    targets: list[dict[str, Any]] = Field(
        default_factory=list, description="Each target's line: words and progress (TargetLine)"
    )


@payload(EventType.PROGRAM_EVALUATED)
class ProgramEvaluated(EventPayload):
    """A mid-term or final evaluation of the program-level targets: each target's figure,
    target, completion and status from every year's reported actuals up to this year. A soft
    target (力争) not reached is ``missed_soft`` (未达预期（力争）), not a failure."""

    kind: str = Field(description="mid_term | final")
    years_read: list[int] = Field(description="The years whose reported actuals were read")
    years_reported: list[int] = Field(default_factory=list, description="Those with a report")
    targets: list[dict[str, Any]] = Field(description="Each target's line (TargetLine)")
    counts: dict[str, int] = Field(default_factory=dict, description="Targets by status")
