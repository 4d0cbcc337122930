"""The dashboard's tables: applying events idempotently by event id, swapping in a rebuilt
projection, and the queries the page and the API read."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, Table, func, literal, tuple_, update
from sqlmodel import Session, SQLModel, col, delete, select

from services.dashboard import answers
from services.dashboard.projection import (
    CycleView,
    ObjectionView,
    Touched,
    YearView,
    apply,
    apply_objection,
    apply_year,
    city_of,
    new_objection,
    timeline_detail,
    touched,
)
from services.dashboard.tables import Checkpoint, CycleRow, ObjectionRow, TimelineRow, YearRow
from shared import paging
from shared.bulk import insert_rows, update_rows
from shared.consumer import Delivered
from shared.contracts.dashboard import (
    SINCE_CURSOR,
    BaseTimeline,
    CityCount,
    CityCounts,
    CycleList,
    ObjectionsList,
    OverdueBase,
    OverdueList,
    TimelineItem,
    YearCounts,
    YearList,
    YearRef,
)
from shared.db import session_scope
from shared.domain.regions import city_of_prefix, prefix_range
from shared.events.envelope import CloudEvent
from shared.paging import MAX_PAGE
from shared.rpc import unknown_cursor


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
    # Core writes, a table at a time: the ORM's unit of work costs more than the SQL.
    insert_rows(session, _TIMELINE, [_timeline_row(d.event, d.stream_seq) for d in fresh])
    touches = [touched(d.event) for d in fresh]
    fold = Fold(
        cycles=CYCLES.load(session, {k for t in touches for k in t.cycles}),
        years=YEARS.load(session, {t.year for t in touches if t.year}),
        objections=OBJECTIONS.load(session, {(t.objection,) for t in touches if t.objection}),
    )
    stored = (set(fold.cycles), set(fold.years), set(fold.objections))
    for d, t in zip(fresh, touches, strict=True):
        fold.add(d.event, t)
    CYCLES.write(session, fold.cycles, stored[0])
    YEARS.write(session, fold.years, stored[1])
    OBJECTIONS.write(session, fold.objections, stored[2])
    return fresh


V = TypeVar("V", CycleView, YearView, ObjectionView)


@dataclass(frozen=True)
class _Kind(Generic[V]):
    """One projection table: its views' rows, loaded and written a batch at a time."""

    model: type[SQLModel]
    view: type[V]
    pk: tuple[str, ...]
    json_fields: tuple[str, ...] = ()
    by: tuple[str, ...] = ()  # load a group of keys sharing these columns with one IN query

    @property
    def table(self) -> Table:
        return self.model.__table__  # type: ignore[attr-defined,no-any-return]

    def row(self, view: V) -> dict[str, Any]:
        row = vars(view).copy()
        for name in self.json_fields:
            row[name] = json.dumps(row[name], ensure_ascii=False, sort_keys=True)
        return row

    def view_of(self, row: Any) -> V:
        values = dict(row)
        for name in self.json_fields:
            values[name] = json.loads(values[name])
        return self.view(**values)

    def key(self, view: V) -> tuple[Any, ...]:
        return tuple(getattr(view, k) for k in self.pk)

    def load(self, session: Session, keys: set[tuple[Any, ...]]) -> dict[tuple[Any, ...], V]:
        """The stored views of these keys, read a group (e.g. a program year) at a time."""
        groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        n = len(self.by)
        for key in keys:
            groups[key[:n]].append(key[n])
        found: dict[tuple[Any, ...], V] = {}
        c = self.table.c
        for group, last in groups.items():
            where = [c[k] == v for k, v in zip(self.by, group, strict=True)]
            rows = session.execute(self.table.select().where(*where, c[self.pk[n]].in_(last)))
            for row in rows.mappings():
                view = self.view_of(row)
                found[self.key(view)] = view
        return found

    def write(
        self, session: Session, views: dict[tuple[Any, ...], V], stored: set[tuple[Any, ...]]
    ) -> None:
        updates = [_pk_params(self, v) for k, v in views.items() if k in stored]
        update_rows(session, self.table, self.pk, updates)
        insert_rows(session, self.table, [self.row(v) for k, v in views.items() if k not in stored])

    def insert_all(self, session: Session, views: list[V]) -> None:
        rows = [self.row(v) for v in views]
        for start in range(0, len(rows), 5000):
            insert_rows(session, self.table, rows[start : start + 5000])


