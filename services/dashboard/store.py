"""The dashboard's tables: applying events idempotently by event id, swapping in a rebuilt
projection, and the queries the page and the API read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table, bindparam, func, update
from sqlmodel import Session, col, delete, select

from services.dashboard.projection import CycleView, apply, city_of, timeline_detail
from services.dashboard.tables import Checkpoint, CycleRow, TimelineRow
from shared.consumer import Delivered
from shared.contracts.dashboard import (
    BaseTimeline,
    CycleList,
    CycleSummary,
    OverdueBase,
    TimelineItem,
    YearCounts,
    YearList,
    YearRef,
)
from shared.db import BulkStatement, session_scope
from shared.events.envelope import CloudEvent
from shared.events.subjects import PROGRAM_WIDE


def lock(session: Session, name: str) -> int:
    """Take the projection's write lock (a write to its checkpoint row) and return the
    checkpoint. The live consumer and a rebuild's swap both start here, so they never
    interleave: on PostgreSQL it is a row lock, on SQLite the database's write lock."""
    bumped = session.exec(  # type: ignore[call-overload]
        update(Checkpoint)
        .where(col(Checkpoint.name) == name)
        .values(stream_seq=Checkpoint.stream_seq)
    )
    if bumped.rowcount == 0:
        session.add(Checkpoint(name=name, stream_seq=0))
        session.flush()
        return 0
    mark = session.get(Checkpoint, name, populate_existing=True)
    return mark.stream_seq if mark else 0


def _timeline_row(event: CloudEvent, stream_seq: int) -> dict[str, Any]:
    document_id, detail = timeline_detail(event)
    return {
        "event_id": event.id,
        "program": event.program,
        "year": event.year,
        "base": event.base,
        "sequence": event.sequence,
        "type": event.type,
        "time": event.time,
        "stream_seq": stream_seq,
        "document_id": document_id,
        "detail": detail,
    }


def project(session: Session, batch: list[Delivered], checkpoint: str) -> list[Delivered]:
    """Apply a batch of events in stream order, in the session's one transaction; the events
    not applied before (the rest are redeliveries, skipped by event id)."""
    if not batch:
        return []
    seen = lock(session, checkpoint)
    top = max(d.stream_seq for d in batch)
    if top > seen:
        session.exec(  # type: ignore[call-overload]
            update(Checkpoint).where(col(Checkpoint.name) == checkpoint).values(stream_seq=top)
        )
    fresh = _not_applied(session, batch)
    if not fresh:
        return []
    # Core statements, each an executemany: the ORM's unit of work costs more than the SQL.
    _INSERT_TIMELINE.run(session, [_timeline_row(d.event, d.stream_seq) for d in fresh])
    keys = {_key(d.event) for d in fresh if d.event.base != PROGRAM_WIDE}
    known = _views(session, keys)
    views = dict(known)
    for d in fresh:
        if d.event.base != PROGRAM_WIDE:
            key = _key(d.event)
            views[key] = apply(views.get(key) or CycleView(*key), d.event)
    _UPDATE_CYCLE.run(session, [_pk_params(v) for k, v in views.items() if k in known])
    _INSERT_CYCLE.run(session, [vars(v).copy() for k, v in views.items() if k not in known])
    return fresh


_CYCLES: Table = CycleRow.__table__  # type: ignore[attr-defined]
_TIMELINE: Table = TimelineRow.__table__  # type: ignore[attr-defined]
_PK = ("program", "year", "base")
# One row by primary key; the keys are bound as ``pk_<column>``, the values by column name.
_UPDATE_CYCLE = BulkStatement(
    _CYCLES.update()
    .where(*(_CYCLES.c[k] == bindparam(f"pk_{k}") for k in _PK))
    .values({c.name: bindparam(c.name) for c in _CYCLES.columns if c.name not in _PK})
)
_INSERT_CYCLE = BulkStatement(_CYCLES.insert())
_INSERT_TIMELINE = BulkStatement(_TIMELINE.insert())


def _pk_params(view: CycleView) -> dict[str, Any]:
    params = vars(view).copy()
    for k in _PK:
        params[f"pk_{k}"] = params.pop(k)
    return params


def _key(event: CloudEvent) -> tuple[str, int, str]:
    return (event.program, event.year, event.base)


def _not_applied(session: Session, batch: list[Delivered]) -> list[Delivered]:
    ids = list({d.event.id for d in batch})
    applied = set(
        session.exec(select(TimelineRow.event_id).where(col(TimelineRow.event_id).in_(ids)))
    )
    fresh: list[Delivered] = []
    for d in batch:
        if d.event.id not in applied:
            applied.add(d.event.id)  # the same event twice in one batch: once
            fresh.append(d)
    return fresh


