"""What the officers' pages read: the dashboard's projection of a year's cycles (stage, region,
when the stage began), and the live state of a cycle workflow only for the rows a page shows.

A page never asks Temporal about every base of the program, nor the dashboard for every row: the
queue asks the projection for one page of the ``plan_review`` rows the officer may see (in the
city picked), with their count, and for their counts by city: two NATS requests whatever the
size of the program; and the workflows of that page for the step awaited and its deadline. The
province desk reads one page of the projection's rows and asks only its ``under_review`` ones for
their experts. The projection lacks the step awaited and the ``plan_review`` deadline (the
workflow sets both without an event that says them), so the queue orders its pages by when each
plan entered verification — the earliest first, as their windows are the program's one window —
and each page by the deadlines the workflows answer, overdue first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.gateway import need_to_know
from services.gateway.access import Target, row_region_prefix, row_visible
from services.gateway.auth import base_of, rpc
from services.gateway.deps import Deps
from services.gateway.identity.tokens import Principal
from services.gateway.problems import ApiError
from services.gateway.temporal_errors import call_workflow
from shared import paging
from shared.contracts import workflow_names as names
from shared.contracts.cycle import CycleState
from shared.contracts.dashboard import (
    CitiesQuery,
    CityCount,
    CityCounts,
    CycleList,
    CyclesQuery,
    CycleSummary,
    YearCounts,
    YearQuery,
)
from shared.domain.regions import city_prefix, narrower_prefix, parent_region, region_level

SWEEP_CONCURRENCY = 8  # cycle states read at once for a page


@dataclass
class BaseCycle:
    """One base's row: its registry entry and its cycle as the viewer may see it."""

    id: str
    name: str
    region: str
    city: str
    state: CycleState


def city_of(region: str) -> str:
    """The city a base's region lies in (a county's city; a city itself)."""
    try:
        level = region_level(region)
    except ValueError:
        return region
    if level == "county":
        return parent_region(region) or region
    return region


async def cycles_page(
    deps: Deps,
    program: str,
    year: int,
    *,
    cursor: str | None = None,
    limit: int = paging.MAX_PAGE,
    stage: str | None = None,
) -> CycleList:
    """One page of the dashboard's rows of the year (those in ``stage``, if given)."""
    ask = CyclesQuery(program=program, year=year, cursor=cursor, limit=limit, stage=stage)
    return await rpc(deps.rpc.call("dashboard", "cycles", ask, CycleList))


@dataclass
class StagePage:
    """One page of the cycles in a stage that a viewer may see, how many there are in all, and
    the cities they lie in."""

    rows: list[CycleSummary]
    total: int
    next_cursor: str | None
    cities: list[CityCount]  # how many cycles each has


async def visible_page(
    deps: Deps,
    user: Principal,
    program: str,
    year: int,
    stage: str,
    *,
    city: str | None = None,
    after: str | None = None,
    limit: int = paging.MAX_PAGE,
) -> StagePage:
    """The year's cycles in ``stage`` whose rows ``user`` may see (those in ``city``, if
    given): ``limit`` of them after ``after``, those that entered the stage first at the front;
    how many there are; and the cities of them all (city not applied). The dashboard filters,
    orders and counts them: one page and the counts by city are asked for, nothing more."""
    seen = row_region_prefix(user, Target(program=program))
    if seen is None:
        return StagePage([], 0, None, [])
    shown = narrower_prefix(seen, city_prefix(city)) if city else seen
    by_city = rpc(
        deps.rpc.call(
            "dashboard",
            "cities",
            CitiesQuery(program=program, year=year, stage=stage, region_prefix=seen),
            CityCounts,
        )
    )
    if shown is None:  # a city outside the viewer's region: none of its rows
        return StagePage([], 0, None, (await by_city).cities)
    ask = CyclesQuery(
        program=program,
        year=year,
        stage=stage,
        region_prefix=shown,
        order="stage_since",
        cursor=after,
        limit=limit,
        count=True,
    )
    listed, counted = await asyncio.gather(
        rpc(deps.rpc.call("dashboard", "cycles", ask, CycleList)), by_city
    )
    rows = [c for c in listed.cycles if visible(user, program, c)]  # the policy, row by row too
    return StagePage(rows, listed.total or 0, listed.next_cursor, counted.cities)


def visible(user: Principal, program: str, row: CycleSummary) -> bool:
    return row_visible(user, Target(program=program, base=row.base, region=row.region))


async def _state(deps: Deps, program: str, year: int, base: str) -> CycleState | None:
    handle = deps.temporal.get_workflow_handle(names.cycle_id(program, year, base))
    try:
        state: CycleState = await call_workflow(
            handle.query(names.STATE, result_type=CycleState), what="the cycle"
        )
    except ApiError as exc:
        if exc.status == 404:
            return None  # no cycle of this base in this year
        raise
    return state


async def _name(deps: Deps, program: str, base: str) -> str:
    try:
        return (await base_of(deps, program, base)).name or base
    except ApiError as exc:
        if exc.status == 404:
            return base
        raise


async def states_of(
    deps: Deps, user: Principal, program: str, year: int, rows: list[CycleSummary]
) -> list[BaseCycle]:
    """The live cycle of each row (as need to know leaves it) and its base's name, in the
    rows' order; a row whose workflow is gone is left out."""
    limit = asyncio.Semaphore(SWEEP_CONCURRENCY)

    async def one(row: CycleSummary) -> BaseCycle | None:
        async with limit:
            state, name = await asyncio.gather(
                _state(deps, program, year, row.base), _name(deps, program, row.base)
            )
        if state is None:
            return None
        shown = need_to_know.cycle_state(
            user, state, region=row.region, published=False, assigned=False
        )
        return BaseCycle(row.base, name, row.region, city_of(row.region), shown)

    found = await asyncio.gather(*(one(r) for r in rows))
    return [c for c in found if c is not None]


@dataclass
class DeskRow:
    base: str
    name: str
    city: str
    stage: str
    experts: str


async def desk_rows(
    deps: Deps, user: Principal, program: str, year: int, rows: list[CycleSummary]
) -> list[DeskRow]:
    """The desk's rows of one page: each base's name and stage, and the experts of those under
    review (the only workflows asked)."""
    shown = [r for r in rows if visible(user, program, r)]
    reviewing = [r for r in shown if r.stage == "under_review"]
    live = {c.id: c for c in await states_of(deps, user, program, year, reviewing)}
    named = await asyncio.gather(
        *(_name(deps, program, r.base) for r in shown if r.base not in live)
    )
    others = iter(named)
    found = []
    for r in shown:
        cycle = live.get(r.base)
        name = cycle.name if cycle else next(others)
        experts = ", ".join(cycle.state.experts) if cycle else ""
        found.append(DeskRow(r.base, name, city_of(r.region), r.stage, experts))
    return found


async def stage_counts(deps: Deps, program: str, year: int) -> dict[str, int]:
    """The year's cycles by stage, as the dashboard counts them."""
    ask = YearQuery(program=program, year=year)
    return (await rpc(deps.rpc.call("dashboard", "counts", ask, YearCounts))).by_stage
