"""What the services hold in their tables, read straight from the database, to compare before
and after a fault (events delivered again must change none of it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from services.assessment.tables import AssignmentRow, DecisionRow
from services.assessment.tables import ProcessedEvent as AssessmentProcessed
from services.dashboard import store as dashboard
from services.filings.tables import DocumentRow
from services.notifier.tables import NoticeRow
from services.notifier.tables import ProcessedEvent as NotifierProcessed
from services.registry.tables import BaseRow


@dataclass(frozen=True)
class Holdings:
    notices: list[tuple[str, str, str, str]]
    notifier_processed: int
    assignments: list[tuple[str, int, str, int, str]]
    decisions: list[tuple[str, int, str, int, float, str]]
    assessment_processed: int
    dashboard_cycles: list[dict[str, Any]]
    dashboard_timeline: list[dict[str, Any]]
    bases: list[tuple[str, str, str, str]]
    documents: list[tuple[str, str, str, str]]

    def differences(self, other: Holdings) -> list[str]:
        return [
            name
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(other, name)
        ]


def take(engine: Engine) -> Holdings:
    with Session(engine) as s:
        notices = [
            (n.event_id, n.audience, n.kind, n.base)
            for n in s.exec(select(NoticeRow).order_by(col(NoticeRow.id)))
        ]
        notifier_processed = len(list(s.exec(select(NotifierProcessed.event_id))))
        assignments = sorted(
            (a.program, a.year, a.base, a.round, a.expert) for a in s.exec(select(AssignmentRow))
        )
        decisions = sorted(
            (d.program, d.year, d.base, d.round, d.total, d.grade)
            for d in s.exec(select(DecisionRow))
        )
        assessment_processed = len(list(s.exec(select(AssessmentProcessed.event_id))))
        bases = sorted(
            (b.program, b.id, b.status, b.status_reason) for b in s.exec(select(BaseRow))
        )
        documents = sorted(
            (d.document_id, d.base, d.key, d.sha256) for d in s.exec(select(DocumentRow))
        )
    return Holdings(
        notices=notices,
        notifier_processed=notifier_processed,
        assignments=assignments,
        decisions=decisions,
        assessment_processed=assessment_processed,
        dashboard_cycles=dashboard.cycles(engine),
        dashboard_timeline=dashboard.timeline(engine),
        bases=bases,
        documents=documents,
    )
