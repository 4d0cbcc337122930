"""Applying events to the projections, idempotently by event id, with a checkpoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from services.dashboard.projection import CycleView, apply
from services.dashboard.tables import Checkpoint, CycleRow, TimelineRow
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.events.subjects import PROGRAM_WIDE


def project(session: Session, event: CloudEvent, stream_seq: int, checkpoint: str) -> bool:
    """Apply one event; ``False`` when it was applied before (a redelivery)."""
    mark = session.get(Checkpoint, checkpoint) or Checkpoint(name=checkpoint)
    mark.stream_seq = max(mark.stream_seq, stream_seq)
    session.add(mark)
    if session.get(TimelineRow, event.id) is not None:
        return False
    session.add(
        TimelineRow(
            event_id=event.id,
            program=event.program,
            year=event.year,
            base=event.base,
            sequence=event.sequence,
            type=event.type,
            time=event.time,
            stream_seq=stream_seq,
        )
    )
    if event.base != PROGRAM_WIDE:
        row = session.get(CycleRow, (event.program, event.year, event.base))
        view = CycleView(event.program, event.year, event.base, stage="plan_filing")
        if row is not None:
            view = CycleView(**{k: getattr(row, k) for k in CycleView.__dataclass_fields__})
        view = apply(view, event)
        session.merge(CycleRow(**view.__dict__))
    return True


def checkpoint(engine: Engine, name: str) -> int:
    with session_scope(engine) as session:
        mark = session.get(Checkpoint, name)
        return mark.stream_seq if mark else 0


def clear(engine: Engine) -> None:
    with session_scope(engine) as session:
        for table in (CycleRow, TimelineRow, Checkpoint):
            session.exec(delete(table))  # type: ignore[call-overload]


def cycles(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(CycleRow).order_by(col(CycleRow.program), col(CycleRow.year), col(CycleRow.base))
        )
        return [r.model_dump() for r in rows]


def timeline(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.exec(select(TimelineRow).order_by(col(TimelineRow.event_id)))
        return [r.model_dump() for r in rows]