CYCLES = _Kind(
    CycleRow, CycleView, ("program", "year", "base"), ("deadlines",), ("program", "year")
)
YEARS = _Kind(YearRow, YearView, ("program", "year"), ("counts", "corrected"), ("program",))
OBJECTIONS = _Kind(ObjectionRow, ObjectionView, ("objection_id",))


def _pk_params(kind: _Kind[V], view: V) -> dict[str, Any]:
    """A view's row for ``update_rows``: the primary key's values as ``pk_<column>``."""
    params = kind.row(view)
    for k in kind.pk:
        params[f"pk_{k}"] = params.pop(k)
    return params


_TIMELINE: Table = TimelineRow.__table__  # type: ignore[attr-defined]


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


@dataclass
class Fold:
    """Views being moved by events: a batch's (live) or the whole log's (a rebuild)."""

    cycles: dict[tuple[Any, ...], CycleView] = field(default_factory=dict)
    years: dict[tuple[Any, ...], YearView] = field(default_factory=dict)
    objections: dict[tuple[Any, ...], ObjectionView] = field(default_factory=dict)

    def add(self, event: CloudEvent, touches: Touched | None = None) -> None:
        t = touches or touched(event)
        for key in t.cycles:
            view = self.cycles.get(key) or CycleView(*key)
            self.cycles[key] = apply(view, event)
        if t.year is not None:
            year = self.years.get(t.year) or YearView(*t.year)
            self.years[t.year] = apply_year(year, event)
        if t.objection is not None:
            one = (t.objection,)
            objection = self.objections.get(one) or new_objection(event)
            self.objections[one] = apply_objection(objection, event)


@dataclass
class Aside:
    """Projections built in memory from the log, to be swapped in at once."""

    fold: Fold = field(default_factory=Fold)
    timeline: dict[str, dict[str, Any]] = field(default_factory=dict)
    stream_seq: int = 0

    @property
    def cycles(self) -> dict[tuple[Any, ...], CycleView]:
        return self.fold.cycles

    def add(self, event: CloudEvent, stream_seq: int) -> None:
        self.stream_seq = max(self.stream_seq, stream_seq)
        if event.id in self.timeline:
            return
        self.timeline[event.id] = _timeline_row(event, stream_seq)
        self.fold.add(event)


def swap(session: Session, aside: Aside, checkpoint: str) -> None:
    """Replace every projection with ``aside``; call with the lock held."""
    for table in (CycleRow, YearRow, ObjectionRow, TimelineRow):
        session.exec(delete(table))  # type: ignore[call-overload]
    rows = list(aside.timeline.values())
    for start in range(0, len(rows), 5000):
        insert_rows(session, _TIMELINE, rows[start : start + 5000])
    CYCLES.insert_all(session, list(aside.fold.cycles.values()))
    YEARS.insert_all(session, list(aside.fold.years.values()))
    OBJECTIONS.insert_all(session, list(aside.fold.objections.values()))
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
        for table in (CycleRow, YearRow, ObjectionRow, TimelineRow, Checkpoint):
            session.exec(delete(table))  # type: ignore[call-overload]


def cycles(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(CycleRow).order_by(col(CycleRow.program), col(CycleRow.year), col(CycleRow.base))
        )
        return [r.model_dump() for r in rows]


