"""ProgramYearWorkflow under time skipping: fan-out, relative grading, 公示, next year, presets."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from services.registry import store
from shared.contracts.program_year import ProgramYearInput
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.db import session_scope
from shared.domain.grading import DecisionRecord, recompute
from shared.domain.rules import ProgramRules, load_rules_file
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.settings import DEPLOY_DIR
from tests.conftest import Stack
from tests.helpers import demo_rules, fresh_year, record_history, until
from tests.integration import driver, presets
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow


async def launch(
    stack: Stack, rules: ProgramRules, year: int, expected: int, history_limit: int | None = None
) -> WorkflowHandle[Any, Any]:
    handle = await stack.client.start_workflow(
        ProgramYearWorkflow.run,
        ProgramYearInput(program=rules.id, year=year, history_limit=history_limit),
        id=program_year_id(rules.id, year),
        task_queue=stack.task_queue,
    )
    await until(
        lambda: handle.query(ProgramYearWorkflow.state),
        lambda s: s.phase != "launching" and s.opened == expected,
        f"{expected} cycles opened",
    )
    # The test server reports a child started a moment before it takes updates.
    for base in await _bases(stack, rules.id):
        cycle = stack.client.get_workflow_handle(cycle_id(rules.id, year, base))
        await until(
            partial(cycle.query, AnnualCycleWorkflow.state),
            lambda s: s.history,
            f"the cycle of {base} answering",
            ignoring=RPCError,
        )
    return handle


async def _bases(stack: Stack, program: str) -> list[str]:
    with session_scope(stack.registry_db) as session:
        return [
            b.id for b in store.list_bases(session, program=program, status="active", region=None)
        ]


def cycles(
    stack: Stack, rules: ProgramRules, year: int, bases: list[str]
) -> dict[str, WorkflowHandle[Any, Any]]:
    return {
        b: stack.client.get_workflow_handle_for(
            AnnualCycleWorkflow.run, cycle_id(rules.id, year, b)
        )
        for b in bases
    }


async def finish(stack: Stack, handle: WorkflowHandle[Any, Any]) -> Any:
    """Wait for a cycle's end with time skipping on: only handles that ``start_workflow``
    returned unlock it by themselves, and cycles are started by the program year."""
    async with stack.env.time_skipping_unlocked():  # type: ignore[attr-defined]
        return await handle.result()


async def graded_records(stack: Stack, program: str, year: int) -> list[DecisionRecord]:
    events = await read_events(
        stack.nc.jetstream(), event_filter(program, year, event_type="review.graded")
    )
    return [DecisionRecord.model_validate(e.data) for _, e in events]


async def year_event(stack: Stack, program: str, year: int, event_type: str) -> dict[str, Any]:
    events = await read_events(stack.nc.jetstream(), event_filter(program, year, "_", event_type))
    assert len(events) == 1
    return events[0][1].data


async def scored(
    stack: Stack,
    rules: ProgramRules,
    handles: dict[str, WorkflowHandle[Any, Any]],
    totals: dict[str, int],
) -> None:
    """Every cycle to its review (plan accepted, self-evaluation filed, the deadline passed),
    then scored ``totals[base]`` by one expert."""
    for handle in handles.values():
        await driver.to_implementing(stack, handle, rules)
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    for base, handle in handles.items():
        await driver.score(handle, "e1", driver.scores(rules, totals[base]))


async def carried_states(stack: Stack, workflow_id: str) -> list[tuple[int, ProgramYearInput]]:
    """What each earlier run of a workflow carried into the next one through continue-as-new
    (its size in bytes, and the state), from the latest run back to the first."""
    carried: list[tuple[int, ProgramYearInput]] = []
    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    while True:
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return carried
        earlier = stack.client.get_workflow_handle(
            workflow_id, run_id=started.continued_execution_run_id
        )
        history = await earlier.fetch_history()
        last = history.events[-1].workflow_execution_continued_as_new_event_attributes
        [payload] = last.input.payloads
        carried.append((len(payload.data), ProgramYearInput.model_validate_json(payload.data)))


async def test_a_year_carries_counts_not_a_record_per_base_through_continue_as_new(
    stack: Stack,
) -> None:
    """The cycles' reports go to the year ledger in the object store: a run continues as new
    with counts only, whatever the number of bases (10,000 bases' records are over Temporal's
    2 MiB limit), and the notice, the counts and the final grades are built from the ledger."""
    rules = demo_rules(id="ledger-demo")
    bases = [f"lg{n:02d}" for n in range(24)]
    totals = {b: (95 if n < 3 else 50 if n < 5 else 75) for n, b in enumerate(bases)}
    driver.register(stack, rules, bases)
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=len(bases), history_limit=40)
    handles = cycles(stack, rules, year, bases)
    await scored(stack, rules, handles, totals)
    final = await program_year.result()
    assert (final.phase, final.graded, final.excluded) == ("done", len(bases), 0)
    assert final.concluded == len(bases)

    carried = await carried_states(stack, program_year.id)
    assert len(carried) >= 2, "the year never continued as new: the test proves nothing"
    for size, state in carried:
        assert state.ledger and not state.graded and not state.concluded
        held = len(state.pending_graded) + len(state.pending_concluded)
        assert held < len(bases), f"a run carried {held} reports into the next"
        assert size < 64_000
    assert max(s.tally.graded for _, s in carried) > 0, "no run carried the ledger's counts"

    published = await year_event(stack, rules.id, year, "results.published")
    assert published["counts"] == {"excellent": 3, "pass": 19, "fail": 2}
    grades = {e["base"]: e["grade"] for e in published["entries"]}
    assert grades == {
        b: {95: "excellent", 75: "pass", 50: "fail"}[total] for b, total in totals.items()
    }
    finalized = await year_event(stack, rules.id, year, "results.finalized")
    assert finalized["counts"] == published["counts"]
    outcomes = {b: await finish(stack, h) for b, h in handles.items()}
    assert {b: o.final_grade for b, o in outcomes.items()} == grades


async def test_relative_grading_marks_only_the_top_share_excellent(stack: Stack) -> None:
    rules = demo_rules(id="relative-demo", rubric__grades={"excellent": "top 20%", "pass": 60})
    totals = {"r1": 95, "r2": 90, "r3": 80, "r4": 70, "r5": 50}
    driver.register(stack, rules, list(totals))
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=5)
    handles = cycles(stack, rules, year, list(totals))
    await scored(stack, rules, handles, totals)

    final = await program_year.result()
    await record_history(program_year, "program-year-relative-grading")
    assert final.graded == 5 and final.phase == "done"
    published = await year_event(stack, rules.id, year, "results.published")
    grades = {e["base"]: e["grade"] for e in published["entries"]}
    assert grades == {"r1": "excellent", "r2": "pass", "r3": "pass", "r4": "pass", "r5": "fail"}
    assert published["counts"] == {"excellent": 1, "pass": 3, "fail": 1}
    await year_event(stack, rules.id, year, "results.finalized")

    outcomes = {b: await finish(stack, h) for b, h in handles.items()}
    await record_history(handles["r1"], "cycle-relative-excellent")
    assert outcomes["r1"].final_grade == "excellent" and outcomes["r1"].stage == Stage.CLOSED
    assert outcomes["r1"].grade == "pass"  # provisional until the year ranks every base
    assert outcomes["r2"].grade == "pass" and outcomes["r2"].final_grade == "pass"
    assert outcomes["r5"].stage == Stage.DELISTED


async def test_a_delisted_base_gets_no_cycle_the_next_year(stack: Stack) -> None:
    rules = demo_rules(id="delist-demo", verification=[])
    driver.register(stack, rules, ["d1", "d2"])
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=2)
    handles = cycles(stack, rules, year, ["d1", "d2"])
    for handle in handles.values():
        await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    await driver.score(handles["d1"], "e1", driver.scores(rules, 30))
    await driver.score(handles["d2"], "e1", driver.scores(rules, 80))
    await program_year.result()
    assert (await finish(stack, handles["d1"])).stage == Stage.DELISTED
    assert driver.base_status(stack, rules.id, "d1") == "delisted"

    next_year = await launch(stack, rules, year + 1, expected=1)
    missing = stack.client.get_workflow_handle(cycle_id(rules.id, year + 1, "d1"))
    try:
        await missing.describe()
        raise AssertionError("a de-listed base got a cycle")
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND
    launched = await year_event(stack, rules.id, year + 1, "program.launched")
    assert launched["rules_version"] >= 1
    await next_year.result()


async def _preset_year(stack: Stack, name: str, bases: list[str], scores: dict[str, float]) -> None:
    rules = presets.preset(name, f"{name}-year")
    await presets.register(stack, rules, bases)
    year = await presets.this_year(stack)
    program_year = await launch(stack, rules, year, expected=len(bases))
    handles = cycles(stack, rules, year, bases)
    await driver.to_review(stack, list(handles.values()), rules)
    for base, handle in handles.items():
        assert (await driver.state(handle)).stage == Stage.UNDER_REVIEW
        for expert in (await driver.state(handle)).experts:
            await driver.score(handle, expert, driver.scores(rules, scores[base]))

    final = await program_year.result()
    assert final.graded == len(bases)
    published = await year_event(stack, rules.id, year, "results.published")
    assert published["holidays_known"] and not published["provisional"]
    for record in await graded_records(stack, rules.id, year):
        assert recompute(record) == (record.total, record.grade)
        assert record.rubric.version == rules.rubric.version and len(record.sheets) == 3
    for base, handle in handles.items():
        outcome = await finish(stack, handle)
        await record_history(handle, f"cycle-{name}-{base}")
        failed = scores[base] < 60
        # Henan (seed 004) has no rectification: a failing base is simply not designated.
        delisted = failed and rules.calendar.rectification_rounds > 0
        assert outcome.stage == (Stage.DELISTED if delisted else Stage.CLOSED), base
    entries = {e["base"]: e for e in published["entries"]}
    if rules.designation is not None:
        assert entries["ha"]["outcome"] == "designated"
        assert entries["hc"]["outcome"] == "fail_final"


async def test_a_henan_preset_year_in_virtual_time(dated_stack: Stack) -> None:
    await _preset_year(
        dated_stack, "henan-nav-base", ["ha", "hb", "hc"], {"ha": 90, "hb": 70, "hc": 40}
    )


async def test_an_inner_mongolia_preset_year_in_virtual_time(dated_stack: Stack) -> None:
    state_due_month_day = load_rules_file(
        DEPLOY_DIR / "programs" / "inner-mongolia-nav-base.yaml"
    ).calendar.self_evaluation_due
    assert state_due_month_day == "--11-30"
    await _preset_year(dated_stack, "inner-mongolia-nav-base", ["ma", "mb"], {"ma": 88, "mb": 65})


async def test_a_cycle_keeps_the_rules_version_it_opened_with(stack: Stack) -> None:
    rules = demo_rules(id="pin-demo")
    driver.register(stack, rules, ["p1"])
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=1)
    handle = cycles(stack, rules, year, ["p1"])["p1"]
    before = await driver.state(handle)

    changed = demo_rules(id="pin-demo", calendar__plan_window="PT99S")
    with session_scope(stack.registry_db) as session:
        row, created = store.apply_rules(session, rules=changed)
    assert created and row.version == before.rules_version + 1

    after = await driver.state(handle)
    assert after.rules_version == before.rules_version
    assert after.deadlines["plan"] == before.deadlines["plan"]
    await program_year.result()
    outcome = await finish(stack, handle)
    assert outcome.stage == Stage.DELISTED  # no plan: overdue, fail, rectification lapsed
    assert (await driver.state(handle)).rules_version == before.rules_version


async def test_a_year_with_an_excluded_base_still_ends(stack: Stack) -> None:
    """A base excluded for a missed plan (the rules' choice) reports its end like any other, so
    the year's outcomes notice and its end are not held up by it."""
    rules = demo_rules(id="exclude-demo", verification=[], outcomes__plan_overdue="exclude")
    driver.register(stack, rules, ["x1", "x2"])
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=2)
    handle = cycles(stack, rules, year, ["x1"])["x1"]
    await driver.file_plan(stack, handle, b"%PDF-1.4 x1")
    await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=70))
    for expert in (await driver.state(handle)).experts:
        await driver.score(handle, expert, driver.scores(rules, 80))
    final = await program_year.result()
    assert (final.phase, final.excluded, final.concluded) == ("done", 1, 2)
