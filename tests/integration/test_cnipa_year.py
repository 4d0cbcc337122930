"""A CNIPA 2015 year (seed 002) under time skipping through its four kinds of pilot unit: each
unit's cycle pins its own kind's rules (the zones' rubric with the micro projects target, the
program's rubric for the others), is scored on that rubric and graded with it.

Each kind's chain runs as the preset gives it: the province's aggregation step (汇总报送), where
the plans wait until their province forwards them as one filing of its own (the program year's
``forward_plans``) or, silent, until 8 May, when the province is told and the system forwards
them late; then the national step, verified by the program's admin.

Target progress (issue 16): the zone's account reports its own target, micro_navigation_projects
(at least 5 a year): 4 projects are 80% of it, and the zone's navigation_projects indicator (25 of
100) is computed from that completion, not scored by the experts; the decision record carries
the completion. The preset has no program-level targets. Its zone target is for 2015; the test
moves the target's horizon to the year it runs (``kinds_year.target_horizon``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from services.sim.virtual import run_virtual_year
from shared.contracts.cycle import Actor
from shared.contracts.forwardings import ForwardPlans
from shared.domain.participants import pinned_rules
from shared.domain.rules import load_rules_file
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.settings import DEPLOY_DIR
from tests.conftest import Stack
from tests.integration import driver, presets
from tests.integration.kinds_year import file_account, target_horizon
from tests.integration.presets import BEIJING
from tests.integration.test_program_year import cycles, finish, graded_records, launch
from workflows.program_year import ProgramYearWorkflow

UNITS = {
    "cz": "experimental_zone",
    "cc": "collaborative_pilot",
    "ce": "operation_enterprise",
    "ct": "trading_centre",
}
SCORES = {"cz": 90, "cc": 75, "ce": 65, "ct": 80}
HENAN = {"cz": "410100", "cc": "410100", "ce": "410300", "ct": "420100"}
"""Three units in Henan, whose province forwards them; the trading centre in Hubei, whose
province never does."""
ADMIN = Actor(name="cnipa-admin", role="province_admin")
HENAN_OFFICER = Actor(name="henan-officer", role="city_officer", region="410000")
MICRO_PROJECTS = 4
"""The zone's micro navigation projects of the year: 4 of the at least 5 it must run."""


