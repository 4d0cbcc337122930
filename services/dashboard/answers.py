"""The dashboard's rows as its answers say them: outcomes, objections and deadlines in words,
Chinese first and English beside it, as the 公示 and the notices word them."""

from __future__ import annotations

import json
from datetime import date, datetime

from services.dashboard.projection import key_time
from services.dashboard.tables import CycleRow, ObjectionRow, YearRow
from shared.contracts.dashboard import CycleSummary, DeadlineView, ObjectionItem, Publication
from shared.contracts.results import (
    OBJECTION_STATUS_EN,
    OBJECTION_STATUS_ZH,
    OUTCOME_EN,
    OUTCOME_ZH,
)
from shared.domain.wording import (
    PROVISIONAL_EN,
    PROVISIONAL_ZH,
    deadline_en,
    deadline_zh,
    end_en,
    end_zh,
)


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def deadline(name: str, due: dict[str, object]) -> DeadlineView:
    until, last_day = _instant(str(due.get("due") or "")), _day(str(due.get("last_day") or ""))
    provisional = bool(due.get("provisional"))
    return DeadlineView(
        name=name,
        due=str(due["due"]) if due.get("due") else None,
        last_day=str(due["last_day"]) if due.get("last_day") else None,
        provisional=provisional,
        words_zh=deadline_zh(until, last_day, provisional=provisional),
        words_en=deadline_en(until, last_day, provisional=provisional),
    )


def objection(row: ObjectionRow) -> ObjectionItem:
    return ObjectionItem(
        objection_id=row.objection_id,
        base=row.base,
        role=row.role,
        grounds=row.grounds,
        received_at=row.received_at,
        status=row.status,
        status_zh=OBJECTION_STATUS_ZH.get(row.status, row.status),
        status_en=OBJECTION_STATUS_EN.get(row.status, row.status),
        reason=row.reason,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def summary(row: CycleRow, objections: list[ObjectionRow]) -> CycleSummary:
    deadlines = json.loads(row.deadlines or "{}")
    outcome = row.outcome
    return CycleSummary(
        base=row.base,
        region=row.region,
        stage=row.stage,
        stage_since=key_time(row.stage_key),
        grade=row.grade,
        total=row.total,
        overdue=row.overdue,
        notice=row.notice,
        outcome=outcome,
        outcome_zh=OUTCOME_ZH.get(outcome, outcome) if outcome else "",
        outcome_en=OUTCOME_EN.get(outcome, outcome) if outcome else "",
        reason_zh=row.reason_zh,
        reason_en=row.reason_en,
        rank_reason_zh=row.rank_reason_zh,
        rank_reason_en=row.rank_reason_en,
        corrected=row.corrected,
        deadlines=[deadline(name, due) for name, due in sorted(deadlines.items())],
        objections=[objection(o) for o in objections],
    )


def publication(row: YearRow) -> Publication | None:
    if not row.notice:
        return None
    until, last_day = _instant(row.publication_until), _day(row.publication_last_day)
    known = until is not None or last_day is not None
    mark_zh, mark_en = (PROVISIONAL_ZH, f" {PROVISIONAL_EN}") if row.provisional else ("", "")
    return Publication(
        notice=row.notice,
        kind=row.kind or "original",
        published_at=row.published_at,
        until=row.publication_until,
        last_day=row.publication_last_day,
        provisional=row.provisional,
        until_zh=end_zh(until, last_day) + mark_zh if known else "",
        until_en=end_en(until, last_day) + mark_en if known else "",
        counts=json.loads(row.counts or "{}"),
        corrected=json.loads(row.corrected or "[]"),
        entries_inline=row.inline,
        finalized_at=row.finalized_at,
    )