def program_years(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.exec(select(YearRow).order_by(col(YearRow.program), col(YearRow.year)))
        return [r.model_dump() for r in rows]


def objections(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.exec(select(ObjectionRow).order_by(col(ObjectionRow.objection_id)))
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
    published = session.get(YearRow, (program, year))
    if published is not None and published.notice and not published.inline:
        # Above 200 bases the notice's entries are not on the event: its counts are.
        by_grade = {g: n for g, n in json.loads(published.counts).items() if n}
    overdue = session.exec(
        select(func.count()).select_from(CycleRow).where(*of_year, col(CycleRow.overdue) > 0)
    ).one()
    by_status = session.exec(
        select(ObjectionRow.status, func.count())
        .where(col(ObjectionRow.program) == program, col(ObjectionRow.year) == year)
        .group_by(ObjectionRow.status)
    )
    mark = session.get(Checkpoint, checkpoint)
    return YearCounts(
        program=program,
        year=year,
        bases=sum(by_stage.values()),
        by_stage=by_stage,
        by_grade=by_grade,
        overdue=overdue,
        stream_seq=mark.stream_seq if mark else 0,
        publication=None if published is None else answers.publication(published),
        objections=dict(sorted(by_status)),
    )


def year_overdue(
    session: Session, program: str, year: int, *, after: str | None = None, limit: int = MAX_PAGE
) -> OverdueList:
    """A page of the year's bases that missed a deadline, in base order after ``after``:
    ``limit`` at most and never more JSON than the reply budget; ``next_cursor`` when more
    follow."""
    where = [
        col(CycleRow.program) == program,
        col(CycleRow.year) == year,
        col(CycleRow.overdue) > 0,
    ]
    if after:
        where.append(col(CycleRow.base) > after)
    rows = session.exec(
        select(CycleRow).where(*where).order_by(col(CycleRow.base)).limit(limit + 1)
    )
    items = [
        OverdueBase(
            base=r.base, region=r.region, city=city_of(r.region), stage=r.stage, overdue=r.overdue
        )
        for r in rows
    ]
    page, more = paging.cut(items, limit=limit, size_of=paging.model_size)
    return OverdueList(
        program=program, year=year, bases=page, next_cursor=page[-1].base if more else None
    )


def _objection_order() -> tuple[Any, Any, Any]:
    """The order objections are listed in: by base, then as received (none first), then id."""
    return (
        col(ObjectionRow.base),
        func.coalesce(col(ObjectionRow.received_at), ""),
        col(ObjectionRow.objection_id),
    )


def _objections_of(
    session: Session,
    program: str,
    year: int,
    base: str | None = None,
    *,
    bases: list[str] | None = None,
) -> list[ObjectionRow]:
    """The year's objections (one base's; or those of ``bases``)."""
    where = [col(ObjectionRow.program) == program, col(ObjectionRow.year) == year]
    if base is not None:
        where.append(col(ObjectionRow.base) == base)
    if bases is not None:
        where.append(col(ObjectionRow.base).in_(bases))
    rows = session.exec(select(ObjectionRow).where(*where).order_by(*_objection_order()))
    return list(rows)


def year_objections(
    session: Session, program: str, year: int, *, after: str | None = None, limit: int = MAX_PAGE
) -> ObjectionsList:
    """A page of the year's objections after the one ``after`` names: ``limit`` at most and
    never more JSON than the reply budget; ``next_cursor`` when more follow."""
    where = [col(ObjectionRow.program) == program, col(ObjectionRow.year) == year]
    if after:
        last = session.get(ObjectionRow, after)
        if last is None or (last.program, last.year) != (program, year):
            raise unknown_cursor(after)
        where.append(
            tuple_(*_objection_order())
            > tuple_(
                literal(last.base), literal(last.received_at or ""), literal(last.objection_id)
            )
        )
    rows = session.exec(
        select(ObjectionRow).where(*where).order_by(*_objection_order()).limit(limit + 1)
    )
    items = [answers.objection(o) for o in rows]
    page, more = paging.cut(items, limit=limit, size_of=paging.model_size)
    return ObjectionsList(
        program=program,
        year=year,
        objections=page,
        next_cursor=page[-1].objection_id if more else None,
    )


def base_timeline(
    session: Session,
    program: str,
    year: int,
    base: str,
    *,
    after: int | None = None,
    limit: int = MAX_PAGE,
) -> BaseTimeline:
    """The base's cycle and a page of its events in stream order after ``after``: ``limit`` at
    most and never more JSON than the reply budget; ``next_cursor`` when more follow."""
    row = session.get(CycleRow, (program, year, base))
    where = [
        col(TimelineRow.program) == program,
        col(TimelineRow.year) == year,
        col(TimelineRow.base) == base,
    ]
    if after is not None:
        where.append(col(TimelineRow.stream_seq) > after)
    events = session.exec(
        select(TimelineRow).where(*where).order_by(col(TimelineRow.stream_seq)).limit(limit + 1)
    )
    items = [
        TimelineItem(
            time=e.time,
            sequence=e.sequence,
            type=e.type,
            document_id=e.document_id,
            detail=e.detail,
            stream_seq=e.stream_seq,
        )
        for e in events
    ]
    page, more = paging.cut(items, limit=limit, size_of=paging.model_size)
    mine = _objections_of(session, program, year, base)
    return BaseTimeline(
        program=program,
        year=year,
        base=base,
        cycle=None if row is None else answers.summary(row, mine),
        events=page,
        next_cursor=str(page[-1].stream_seq) if more else None,
    )


def _cycles_where(
    program: str, year: int, stage: str | None, region_prefix: str | None, base: str | None = None
) -> list[Any]:
    """The year's cycles (in ``stage``; within ``region_prefix``: a range of the index; of
    ``base``: its key)."""
    where = [col(CycleRow.program) == program, col(CycleRow.year) == year]
    if base is not None:
        where.append(col(CycleRow.base) == base)
    if stage:
        where.append(col(CycleRow.stage) == stage)
    if region_prefix:
        where.append(col(CycleRow.region).between(*prefix_range(region_prefix)))
    return where


def _since_cursor(cursor: str) -> tuple[str, str]:
    """A ``stage_since`` order cursor's last stage_since and base."""
    if not re.fullmatch(SINCE_CURSOR, cursor):
        raise unknown_cursor(cursor)
    since, _, base = cursor.rpartition("/")
    return since, base


def year_cycles(
    session: Session,
    program: str,
    year: int,
    *,
    after: str | None = None,
    limit: int = MAX_PAGE,
    stage: str | None = None,
    region_prefix: str | None = None,
    order: str = "base",
    count: bool = False,
    base: str | None = None,
) -> CycleList:
    """A page of the year's cycles (those in ``stage``, within ``region_prefix`` and of
    ``base``, if given) after ``after``, in base order or by when each entered its stage
    (``order="stage_since"``, then base): ``limit`` at most and never more JSON than the reply
    budget; ``next_cursor`` when more follow; ``total`` (a count of every page's) when
    ``count``."""
    where = _cycles_where(program, year, stage, region_prefix, base)
    total = (
        session.exec(select(func.count()).select_from(CycleRow).where(*where)).one()
        if count
        else None
    )
    keys: tuple[Any, ...] = (col(CycleRow.base),)
    if order == "stage_since":
        keys = (col(CycleRow.stage_since), col(CycleRow.base))
        if after:
            since, base = _since_cursor(after)
            where.append(tuple_(*keys) > tuple_(literal(since), literal(base)))
    elif after:
        where.append(col(CycleRow.base) > after)
    rows = list(session.exec(select(CycleRow).where(*where).order_by(*keys).limit(limit + 1)))
    by_base: dict[str, list[ObjectionRow]] = defaultdict(list)
    if rows:
        for o in _objections_of(session, program, year, bases=[r.base for r in rows]):
            by_base[o.base].append(o)
    summaries = [answers.summary(r, by_base[r.base]) for r in rows]
    page, more = paging.cut(summaries, limit=limit, size_of=paging.model_size)
    cursor = None
    if more:
        last = rows[len(page) - 1]
        cursor = f"{last.stage_since}/{last.base}" if order == "stage_since" else last.base
    return CycleList(program=program, year=year, cycles=page, next_cursor=cursor, total=total)


def year_cities(
    session: Session,
    program: str,
    year: int,
    *,
    stage: str | None = None,
    region_prefix: str | None = None,
    after: str | None = None,
    limit: int = MAX_PAGE,
) -> CityCounts:
    """A page of the year's cycles (in ``stage``, within ``region_prefix``) counted by city, in
    city order after ``after``: a county's cycles count for its city (``city_prefix``)."""
    head = func.substr(col(CycleRow.region), 1, 4)
    where = _cycles_where(program, year, stage, region_prefix)
    if after:
        where.append(head > after[:4])
    rows = session.exec(
        select(head, func.count()).where(*where).group_by(head).order_by(head).limit(limit + 1)
    )
    found = [CityCount(city=city_of_prefix(h), cycles=n) for h, n in rows]
    page, more = paging.cut(found, limit=limit, size_of=paging.model_size)
    return CityCounts(
        program=program, year=year, cities=page, next_cursor=page[-1].city if more else None
    )


def years(
    session: Session,
    *,
    program: str | None = None,
    after: str | None = None,
    limit: int = MAX_PAGE,
) -> YearList:
    """A page of the program years projected (one program's, if given), newest first then by
    program, after ``after`` (``year/program``), each with its number of bases;
    ``next_cursor`` when more follow."""
    query = select(CycleRow.program, CycleRow.year, func.count())
    if program is not None:
        query = query.where(col(CycleRow.program) == program)
    if after:
        last_year, last_program = after.split("/", 1)
        query = query.where(
            (col(CycleRow.year) < int(last_year))
            | ((col(CycleRow.year) == int(last_year)) & (col(CycleRow.program) > last_program))
        )
    rows = session.exec(
        query.group_by(col(CycleRow.program), col(CycleRow.year))
        .order_by(col(CycleRow.year).desc(), col(CycleRow.program))
        .limit(limit + 1)
    )
    found = [YearRef(program=p, year=y, bases=n) for p, y, n in rows]
    page, more = paging.cut(found, limit=limit, size_of=paging.model_size)
    return YearList(years=page, next_cursor=f"{page[-1].year}/{page[-1].program}" if more else None)
