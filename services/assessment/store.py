"""Assessment persistence: round-robin assignment and decisions, idempotent by event id."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.assessment.tables import (
    AssignmentRow,
    CursorRow,
    DecisionRow,
    ExpertRow,
    ProcessedEvent,
)


def already_processed(session: Session, event_id: str) -> bool:
    return session.get(ProcessedEvent, event_id) is not None


def mark_processed(session: Session, event_id: str) -> None:
    session.add(ProcessedEvent(event_id=event_id))


def add_expert(session: Session, *, program: str, expert: str) -> None:
    if session.get(ExpertRow, (program, expert)) is None:
        session.add(ExpertRow(program=program, expert=expert))


def assign(
    session: Session, *, program: str, year: int, base: str, round_: int, needed: int
) -> list[str]:
    """The next ``needed`` experts of the program, in turn (fewer if the roster is short)."""
    roster = list(
        session.exec(
            select(ExpertRow.expert)
            .where(ExpertRow.program == program)
            .order_by(col(ExpertRow.expert))
        )
    )
    if not roster:
        return []
    cursor = session.get(CursorRow, program) or CursorRow(program=program, position=0)
    chosen = [roster[(cursor.position + i) % len(roster)] for i in range(min(needed, len(roster)))]
    cursor.position = (cursor.position + len(chosen)) % len(roster)
    session.add(cursor)
    for expert in chosen:
        session.add(
            AssignmentRow(program=program, year=year, base=base, round=round_, expert=expert)
        )
    return chosen


def current_assignments(
    session: Session, *, program: str, year: int, base: str
) -> tuple[int | None, list[str]]:
    rows = list(
        session.exec(
            select(AssignmentRow).where(
                AssignmentRow.program == program,
                AssignmentRow.year == year,
                AssignmentRow.base == base,
            )
        )
    )
    if not rows:
        return None, []
    latest = max(r.round for r in rows)
    return latest, sorted(r.expert for r in rows if r.round == latest)


def record_decision(session: Session, *, record: dict[str, Any]) -> None:
    key = (record["program"], record["year"], record["base"], record["round"])
    if session.get(DecisionRow, key) is None:
        session.add(
            DecisionRow(
                program=key[0],
                year=key[1],
                base=key[2],
                round=key[3],
                total=record["total"],
                grade=record["grade"],
                record=record,
            )
        )
