"""The dashboard's questions, one function each: plain functions of the database and a request
model that return the reply model. The handlers in ``app.py`` run them in a thread, so a query
waiting for the projection lock (held while a rebuild swaps) never stalls the event consumer or
the health checks; tests call them directly, with no broker.

None refuses: a program year nobody has projected is an empty answer, not an error. Who may see
what (grade counts before the 公示, one base's timeline) is the gateway's need-to-know rule.
"""

from __future__ import annotations

from sqlalchemy import Engine

from services.dashboard import store
from services.dashboard.rebuild import CHECKPOINT
from shared.contracts.dashboard import (
    BaseQuery,
    BaseTimeline,
    CitiesQuery,
    CityCounts,
    CycleList,
    CyclesQuery,
    ObjectionsList,
    ObjectionsQuery,
    OverdueList,
    OverdueQuery,
    YearCounts,
    YearList,
    YearQuery,
    YearsQuery,
)
from shared.db import session_scope


def years(engine: Engine, req: YearsQuery | None = None) -> YearList:
    """A page of the program years projected, newest first, with their numbers of bases."""
    req = req or YearsQuery()
    with session_scope(engine) as session:
        return store.years(session, program=req.program, after=req.cursor, limit=req.limit)


def counts(engine: Engine, req: YearQuery) -> YearCounts:
    """A year's bases by stage and by grade, how many are overdue (the list is
    :func:`overdue`, paged), its 公示, and the stream position the projection has reached."""
    with session_scope(engine) as session:
        return store.year_counts(session, req.program, req.year, CHECKPOINT)


def cycles(engine: Engine, req: CyclesQuery) -> CycleList:
    with session_scope(engine) as session:
        return store.year_cycles(
            session,
            req.program,
            req.year,
            after=req.cursor,
            limit=req.limit,
            stage=req.stage,
            region_prefix=req.region_prefix,
            order=req.order,
            count=req.count,
            base=req.base,
        )


def cities(engine: Engine, req: CitiesQuery) -> CityCounts:
    """How many of the year's cycles (in a stage, within a region) each city has."""
    with session_scope(engine) as session:
        return store.year_cities(
            session,
            req.program,
            req.year,
            stage=req.stage,
            region_prefix=req.region_prefix,
            after=req.cursor,
            limit=req.limit,
        )


def overdue(engine: Engine, req: OverdueQuery) -> OverdueList:
    with session_scope(engine) as session:
        return store.year_overdue(session, req.program, req.year, after=req.cursor, limit=req.limit)


def objections(engine: Engine, req: ObjectionsQuery) -> ObjectionsList:
    with session_scope(engine) as session:
        return store.year_objections(
            session, req.program, req.year, after=req.cursor, limit=req.limit
        )


def timeline(engine: Engine, req: BaseQuery) -> BaseTimeline:
    with session_scope(engine) as session:
        after = int(req.cursor) if req.cursor else None
        return store.base_timeline(
            session, req.program, req.year, req.base, after=after, limit=req.limit
        )
