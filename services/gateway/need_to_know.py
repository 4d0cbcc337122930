"""What a reader is shown: the access policy's answers applied to the read models.

Every function here takes what a route read and returns it cut down to what the caller may see
(rows of other bases, provisional grades, expert sheets and names). The policy itself, who may
see what, is :mod:`services.gateway.access`.
"""

from __future__ import annotations

from typing import Any

from services.gateway.access import (
    SheetAccess,
    Target,
    row_scope,
    row_visible,
    sees_grade_counts,
    sees_provisional,
    sheet_access,
)
from services.gateway.identity.tokens import Principal
from shared.contracts.cycle import CycleState, HistoryStep
from shared.contracts.dashboard import (
    AppliedEvent,
    BaseTimeline,
    CycleSummary,
    OverdueBase,
    YearCounts,
)
from shared.domain.grading import DecisionRecord

SCORED = "review.scored"
GRADED = "review.graded"
NAMED = ("expert", "experts", "sheets", "by", "assigned", "removed", "added")


def _base(program: str, base: str, region: str | None) -> Target:
    return Target(program=program, base=base, region=region)


def cycle_rows(p: Principal, program: str, rows: list[CycleSummary]) -> list[CycleSummary]:
    """The bases' rows the caller may see; a grade not yet published only to those who may see
    it provisionally (a row a 公示 notice names shows that notice's values)."""
    return [
        cycle_row(p, program, row)
        for row in rows
        if row_visible(p, _base(program, row.base, row.region))
    ]


def cycle_row(p: Principal, program: str, row: CycleSummary) -> CycleSummary:
    """One base's row for a caller who may read that base's cycle."""
    if row.notice == 0 and not sees_provisional(p, _base(program, row.base, row.region)):
        return row.model_copy(update={"grade": None, "total": None})
    return row


def timeline(p: Principal, program: str, line: BaseTimeline) -> BaseTimeline:
    """One base's timeline: its row as :func:`cycle_row`, and a grade its events name (the
    review's "grade: …") only once published or to those who see it provisionally."""
    row = line.cycle
    if row is not None:
        row = cycle_row(p, program, row)
    published = row is not None and row.notice > 0
    target = _base(program, line.base, row.region if row else None)
    if published or sees_provisional(p, target):
        return line.model_copy(update={"cycle": row})
    events = [e.model_copy(update={"detail": None}) if e.type == GRADED else e for e in line.events]
    return line.model_copy(update={"cycle": row, "events": events})


def counts(p: Principal, c: YearCounts) -> YearCounts:
    """Counts by stage (and how many bases are overdue) are for every reader of the program; by
    grade only once the 公示 is out, or to those :func:`sees_grade_counts` names."""
    published = c.publication is not None
    if not sees_grade_counts(p, Target(program=c.program), published=published):
        return c.model_copy(update={"by_grade": {}})
    return c


def overdue_rows(p: Principal, program: str, rows: list[OverdueBase]) -> list[OverdueBase]:
    """The overdue list names bases: each caller keeps only the rows it may see."""
    return [r for r in rows if row_visible(p, _base(program, r.base, r.region))]


def activity(
    p: Principal, program: str, events: list[AppliedEvent], regions: dict[str, str]
) -> list[AppliedEvent]:
    """Applied events of the bases the caller may see (``regions``: base → region)."""
    scope = row_scope(p, Target(program=program))
    if scope == "all":
        return events
    return [e for e in events if row_visible(p, _base(program, e.base, regions.get(e.base)))]


def _sheetless_detail(step: HistoryStep, access: SheetAccess, me: str) -> HistoryStep:
    detail = step.detail
    if step.event == SCORED:
        if access == "all" or (access == "own" and detail.get("expert") == me):
            return step
        return step.model_copy(update={"detail": {"round": detail.get("round", 0)}})
    if access == "all":
        return step
    named = NAMED if step.event.startswith("review.") else ("expert", "experts")
    kept: dict[str, Any] = {k: v for k, v in detail.items() if k not in named}
    if step.event == GRADED:
        if access == "own":
            kept["sheets"] = [s for s in detail.get("sheets", []) if s.get("expert") == me]
        elif access == "none":
            kept = {"round": detail.get("round", 0)}
    return step.model_copy(update={"detail": kept})


def _decision(record: DecisionRecord, access: SheetAccess, me: str) -> DecisionRecord:
    if access == "all":
        return record
    own = [s for s in record.sheets if s.expert == me] if access == "own" else []
    return record.model_copy(update={"sheets": own})


def cycle_state(
    p: Principal, state: CycleState, *, region: str, published: bool, assigned: bool
) -> CycleState:
    """The cycle as the caller may see it: expert sheets by :func:`sheet_access`, a grade before
    publication by :func:`sees_provisional`, expert names to the province (an expert: its own)."""
    target = _base(state.program, state.base, region)
    graded = bool(state.decisions)
    access = sheet_access(p, target, graded=graded, published=published, assigned=assigned)
    if access == "all" and sees_provisional(p, target):
        return state
    update: dict[str, Any] = {
        "history": [_sheetless_detail(s, access, p.name) for s in state.history],
        "decisions": (
            [_decision(d, access, p.name) for d in state.decisions] if access != "none" else []
        ),
    }
    if not (published or sees_provisional(p, target)):
        update |= {"grade": None, "total": None}
    if p.role == "expert":
        update["experts"] = [e for e in state.experts if e == p.name]
    elif p.role != "province_admin":
        update["experts"] = []
        if p.role != "city_officer":
            update["step_taken_by"] = None
    return state.model_copy(update=update)