def _views(
    session: Session, keys: set[tuple[str, int, str]]
) -> dict[tuple[str, int, str], CycleView]:
    """The stored views of these cycles, read a program year at a time."""
    by_year: dict[tuple[str, int], list[str]] = defaultdict(list)
    for program, year, base in keys:
        by_year[(program, year)].append(base)
    views: dict[tuple[str, int, str], CycleView] = {}
    for (program, year), bases in by_year.items():
        rows = session.execute(
            _CYCLES.select().where(
                _CYCLES.c.program == program,
                _CYCLES.c.year == year,
                _CYCLES.c.base.in_(bases),
            )
        )
        for row in rows.mappings():
            view = CycleView(**row)
            views[(view.program, view.year, view.base)] = view
    return views


@dataclass
class Aside:
    """Projections built in memory from the log, to be swapped in at once."""

    cycles: dict[tuple[str, int, str], CycleView] = field(default_factory=dict)
    timeline: dict[str, dict[str, Any]] = field(default_factory=dict)
    stream_seq: int = 0

    def add(self, event: CloudEvent, stream_seq: int) -> None:
        self.stream_seq = max(self.stream_seq, stream_seq)
        if event.id in self.timeline:
            return
        self.timeline[event.id] = _timeline_row(event, stream_seq)
        if event.base != PROGRAM_WIDE:
            key = (event.program, event.year, event.base)
            view = self.cycles.get(key) or CycleView(*key)
            self.cycles[key] = apply(view, event)


def swap(session: Session, aside: Aside, checkpoint: str) -> None:
    """Replace every projection with ``aside``; call with the lock held."""
    for table in (CycleRow, TimelineRow):
        session.exec(delete(table))  # type: ignore[call-overload]
    rows = list(aside.timeline.values())
    for start in range(0, len(rows), 5000):
        _INSERT_TIMELINE.run(session, rows[start : start + 5000])
    views = [vars(v).copy() for v in aside.cycles.values()]
    for start in range(0, len(views), 5000):
        _INSERT_CYCLE.run(session, views[start : start + 5000])
    session.exec(  # type: ignore[call-overload]
        update(Checkpoint)
        .where(col(Checkpoint.name) == checkpoint)
        .values(stream_seq=aside.stream_seq)
    )


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


def year_counts(session: Session, program: str, year: int, checkpoint: str) -> YearCounts:
    of_year = (col(CycleRow.program) == program, col(CycleRow.year) == year)
    by_stage = {
        stage: n
        for stage, n in session.exec(
            select(CycleRow.stage, func.count()).where(*of_year).group_by(CycleRow.stage)
        )
    }
    by_grade = {
        grade: n
        for grade, n in session.exec(
            select(CycleRow.grade, func.count())
            .where(*of_year, col(CycleRow.grade).is_not(None))
            .group_by(CycleRow.grade)
        )
        if grade
    }
    overdue: dict[str, list[OverdueBase]] = defaultdict(list)
    late = session.exec(
        select(CycleRow).where(*of_year, col(CycleRow.overdue) > 0).order_by(col(CycleRow.base))
    )
    for row in late:
        overdue[city_of(row.region)].append(
            OverdueBase(base=row.base, region=row.region, stage=row.stage, overdue=row.overdue)
        )
    mark = session.get(Checkpoint, checkpoint)
    return YearCounts(
        program=program,
        year=year,
        bases=sum(by_stage.values()),
        by_stage=by_stage,
        by_grade=by_grade,
        overdue_by_city=dict(sorted(overdue.items())),
        stream_seq=mark.stream_seq if mark else 0,
    )


def base_timeline(session: Session, program: str, year: int, base: str) -> BaseTimeline:
    row = session.get(CycleRow, (program, year, base))
    events = session.exec(
        select(TimelineRow)
        .where(
            col(TimelineRow.program) == program,
            col(TimelineRow.year) == year,
            col(TimelineRow.base) == base,
        )
        .order_by(col(TimelineRow.stream_seq))
    )
    return BaseTimeline(
        program=program,
        year=year,
        base=base,
        cycle=None if row is None else _summary(row),
        events=[
            TimelineItem(
                time=e.time,
                sequence=e.sequence,
                type=e.type,
                document_id=e.document_id,
                detail=e.detail,
                stream_seq=e.stream_seq,
            )
            for e in events
        ],
    )


def year_cycles(session: Session, program: str, year: int) -> CycleList:
    rows = session.exec(
        select(CycleRow)
        .where(col(CycleRow.program) == program, col(CycleRow.year) == year)
        .order_by(col(CycleRow.base))
    )
    return CycleList(program=program, year=year, cycles=[_summary(r) for r in rows])


def _summary(row: CycleRow) -> CycleSummary:
    return CycleSummary(
        base=row.base,
        region=row.region,
        stage=row.stage,
        grade=row.grade,
        total=row.total,
        overdue=row.overdue,
    )


def years(session: Session) -> YearList:
    rows = session.exec(
        select(CycleRow.program, CycleRow.year, func.count())
        .group_by(col(CycleRow.program), col(CycleRow.year))
        .order_by(col(CycleRow.year).desc(), col(CycleRow.program))
    )
    return YearList(years=[YearRef(program=p, year=y, bases=n) for p, y, n in rows])