async def refusal(call: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def cycle_events(stack: Stack, program: str, year: int, base: str) -> list[Any]:
    return [
        e for _, e in await read_events(stack.nc.jetstream(), event_filter(program, year, base))
    ]


async def test_a_cnipa_year_runs_each_kind_through_its_chain(dated_stack: Stack) -> None:
    stack = dated_stack
    # the clock stands at 1 November: the year whose plans are due on 30 April is the next one
    year = await presets.this_year(stack) + 1
    rules = target_horizon(
        presets.preset("cnipa-pilot-2015", "cnipa-chain"), year, "micro_navigation_projects"
    )
    assert rules.targets == []  # no program-level targets to report
    await presets.register(stack, rules, [])
    for base, kind in UNITS.items():
        presets.register_units(stack, rules, {base: kind}, region=HENAN[base], name="试点单位")
    program_year = await launch(stack, rules, year, expected=len(UNITS))
    handles = cycles(stack, rules, year, list(UNITS))

    def forward(region: str, actor: Actor = ADMIN) -> Any:
        req = ForwardPlans(region=region, actor=actor, document_id="henan-letter-1")
        return program_year.execute_update(ProgramYearWorkflow.forward_plans, req)

    # nothing filed yet: nothing waits at Henan's aggregation step
    assert (await refusal(forward("410000"))).type == "nothing_to_forward"
    for handle in handles.values():
        await driver.file_plan(stack, handle)
    cz = await driver.state(handles["cz"])
    assert (cz.stage, cz.verification_step, cz.forwarding_region) == (
        Stage.PLAN_REVIEW,
        "province",
        "410000",
    )
    due = cz.deadlines["forwarding"]
    info = cz.deadline_info["forwarding"]
    assert info.spec == "--05-08" and info.last_day is not None
    # 8 May of the year, moved past a day off when it is one; due at the end of that day
    assert date(year, 5, 8) <= info.last_day <= date(year, 5, 11)
    end_of_day = datetime.combine(info.last_day + timedelta(days=1), datetime.min.time(), BEIJING)
    assert due == end_of_day
    ct = await driver.state(handles["ct"])
    assert (ct.forwarding_region, ct.deadlines["forwarding"]) == ("420000", due)
    year_state = await program_year.query(ProgramYearWorkflow.state)
    assert year_state.awaiting == {"410000": ["cc", "ce", "cz"], "420000": ["ct"]}

    # a plan at an aggregation step is not reviewed one by one
    assert (await refusal(driver.review(handles["cz"], "province"))).type == "wrong_stage"
    # refused precisely: a city is not the step's level; outside China's code space; another
    # province's officer; a province with nothing waiting
    assert (await refusal(forward("410100"))).type == "not_a_forwarding_region"
    assert (
        await refusal(forward("410000", Actor(name="x", role="city_officer", region="410100")))
    ).type == "not_your_role"
    assert (await refusal(forward("430000"))).type == "nothing_to_forward"

    record = await forward("410000", HENAN_OFFICER)
    assert (record.region, record.level, record.units, record.by, record.filing, record.late) == (
        "410000",
        "province",
        ["cc", "ce", "cz"],
        "henan-officer",
        1,
        False,
    )
    assert record.document_id == "henan-letter-1" and record.due == due
    assert (await refusal(forward("410000"))).type == "already_forwarded"

    for base in ("cz", "cc", "ce"):
        state = await driver.state(handles[base])
        while state.forwarding_region is not None:  # the signal reaches the cycle
            state = await driver.state(handles[base])
        assert (state.stage, state.verification_step) == (Stage.PLAN_REVIEW, "national")
        # a province officer does not take the national step; the program's admin does
        national = driver.people(handles[base]).review
        henan = national(base, "national")
        henan_refusal = await refusal(
            driver.people(handles[base]).channel.review_plan(
                base, HENAN_OFFICER, "national", "approve", "", "henan-national"
            )
        )
        assert henan_refusal.type == "not_your_role"
        assert await henan == Stage.IMPLEMENTING

    # Hubei never forwards: at 8 May's end the province is told and the system forwards it late
    assert (await driver.state(handles["ct"])).stage == Stage.PLAN_REVIEW
    await stack.env.sleep(due - await stack.env.get_current_time() + timedelta(minutes=1))
    ct = await driver.state(handles["ct"])
    assert (ct.stage, ct.verification_step, ct.forwarding_region) == (
        Stage.PLAN_REVIEW,
        "national",
        None,
    )
    assert "forwarding" not in ct.deadlines
    events = await cycle_events(stack, rules.id, year, "ct")
    escalation = [
        e.data for e in events if e.type == "navcycle.reminder.sent" and e.data.get("escalation")
    ]
    assert [(e["deadline"], e["to"], e["due"]) for e in escalation] == [
        ("forwarding", "province", due.isoformat())
    ]
    taken = [e.data for e in events if e.type == "navcycle.plan.step_taken_over"]
    assert [(e["step"], e["how"], e["due"]) for e in taken] == [
        ("province", "system_forwarded", due.isoformat())
    ]
    assert (await program_year.query(ProgramYearWorkflow.state)).awaiting == {}
    assert (await refusal(forward("420000"))).type == "nothing_to_forward"
    assert await driver.review(handles["ct"], "national") == Stage.IMPLEMENTING

    # plans.forwarded once, for Henan's three units; the national step verified each plan
    forwarded = await read_events(
        stack.nc.jetstream(), event_filter(rules.id, year, "_", "plans.forwarded")
    )
    assert [
        (e.data["region"], e.data["units"], e.data["by"], e.data["late"]) for _, e in forwarded
    ] == [("410000", ["cc", "ce", "cz"], "henan-officer", False)]
    for base in UNITS:
        verified = [
            e.data["step"]
            for e in await cycle_events(stack, rules.id, year, base)
            if e.type == "navcycle.plan.verified"
        ]
        assert verified == ["national"], base  # the aggregation step verifies nothing

    await to_results(stack, handles, rules)
    result = await program_year.result()
    assert result.graded == len(UNITS)
    records = {r.base: r for r in await graded_records(stack, rules.id, year)}
    versions = {
        base: (r.rubric.version, r.target_completion, r.total, r.grade.value)
        for base, r in records.items()
    }
    # the zone's micro projects indicator (25 of 100) is computed from its target: 4 of 5
    # projects, 80; 90 on the other three: (90 * 75 + 80 * 25) / 100
    assert versions == {
        "cz": ("cnipa-2015-zone.1", {"navigation_projects": 80.0}, 87.5, "excellent"),
        "cc": ("cnipa-2015.1", None, 75, "pass"),
        "ce": ("cnipa-2015.1", None, 65, "pass"),
        "ct": ("cnipa-2015.1", None, 80, "pass"),
    }
    zone = records["cz"]
    assert zone.averaged["navigation_projects"] == 80.0
    assert all("navigation_projects" not in sheet.scores for sheet in zone.sheets)
    assert len(zone.sheets) == 3
    for base, handle in handles.items():
        outcome = await finish(stack, handle)
        assert (outcome.stage, outcome.final_grade.value) == (
            Stage.CLOSED,
            versions[base][3],
        ), base


async def to_results(
    stack: Stack, handles: dict[str, WorkflowHandle[Any, Any]], rules: Any
) -> None:
    """Each unit's account filed (the zone's with its micro projects), time skipped to the
    review, and every assigned expert gives the unit's score to each indicator of its own kind's
    rubric that experts score."""
    for base, handle in handles.items():
        zone = (
            {"micro_navigation_projects": MICRO_PROJECTS}
            if UNITS[base] == "experimental_zone"
            else {}
        )
        await file_account(stack, handle, {"patents": 33, **zone})
    first = await driver.state(next(iter(handles.values())))
    wait = first.deadlines["self_evaluation"] - await stack.env.get_current_time()
    await stack.env.sleep(wait + timedelta(minutes=1))
    for base, handle in handles.items():
        own = pinned_rules(rules, UNITS[base])
        assert (await driver.state(handle)).stage == Stage.UNDER_REVIEW, base
        for expert in (await driver.state(handle)).experts:
            await driver.score(handle, expert, driver.scores(own, SCORES[base]))


async def test_a_simulated_cnipa_year_scores_its_units_on_their_kinds_rubric() -> None:
    """navcycle demo on the preset: the synthetic units are of the first kind (the zones), whose
    cycles pin the zones' rubric and pass its chain (the province admin forwards each
    province's plans), and the simulated experts score on it."""
    rules = load_rules_file(DEPLOY_DIR / "programs" / "cnipa-pilot-2015.yaml")
    summary = await run_virtual_year(rules, bases=8, year=2031)
    assert summary.outcomes.total() == 8
    assert set(summary.outcomes) <= {"closed", "delisted"}
    assert summary.grades.total() == 8 and summary.recompute_mismatches == []
    assert summary.refused == {}
