"""Assessment persistence: the roster, assignments in turn, reassignments, decisions.

A review round is assigned once (idempotent per program, year, base and round) and never with
fewer experts than it needs; a replaced expert's row stays, marked with who took the place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.assessment.tables import (
    AssignmentRow,
    CursorRow,
    DecisionRow,
    ExpertRow,
    ProcessedEvent,
)
from shared.domain.grading import DecisionRecord
from shared.rpc import RpcError


class RosterTooShort(RpcError):
    def __init__(self, *, needed: int, available: int, what: str = "review") -> None:
        super().__init__(
            "roster_too_short",
            f"专家库人数不足：本次{'评审' if what == 'review' else '改派'}需要 {needed} 名专家，"
            f"专家库可用 {available} 名，请先增补专家 — the roster is too short: the {what} needs"
            f" {needed} experts and the roster has {available} available; add experts first",
            409,
            needed=needed,
            available=available,
        )


@dataclass(frozen=True)
class Replacement:
    replaced: str
    by: str


def already_processed(session: Session, event_id: str) -> bool:
    return session.get(ProcessedEvent, event_id) is not None


def mark_processed(session: Session, event_id: str) -> None:
    session.add(ProcessedEvent(event_id=event_id))


def add_expert(session: Session, *, program: str, expert: str) -> None:
    if session.get(ExpertRow, (program, expert)) is None:
        session.add(ExpertRow(program=program, expert=expert))


def remove_expert(session: Session, *, program: str, expert: str) -> bool:
    row = session.get(ExpertRow, (program, expert))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def roster(session: Session, *, program: str) -> list[str]:
    return list(
        session.exec(
            select(ExpertRow.expert)
            .where(ExpertRow.program == program)
            .order_by(col(ExpertRow.expert))
        )
    )


def _in_turn(session: Session, *, program: str, count: int, exclude: set[str]) -> list[str]:
    """The next ``count`` experts of the roster in turn, skipping ``exclude``; the cursor moves
    past the last one taken. Fewer if the roster has fewer."""
    names = roster(session, program=program)
    if not names or count <= 0:
        return []
    cursor = session.exec(
        select(CursorRow).where(CursorRow.program == program).with_for_update()
    ).first() or CursorRow(program=program, position=0)
    chosen: list[str] = []
    step = 0
    for step in range(len(names)):
        name = names[(cursor.position + step) % len(names)]
        if name not in exclude:
            chosen.append(name)
            if len(chosen) == count:
                break
    cursor.position = (cursor.position + step + 1) % len(names)
    session.add(cursor)
    return chosen


def round_rows(
    session: Session, *, program: str, year: int, base: str, round_: int
) -> list[AssignmentRow]:
    return list(
        session.exec(
            select(AssignmentRow)
            .where(
                AssignmentRow.program == program,
                AssignmentRow.year == year,
                AssignmentRow.base == base,
                AssignmentRow.round == round_,
            )
            .order_by(col(AssignmentRow.expert))
        )
    )


def _add(
    session: Session,
    *,
    program: str,
    year: int,
    base: str,
    round_: int,
    experts: list[str],
    due: datetime | None,
    reason: str = "",
) -> list[AssignmentRow]:
    rows = [
        AssignmentRow(
            program=program,
            year=year,
            base=base,
            round=round_,
            expert=e,
            due=due,
            reason=reason,
        )
        for e in experts
    ]
    session.add_all(rows)
    session.flush()
    return rows


def open_round(
    session: Session,
    *,
    program: str,
    year: int,
    base: str,
    round_: int,
    needed: int,
    due: datetime | None,
    allow_short: bool = False,
) -> list[AssignmentRow]:
    """The round's experts, assigned in turn if it has fewer than ``needed`` (idempotent).

    Refuses ``roster_too_short`` unless ``allow_short`` (the review.opened consumer of older
    cycles, which assigned whom it could)."""
    rows = round_rows(session, program=program, year=year, base=base, round_=round_)
    active = [r for r in rows if r.replaced_at is None]
    missing = needed - len(active)
    if missing <= 0:
        return active
    exclude = {r.expert for r in rows}
    available = len([e for e in roster(session, program=program) if e not in exclude])
    if available < missing and not allow_short:
        raise RosterTooShort(needed=needed, available=available + len(active))
    chosen = _in_turn(session, program=program, count=missing, exclude=exclude)
    return active + _add(
        session,
        program=program,
        year=year,
        base=base,
        round_=round_,
        experts=chosen,
        due=due or (active[0].due if active else None),
    )


def assign(
    session: Session,
    *,
    program: str,
    year: int,
    base: str,
    round_: int,
    needed: int,
    due: datetime | None = None,
) -> list[AssignmentRow]:
    """The review.opened consumer: a no-op (nothing new) when the round is already assigned."""
    if round_rows(session, program=program, year=year, base=base, round_=round_):
        return []
    return open_round(
        session,
        program=program,
        year=year,
        base=base,
        round_=round_,
        needed=needed,
        due=due,
        allow_short=True,
    )


def latest_round(session: Session, *, program: str, year: int, base: str) -> int | None:
    rounds = session.exec(
        select(AssignmentRow.round).where(
            AssignmentRow.program == program,
            AssignmentRow.year == year,
            AssignmentRow.base == base,
        )
    ).all()
    return max(rounds) if rounds else None


def is_decided(session: Session, *, program: str, year: int, base: str, round_: int) -> bool:
    return session.get(DecisionRow, (program, year, base, round_)) is not None


def reassign(
    session: Session,
    *,
    program: str,
    year: int,
    base: str,
    round_: int,
    keep: list[str],
    reason: str,
    due: datetime | None,
    at: datetime,
) -> tuple[list[AssignmentRow], list[Replacement]]:
    """The places of the round's experts not in ``keep`` go to the next experts on the roster
    who were never on this round. All or nothing: refused before any change if short."""
    rows = round_rows(session, program=program, year=year, base=base, round_=round_)
    active = [r for r in rows if r.replaced_at is None]
    unknown = sorted(set(keep) - {r.expert for r in active})
    if unknown:
        raise RpcError(
            "not_assigned",
            f"不在本轮评审的专家：{', '.join(unknown)} — not on this review: {', '.join(unknown)}",
            422,
        )
    leaving = [r for r in active if r.expert not in keep]
    if not leaving:
        return active, []
    exclude = {r.expert for r in rows}
    available = len([e for e in roster(session, program=program) if e not in exclude])
    if available < len(leaving):
        raise RosterTooShort(needed=len(leaving), available=available, what="reassignment")
    chosen = _in_turn(session, program=program, count=len(leaving), exclude=exclude)
    due = due or (active[0].due if active else None)
    for row, new in zip(leaving, chosen, strict=True):
        row.replaced_at, row.replaced_by, row.reason = at, new, reason[:1000]
        session.add(row)
    added = _add(
        session,
        program=program,
        year=year,
        base=base,
        round_=round_,
        experts=chosen,
        due=due,
        reason=reason[:1000],
    )
    if due is not None:
        for row in active:
            row.due = due
            session.add(row)
    kept = [r for r in active if r.expert in keep]
    replaced = [Replacement(r.expert, new) for r, new in zip(leaving, chosen, strict=True)]
    return sorted(kept + added, key=lambda r: r.expert), replaced


def _unreplaced_places(session: Session, *, program: str, expert: str) -> list[AssignmentRow]:
    """Every place the expert holds (on any round) that nobody replaced it on."""
    return list(
        session.exec(
            select(AssignmentRow).where(
                AssignmentRow.program == program,
                AssignmentRow.expert == expert,
                col(AssignmentRow.replaced_at).is_(None),
            )
        ).all()
    )


def open_reviews_of(session: Session, *, program: str, expert: str) -> list[AssignmentRow]:
    """The expert's places on rounds with no recorded decision."""
    rows = _unreplaced_places(session, program=program, expert=expert)
    return [
        r
        for r in rows
        if not is_decided(session, program=program, year=r.year, base=r.base, round_=r.round)
    ]


