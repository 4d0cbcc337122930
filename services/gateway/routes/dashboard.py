"""The dashboard's API: the projections' counts, cycles and timelines, and a live stream of
counts over server-sent events as the projections change."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.gateway import need_to_know
from services.gateway.access import Target, row_region_prefix, row_scope
from services.gateway.auth import UserDep, require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.problem_docs import authenticated
from services.gateway.problems import ApiError
from services.gateway.published import load_notice
from services.gateway.routes.params import ID, Base, Program, Year, cursor_param, page_size
from services.gateway.stream_slots import RECHECK_S, Slot, stream_slots, token_refusal
from services.gateway.year_view import overdue_page
from shared.bases_listing import all_bases
from shared.contracts.dashboard import (
    BaseQuery,
    BaseTimeline,
    CycleList,
    CyclesQuery,
    CycleSummary,
    ObjectionsList,
    ObjectionsQuery,
    OverdueList,
    ProjectionUpdated,
    YearCounts,
    YearList,
    YearQuery,
    YearsQuery,
    updated_subject,
)
from shared.contracts.results import OUTCOME_EN, OUTCOME_ZH
from shared.paging import MAX_PAGE

router = APIRouter(tags=["dashboard"])
YEAR = "/v1/programs/{program}/years/{year}"
COALESCE_S = 0.25  # a burst of events becomes one update of the counts


async def _counts(deps: Deps, program: str, year: int) -> YearCounts:
    return await rpc(
        deps.rpc.call("dashboard", "counts", YearQuery(program=program, year=year), YearCounts)
    )


@router.get("/v1/dashboard/years", responses=authenticated())
async def dashboard_years(
    deps: DepsDep,
    user: UserDep,
    cursor: str | None = cursor_param(r"^\d{4}/[A-Za-z0-9_-]{1,64}$"),
    limit: int = page_size("years", "年度"),
) -> YearList:
    """A page of the program years the dashboard knows (newest first; ``next_cursor`` when
    more follow), those this user may read."""
    ask = YearsQuery(program=user.program, cursor=cursor, limit=limit)
    listed = await rpc(deps.rpc.call("dashboard", "years", ask, YearList))
    readable = {p: await _may_read(deps, user, p) for p in {y.program for y in listed.years}}
    listed.years = [y for y in listed.years if readable[y.program]]
    return listed


async def _may_read(deps: Deps, user: Principal, program: str) -> bool:
    try:
        await require(deps, user, "read_program", program=program)
    except ApiError as exc:
        if exc.status in (403, 404):
            return False
        raise
    return True


@router.get(f"{YEAR}/dashboard", responses=authenticated())
async def dashboard_counts(
    program: Program, year: Year, deps: DepsDep, user: UserDep
) -> YearCounts:
    """Counts by stage and grade, and how many bases are overdue (the list:
    ``.../dashboard/overdue``), from the event-log projections."""
    await require(deps, user, "read_program", program=program)
    return need_to_know.counts(user, await _counts(deps, program, year))


@router.get(f"{YEAR}/dashboard/cycles", responses=authenticated())
async def dashboard_cycles(
    program: Program,
    year: Year,
    deps: DepsDep,
    user: UserDep,
    cursor: str | None = Query(
        None, max_length=64, description="the next_cursor of the page before / 上一页的 next_cursor"
    ),
    limit: int = Query(MAX_PAGE, ge=1, le=MAX_PAGE, description="cycles per page / 每页周期数"),
) -> CycleList:
    """A page of the year's bases (in base order; ``next_cursor`` when more follow): each
    base's stage, deadlines and objections, with the grade, outcome and reason the latest 公示
    notice (original or supplementary) gives it. Only the bases the caller may see, and a grade
    before publication only to the province and the base's city. A reader who sees bases by
    region (the province, a city) gets full pages of its region and ``total``, how many it sees
    in all; a base's staff, their own base's row alone; a reader who sees no base's row, an
    empty page."""
    await require(deps, user, "read_program", program=program)
    target = Target(program=program)
    seen = row_region_prefix(user, target)
    own = user.base if row_scope(user, target) == "own" else None
    if seen is None and own is None:
        return CycleList(program=program, year=year, cycles=[], total=0)
    ask = CyclesQuery(
        program=program,
        year=year,
        cursor=cursor,
        limit=limit,
        region_prefix=seen or None,
        base=own,
        count=True,
    )
    listed = await rpc(deps.rpc.call("dashboard", "cycles", ask, CycleList))
    listed.cycles = need_to_know.cycle_rows(
        user, program, await _as_published(deps, program, year, listed.cycles)
    )
    return listed


@router.get(f"{YEAR}/dashboard/overdue", responses=authenticated())
async def dashboard_overdue(
    program: Program,
    year: Year,
    deps: DepsDep,
    user: UserDep,
    cursor: str | None = cursor_param(ID),
    limit: int = page_size("overdue bases", "逾期基地"),
) -> OverdueList:
    """逾期基地 — a page of the year's bases that missed a deadline (in base order, each with
    its city; ``next_cursor`` when more follow), those the caller may see."""
    await require(deps, user, "read_program", program=program)
    return await overdue_page(deps, user, program, year, cursor=cursor, limit=limit)


@router.get(f"{YEAR}/dashboard/objections", responses=authenticated())
async def dashboard_objections(
    program: Program,
    year: Year,
    deps: DepsDep,
    user: UserDep,
    cursor: str | None = cursor_param(ID),
    limit: int = page_size("objections", "异议"),
) -> ObjectionsList:
    """异议及处理结果 — a page of the year's objections and their outcomes (in base order;
    ``next_cursor`` when more follow), as the 公示 shows them (no objector's name or contact).
    A cursor this list never gave is 422 ``unknown_cursor``."""
    await require(deps, user, "read_program", program=program)
    ask = ObjectionsQuery(program=program, year=year, cursor=cursor, limit=limit)
    return await rpc(deps.rpc.call("dashboard", "objections", ask, ObjectionsList))


async def _as_published(
    deps: Deps, program: str, year: int, cycles: list[CycleSummary]
) -> list[CycleSummary]:
    """Above 200 bases a notice's entries are not on its event, so the projection cannot know
    them: read them from the stored notice, as the results page does."""
    counts = await _counts(deps, program, year)
    if counts.publication is None or counts.publication.entries_inline:
        return cycles
    try:
        notice = await load_notice(deps, program, year, None)
    except ApiError as exc:
        if exc.status == 404:
            return cycles  # not stored yet: the projection's values stand
        raise
    entries = {e.base: e for e in notice.entries}
    shown = []
    for cycle in cycles:
        entry = entries.get(cycle.base)
        if entry is None:
            shown.append(cycle)
            continue
        shown.append(
            cycle.model_copy(
                update={
                    "notice": notice.number,
                    "grade": entry.grade,
                    "total": entry.total,
                    "outcome": entry.outcome,
                    "outcome_zh": OUTCOME_ZH[entry.outcome],
                    "outcome_en": OUTCOME_EN[entry.outcome],
                    "reason_zh": entry.reason_zh,
                    "reason_en": entry.reason_en,
                    "rank_reason_zh": entry.rank_reason_zh,
                    "rank_reason_en": entry.rank_reason_en,
                    "corrected": entry.corrected,
                }
            )
        )
    return shown


@router.get(f"{YEAR}/bases/{{base}}/timeline", responses=authenticated())
async def base_timeline(
    program: Program,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: UserDep,
    cursor: str | None = cursor_param(r"^\d{1,18}$"),
    limit: int = page_size("events", "事件"),
) -> BaseTimeline:
    """One base's events and documents in that year, in the order they happened, a page at a
    time (``next_cursor`` when more follow); every page carries the base's cycle."""
    await require(deps, user, "read_cycle", program=program, base=base, year=year)
    ask = BaseQuery(program=program, year=year, base=base, cursor=cursor, limit=limit)
    line = await rpc(deps.rpc.call("dashboard", "timeline", ask, BaseTimeline))
    if line.cycle is not None:
        [line.cycle] = await _as_published(deps, program, year, [line.cycle])
    return need_to_know.timeline(user, program, line)


async def _regions(deps: Deps, user: Principal, program: str) -> dict[str, str]:
    """Each base's region, for a caller who sees a region's rows (the stream's events name only
    the base)."""
    if row_scope(user, Target(program=program)) != "region":
        return {}
    listed = await rpc(all_bases(deps.rpc, program))
    return {str(b["id"]): str(b["region"]) for b in listed}


@dataclass
class _Opened:
    """A stream's start: the first counts, the changes heard since, the caller's regions."""

    first: YearCounts
    changes: asyncio.Queue[ProjectionUpdated]
    regions: dict[str, str]
    slot: Slot


async def _open_stream(
    program: Program, year: Year, request: Request, deps: DepsDep, user: UserDep
) -> AsyncIterator[_Opened]:
    """Everything that may refuse (403/404, 429 ``too_many_streams``) happens here, before the
    response starts; the slot and the subscription are given back when the stream ends."""
    await require(deps, user, "read_program", program=program)
    regions = await _regions(deps, user, program)
    slot = stream_slots(request).take(user.name)
    changes: asyncio.Queue[ProjectionUpdated] = asyncio.Queue(maxsize=10_000)

    async def heard(msg) -> None:  # type: ignore[no-untyped-def]
        if not changes.full():
            changes.put_nowait(ProjectionUpdated.model_validate_json(msg.data))

    try:
        # Listen before reading the first counts, so no change falls in between.
        sub = await deps.nats.subscribe(updated_subject(program, year), cb=heard)
        try:
            first = need_to_know.counts(user, await _counts(deps, program, year))
            yield _Opened(first, changes, regions, slot)
        finally:
            await sub.unsubscribe()
    finally:
        slot.release()


def _counts_event(counts: YearCounts) -> ServerSentEvent:
    return ServerSentEvent(
        event="counts", raw_data=counts.model_dump_json(), id=str(counts.stream_seq)
    )


def _problem_event(code: str) -> ServerSentEvent:
    return ServerSentEvent(event="problem", raw_data=json.dumps({"code": code}))


@router.get(
    f"{YEAR}/dashboard/stream",
    response_class=EventSourceResponse,
    responses=authenticated(429),
)
async def dashboard_stream(
    program: Program,
    year: Year,
    request: Request,
    deps: DepsDep,
    user: UserDep,
    opened: Annotated[_Opened, Depends(_open_stream)],
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: ``counts`` at once and after every change (bursts coalesced), and
    ``activity`` with the events just applied. A comment line keeps idle connections open
    (FastAPI's own, every 15 s). Streams are capped per user and per gateway (429
    ``too_many_streams``), and one ends with a ``problem`` event once its token is revoked or
    expires (checked every ``RECHECK_S``)."""
    loop = asyncio.get_running_loop()
    changes = opened.changes
    try:
        yield _counts_event(opened.first)
        checked = loop.time()
        while True:
            if loop.time() - checked >= RECHECK_S:
                if refused := await token_refusal(deps, request):
                    yield _problem_event(refused)
                    return
                checked = loop.time()
            try:
                async with asyncio.timeout(RECHECK_S):  # not wait_for: it can swallow a cancel
                    note = await changes.get()
            except TimeoutError:
                continue
            await asyncio.sleep(COALESCE_S)
            notes = [note]
            while not changes.empty():
                notes.append(changes.get_nowait())
            seen = [need_to_know.activity(user, program, n.events, opened.regions) for n in notes]
            recent = [e.model_dump() for events in seen for e in events][-20:]
            yield ServerSentEvent(event="activity", raw_data=json.dumps(recent, ensure_ascii=False))
            try:
                counts = need_to_know.counts(user, await _counts(deps, program, year))
            except Exception as exc:
                yield _problem_event(getattr(exc, "code", "dashboard_unavailable"))
                continue
            yield _counts_event(counts)
    finally:
        # Before the response ends, so a client that saw the end finds its slot free (the
        # dependency's release, after the response, is for a stream that never started).
        opened.slot.release()
