"""The registry's use cases, one function each: plain functions of the database and a request
model that return the reply model or raise ``RpcError``. The handlers in ``app.py`` run them in a
thread; tests call them directly, with no broker."""

from __future__ import annotations

from sqlalchemy import Engine

from services.registry import calendars, outcomes, registration, store
from services.registry import status as base_status
from shared import paging
from shared.contracts.calendars import (
    ApplyCalendar,
    CalendarApplyResult,
    CalendarVersionPublic,
    GetCalendar,
)
from shared.contracts.cycle import BaseInfo
from shared.contracts.registry import (
    ApplyRules,
    BaseList,
    BasePublic,
    BasesPage,
    BaseStatusChange,
    BaseStatusResult,
    GetBase,
    GetProgram,
    ListBases,
    ListBasesRequest,
    PinnedRules,
    ProgramList,
    RegisterBase,
    Reinstate,
    Reinstated,
    RulesApplied,
)
from shared.db import session_scope
from shared.domain.holidays import HolidayTableError, parse_holiday_table
from shared.domain.rules import ProgramRules, RulesError, parse_rules
from shared.events.envelope import CloudEvent
from shared.events.payloads import OutcomeDecided
from shared.logging import get_logger
from shared.rpc import RpcError

log = get_logger("registry")


def current_rules(engine: Engine, req: GetProgram) -> PinnedRules:
    with session_scope(engine) as session:
        row = store.current_rules(session, program=req.program)
    if row is None:
        raise RpcError("program_not_found", f"no program {req.program!r}", 404)
    return PinnedRules(rules=ProgramRules.model_validate(row.document), version=row.version)


def programs(engine: Engine) -> ProgramList:
    with session_scope(engine) as session:
        rows = store.current_rules_all(session)
    return ProgramList(
        programs=[
            PinnedRules(rules=ProgramRules.model_validate(r.document), version=r.version)
            for r in rows
        ]
    )


def apply_rules(engine: Engine, req: ApplyRules) -> RulesApplied:
    try:
        rules = parse_rules(req.document)
    except RulesError as exc:
        raise RpcError("invalid_rules", str(exc), 422, errors=exc.errors) from None
    with session_scope(engine) as session:
        row, created = store.apply_rules(session, rules=rules)
    if created:
        log.info("rules.applied", program=rules.id, version=row.version, source="api")
    return RulesApplied(program=rules.id, version=row.version, created=created)


def get_base(engine: Engine, req: GetBase) -> BasePublic:
    with session_scope(engine) as session:
        row = store.get_base(session, program=req.program, base=req.base)
        if row is None:
            raise RpcError("base_not_found", f"no base {req.base!r} in {req.program!r}", 404)
        return store.to_public(row)


def register_base(engine: Engine, req: RegisterBase) -> BasePublic:
    with session_scope(engine) as session:
        public = registration.register_base(
            session, program=req.program, reg=req.registration, at=req.at
        )
    log.info("base.registered", program=req.program, base=public.id)
    return public


def active_bases(engine: Engine, req: ListBasesRequest) -> BasesPage:
    """One page of the bases not de-listed, in id order after ``req.cursor``."""
    limit = max(1, min(req.limit, 1000))
    with session_scope(engine) as session:
        rows = store.bases_page(
            session, program=req.program, after=req.cursor, limit=limit, exclude_status="delisted"
        )
        total = (
            store.count_bases(session, program=req.program, exclude_status="delisted")
            if req.count
            else None
        )
    bases = [
        BaseInfo(
            id=r.id, name=r.name, region=r.region, domain=r.domain, status=r.status, kind=r.kind
        )
        for r in rows
    ]
    # Never more JSON than the reply budget, however long the names.
    page, cut_short = paging.cut(bases, limit=limit, size_of=paging.model_size)
    more = cut_short or len(rows) == limit
    return BasesPage(bases=page, next_cursor=page[-1].id if page and more else None, total=total)


def list_bases(engine: Engine, req: ListBases) -> BaseList:
    """One page of the program's bases: ``req.limit`` at most, and never more JSON than
    :data:`~shared.paging.REPLY_BUDGET_BYTES`; ``next_cursor`` when more follow."""
    with session_scope(engine) as session:
        rows = store.list_bases(
            session,
            program=req.program,
            status=req.status,
            region=req.region,
            after=req.cursor,
            limit=req.limit + 1,  # one more tells that another page follows
        )
        public = [store.to_public(r).model_dump(mode="json") for r in rows]
    page, more = paging.cut(public, limit=req.limit, size_of=paging.json_size)
    return BaseList(bases=page, next_cursor=str(page[-1]["id"]) if more else None)


def change_status(engine: Engine, req: BaseStatusChange) -> BaseStatusResult:
    """A cycle's request, answered: a refused change is an answer, not a failure."""
    with session_scope(engine) as session:
        result = base_status.change_status(session, req)
    log.info(
        "base.status",
        program=req.program,
        base=req.base,
        year=req.year,
        asked=req.status,
        status=result.status,
        changed=result.changed,
        refused=result.refused,
    )
    return result


def reinstate(engine: Engine, req: Reinstate) -> Reinstated:
    with session_scope(engine) as session:
        done = base_status.reinstate(session, req)
    log.info("base.reinstated", program=req.program, base=req.base, by=req.by)
    return done


def apply_outcome(engine: Engine, event: CloudEvent, decision: OutcomeDecided) -> str | None:
    """An ``outcome.decided`` event acted on once: its effect, None for a repeated delivery."""
    with session_scope(engine) as session:
        effect = outcomes.apply_decision(session, event, decision)
    log.info(
        "outcome.applied",
        program=event.program,
        year=event.year,
        base=event.base,
        kind=decision.kind,
        event_id=event.id,
        effect=effect or "repeated",
    )
    return effect


def apply_calendar(engine: Engine, req: ApplyCalendar) -> CalendarApplyResult:
    """Merge a holiday table into the stored one: a new version only when a year changed."""
    try:
        table = parse_holiday_table(req.document)
    except HolidayTableError as exc:
        raise RpcError("invalid_calendar", str(exc), 422, errors=exc.errors) from None
    with session_scope(engine) as session:
        applied = calendars.apply_calendar(
            session, table=table, source=req.source, only_new_years=req.only_new_years
        )
    result = CalendarApplyResult(
        calendar=table.id,
        version=applied.row.version,
        created=applied.created,
        years=applied.years,
        digest=applied.row.digest,
    )
    if applied.created:
        log.info(
            "calendar.applied",
            calendar=table.id,
            version=result.version,
            years=result.years,
            source=req.source,
        )
    return result


def get_calendar(engine: Engine, req: GetCalendar) -> CalendarVersionPublic:
    with session_scope(engine) as session:
        row = calendars.current_calendar(session, calendar=req.calendar)
        if row is None:
            raise RpcError(
                "calendar_not_found", f"no holiday table {req.calendar!r} (没有该节假日表)", 404
            )
        return calendars.to_public(row)