def places_page(
    session: Session, *, program: str, expert: str, after: tuple[int, str] | None, limit: int
) -> list[tuple[AssignmentRow, bool]]:
    """The expert's places on the latest round of each review (replaced ones left out: the
    reviews ``current_assignments`` names the expert on), a page in one query: newest year
    first, then by base, after ``after``'s year and base, ``limit`` + 1 rows to tell that more
    follow; each with whether its round's grade is recorded."""
    other = aliased(AssignmentRow)
    latest = (
        select(func.max(other.round))
        .where(
            other.program == AssignmentRow.program,
            other.year == AssignmentRow.year,
            other.base == AssignmentRow.base,
        )
        .scalar_subquery()
    )
    where: list[ColumnElement[bool]] = [
        col(AssignmentRow.program) == program,
        col(AssignmentRow.expert) == expert,
        col(AssignmentRow.replaced_at).is_(None),
        col(AssignmentRow.round) == latest,
    ]
    if after is not None:
        year, base = after
        where.append(
            or_(
                col(AssignmentRow.year) < year,
                and_(col(AssignmentRow.year) == year, col(AssignmentRow.base) > base),
            )
        )
    decided = and_(
        col(DecisionRow.program) == col(AssignmentRow.program),
        col(DecisionRow.year) == col(AssignmentRow.year),
        col(DecisionRow.base) == col(AssignmentRow.base),
        col(DecisionRow.round) == col(AssignmentRow.round),
    )
    rows = session.exec(
        select(AssignmentRow, col(DecisionRow.round).is_not(None))
        .outerjoin(DecisionRow, decided)
        .where(*where)
        .order_by(col(AssignmentRow.year).desc(), col(AssignmentRow.base))
        .limit(limit + 1)
    )
    return [(row, bool(done)) for row, done in rows]


def current_assignments(
    session: Session, *, program: str, year: int, base: str
) -> tuple[int | None, list[AssignmentRow]]:
    """The latest round and its experts now (replaced ones left out)."""
    latest = latest_round(session, program=program, year=year, base=base)
    if latest is None:
        return None, []
    return latest, round_rows(session, program=program, year=year, base=base, round_=latest)


def record_decision(session: Session, *, record: DecisionRecord) -> None:
    """Keep a decision record once per round (the event's payload, whole, as JSON)."""
    key = (record.program, record.year, record.base, record.round)
    if session.get(DecisionRow, key) is None:
        session.add(
            DecisionRow(
                program=key[0],
                year=key[1],
                base=key[2],
                round=key[3],
                total=record.total,
                grade=record.grade.value,
                record=record.model_dump(mode="json"),
            )
        )
