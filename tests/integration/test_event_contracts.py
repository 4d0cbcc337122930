"""One program year driven through the workflows: every event it leaves on the log parses
strictly through its payload model (every field named by the model, the new ones too), and each
consumer that reads events reads every one of them."""

from __future__ import annotations

from datetime import timedelta

from services.dashboard.projection import (
    CycleView,
    YearView,
    apply,
    apply_year,
    timeline_detail,
    touched,
)
from services.notifier.notices import notices_for
from shared.eventlog import read_events
from shared.events.payloads import CycleContext
from shared.events.subjects import event_filter
from shared.events.types import EventType
from tests.conftest import Stack
from tests.helpers import demo_rules, fresh_year
from tests.integration import driver
from tests.integration.test_program_year import cycles, finish, launch
from tests.unit.test_event_contracts import check_strictly


async def test_every_event_of_a_driven_year_parses_through_its_model(stack: Stack) -> None:
    rules = demo_rules(id="contract-demo")
    totals = {"c1": 95, "c2": 70, "c3": 40}
    driver.register(stack, rules, list(totals))
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=len(totals))
    handles = cycles(stack, rules, year, list(totals))
    for handle in handles.values():
        await driver.to_implementing(stack, handle, rules)
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    for base, handle in handles.items():
        await driver.score(handle, "e1", driver.scores(rules, totals[base]))
    await program_year.result()
    for handle in handles.values():
        await finish(stack, handle)

    events = [e for _, e in await read_events(stack.nc.jetstream(), event_filter(rules.id, year))]
    seen = {e.event_type for e in events}
    assert {
        EventType.PROGRAM_LAUNCHED,
        EventType.PLAN_FILED,
        EventType.PLAN_VERIFIED,
        EventType.REVIEW_SCORED,
        EventType.REVIEW_GRADED,
        EventType.RESULTS_PUBLISHED,
        EventType.RESULTS_FINALIZED,
        EventType.CYCLE_CLOSED,
    } <= seen, seen
    for event in events:
        payload = check_strictly(event)
        if isinstance(payload, CycleContext) and event.source == "navcycle/workflows":
            assert payload.base_name and payload.region, event.type
        notices_for(event)
        touched(event)
        timeline_detail(event)
        apply(CycleView(program=rules.id, year=year, base=event.base), event)
        apply_year(YearView(program=rules.id, year=year), event)
