"""Outcomes a bureau can defend (issue 11), on the presets under time skipping: holiday data that
arrives late, people who stay silent, a city step that comes late, overlapping years.

Each test runs on a time-skipping server of its own (``dated_stack``), starting today, because
its deadlines are counted on the real calendar of 2026 and 2027."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from shared.contracts.calendars import CalendarApplied, CalendarApplyResult
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from tests.conftest import Stack
from tests.helpers import record_history
from tests.integration import driver
from tests.integration.presets import TABLE_2027, preset, register, store_holidays, this_year
from tests.integration.test_program_year import cycles, finish, launch
from workflows.program_year import ProgramYearWorkflow


async def year_events(stack: Stack, program: str, year: int, base: str | None = None) -> list[Any]:
    return [e for _, e in await read_events(stack.nc.jetstream(), event_filter(program, year, base))]


async def wait_phase(handle: WorkflowHandle[Any, Any], phase: str) -> Any:
    for _ in range(400):
        state = await handle.query(ProgramYearWorkflow.state)
        if state.phase == phase:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"program year never reached {phase}: {state}")


async def apply_2027(
    stack: Stack, rules: ProgramRules, handle: WorkflowHandle[Any, Any]
) -> CalendarApplyResult:
    """What `navcycle calendar apply` does: store the table, then tell the running program year
    (the time-skipping server has no visibility listing, so the test signals it directly)."""
    applied = await store_holidays(stack, rules, TABLE_2027)
    await handle.signal(
        ProgramYearWorkflow.calendar_applied,
        CalendarApplied(calendar=applied.calendar, version=applied.version, years=applied.years),
    )
    return applied


async def test_a_2026_inner_mongolia_year_is_final_only_once_2027_holidays_are_known(
    dated_stack: Stack,
) -> None:
    """The 2026 year's deadlines reach into 2027, which no holiday table covers yet: they are
    provisional, the 公示 does not end on them, and once the bureau applies 2027 they are
    counted again, recorded old and new, and the results become final."""
    stack = dated_stack
    rules = preset("inner-mongolia-nav-base", "im-provisional")
    await register(stack, rules, ["im-prov"], with_2027=False)
    year = await this_year(stack)
    program_year = await launch(stack, rules, year, expected=1)
    handle = cycles(stack, rules, year, ["im-prov"])["im-prov"]
    await driver.to_implementing(stack, handle, rules)
    await driver.file_self_evaluation(stack, handle)
    state = await driver.state(handle)
    # Accepted on 2026-11-30: never due before three months later (2027-02-28, a Sunday,
    # rolled to Monday on weekends alone: provisional).
    info = state.deadline_info["self_evaluation"]
    assert info.provisional and info.last_day is not None and info.last_day.year == 2027
    wait = state.deadlines["self_evaluation"] - await stack.env.get_current_time()
    await stack.env.sleep(wait + timedelta(minutes=1))
    assert (await driver.state(handle)).stage == Stage.UNDER_REVIEW
    for expert in ("e1", "e2", "e3"):
        await driver.score(handle, expert, driver.scores(rules, 80))

    published = await wait_phase(program_year, "publication")
    assert published.publication_provisional
    until = published.publication_until
    await stack.env.sleep(until - await stack.env.get_current_time() + timedelta(days=3))
    held = await program_year.query(ProgramYearWorkflow.state)
    assert held.phase == "publication", "results finalised on a provisional 公示 end"

    await apply_2027(stack, rules, program_year)
    final = await program_year.result()
    await record_history(program_year, "program-year-provisional-2027")
    assert final.phase == "done" and not final.publication_provisional
    events = await year_events(stack, rules.id, year)
    recomputed = [e for e in events if e.type == "navcycle.deadline.recomputed"]
    publication = [e.data for e in recomputed if e.data["deadline"] == "publication"]
    assert len(publication) == 1
    assert publication[0]["from"]["provisional"] and not publication[0]["to"]["provisional"]
    finalized = next(e for e in events if e.type == "navcycle.results.finalized")
    assert finalized.time >= final.publication_until
    assert (await finish(stack, handle)).stage == Stage.CLOSED
