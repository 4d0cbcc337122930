"""Outcomes a bureau can defend (issue 11), on the presets under time skipping: holiday data that
arrives late, people who stay silent, a city step that comes late, overlapping years.

Each test runs on a time-skipping server of its own (``dated_stack``) whose clock starts on
1 November of next year, so the days counted are the same whatever day the tests run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from services.sim.people import Cast, PatientTemporalChannel, People
from shared.contracts.calendars import CalendarApplied, CalendarApplyResult
from shared.contracts.cycle import Actor, CycleGraded, CycleInput, ReviewPlan
from shared.contracts.registry import (
    BasePublic,
    BaseRegistration,
    RegisterBase,
    Reinstate,
    Reinstated,
)
from shared.contracts.workflow_names import cycle_id
from shared.domain.grading import Grade
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.reinstatement import record_reinstatement
from shared.rpc import RpcClient, RpcError
from tests.conftest import Stack
from tests.helpers import CITY, PROVINCE, demo_rules, fresh_year, record_history, until
from tests.integration import driver
from tests.integration.presets import apply_test_years, preset, register, this_year
from tests.integration.test_program_year import cycles, finish, launch
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow


async def year_events(stack: Stack, program: str, year: int, base: str | None = None) -> list[Any]:
    return [
        e for _, e in await read_events(stack.nc.jetstream(), event_filter(program, year, base))
    ]


async def wait_phase(handle: WorkflowHandle[Any, Any], phase: str) -> Any:
    return await until(
        lambda: handle.query(ProgramYearWorkflow.state),
        lambda s: s.phase == phase,
        f"the program year's {phase}",
    )


async def wait_stage(handle: WorkflowHandle[Any, Any], stage: Stage) -> Any:
    """The cycle's state once it reaches ``stage`` (signals and activities take real time)."""
    return await until(
        lambda: driver.state(handle), lambda s: s.stage == stage, f"the cycle's {stage}"
    )


async def apply_year(
    stack: Stack, rules: ProgramRules, handle: WorkflowHandle[Any, Any], year: int
) -> CalendarApplyResult:
    """What `navcycle calendar apply` does: store the year's table, then tell the running program
    year (the time-skipping server has no visibility listing, so the test signals it)."""
    applied = await apply_test_years(stack, rules, [year])
    await handle.signal(
        ProgramYearWorkflow.calendar_applied,
        CalendarApplied(calendar=applied.calendar, version=applied.version, years=applied.years),
    )
    return applied


async def test_an_inner_mongolia_year_is_final_only_once_next_years_holidays_are_known(
    dated_stack: Stack,
) -> None:
    """The year's deadlines reach into the next year, which no holiday table covers yet (as 2027
    today): they are provisional, the 公示 does not end on them, and once the bureau applies the
    next year's table they are counted again, recorded old and new, and the results become
    final."""
    stack = dated_stack
    rules = preset("inner-mongolia-nav-base", "im-provisional")
    await register(stack, rules, ["im-prov"], known_years=1)
    year = await this_year(stack)
    program_year = await launch(stack, rules, year, expected=1)
    handle = cycles(stack, rules, year, ["im-prov"])["im-prov"]
    await driver.to_implementing(stack, handle, rules)
    await driver.file_self_evaluation(stack, handle)
    state = await driver.state(handle)
    # Accepted on 1 November: never due before three months later, in the next year (counted
    # on weekends alone: provisional).
    info = state.deadline_info["self_evaluation"]
    assert info.provisional and info.last_day is not None and info.last_day.year == year + 1
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

    await apply_year(stack, rules, program_year, year + 1)
    final = await program_year.result()
    await record_history(program_year, "program-year-provisional-next-year")
    assert final.phase == "done" and not final.publication_provisional
    events = await year_events(stack, rules.id, year)
    recomputed = [e for e in events if e.type == "navcycle.deadline.recomputed"]
    publication = [e.data for e in recomputed if e.data["deadline"] == "publication"]
    assert len(publication) == 1
    assert publication[0]["from"]["provisional"] and not publication[0]["to"]["provisional"]
    finalized = next(e for e in events if e.type == "navcycle.results.finalized")
    assert finalized.time >= final.publication_until
    assert (await finish(stack, handle)).stage == Stage.CLOSED


def im_registration(base: str, domain: str) -> BaseRegistration:
    """A base as Inner Mongolia registers it: in the region, seed 000's conditions declared."""
    return BaseRegistration.model_validate(
        {
            "id": base,
            "name": f"基地 {base}",
            "region": "150100",
            "domain": domain,
            "host_type": "高校院所",
            "staff": {"total": 10, "senior_full_time": 3},
            "pct_minimum_data": True,
            "declarations": {
                k: {"affirmed": True, "evidence": ["ab" * 32]}
                for k in ("experience", "industry_base", "resources")
            },
        }
    )


async def register_base(stack: Stack, program: str, reg: BaseRegistration) -> BasePublic:
    return await RpcClient(stack.nc).call(
        "registry", "bases.register", RegisterBase(program=program, registration=reg), BasePublic
    )


async def reinstate(stack: Stack, program: str, base: str) -> Reinstated:
    """What the province does through POST .../reinstate: the registry's change, then the
    event and the audit record."""
    done = await RpcClient(stack.nc).call(
        "registry",
        "bases.reinstate",
        Reinstate(
            program=program,
            base=base,
            reason="整改材料经复核属实，恢复基地资格",
            by="im-admin",
            at=await stack.env.get_current_time(),
        ),
        Reinstated,
    )
    await record_reinstatement(stack.nc.jetstream(), done, actor="im-admin", via="api")
    return done


async def refusal(call: Any) -> RpcError:
    with pytest.raises(RpcError) as info:
        await call
    return info.value


async def to_failed_review(
    stack: Stack, rules: ProgramRules, handles: dict[str, WorkflowHandle[Any, Any]], total: float
) -> None:
    """Plans filed and verified, reports filed, and every assigned expert scoring ``total``."""
    for handle in handles.values():
        await driver.to_implementing(stack, handle, rules, region="150100")
        await driver.file_self_evaluation(stack, handle)
    state = await driver.state(next(iter(handles.values())))
    await stack.env.sleep(state.deadlines["self_evaluation"] - await stack.env.get_current_time())
    await stack.env.sleep(timedelta(minutes=1))
    for handle in handles.values():
        for expert in (await driver.state(handle)).experts:
            await driver.score(handle, expert, driver.scores(rules, total))


async def test_inner_mongolia_a_base_delisted_in_year_one_ends_its_year_two_cycle(
    dated_stack: Stack,
) -> None:
    """Year 2 launches while two bases rectify year 1: their cycles are held (the preset's rule),
    end when the bases are de-listed, and nothing brings them back but a reinstatement, which the
    re-application ban delays, which is audited, and which one industry, one base can refuse."""
    stack = dated_stack
    rules = preset("inner-mongolia-nav-base", "im-overlap")
    await register(stack, rules, [])
    await register_base(stack, rules.id, im_registration("im-a", "生物医药"))
    await register_base(stack, rules.id, im_registration("im-b", "新能源"))
    year = await this_year(stack)
    first = await launch(stack, rules, year, expected=2)
    handles = cycles(stack, rules, year, ["im-a", "im-b"])
    await to_failed_review(stack, rules, handles, 40)
    until = (await wait_phase(first, "publication")).publication_until
    await stack.env.sleep(until - await stack.env.get_current_time() + timedelta(minutes=1))
    await wait_phase(first, "concluding")
    for handle in handles.values():
        assert (await driver.state(handle)).stage == Stage.RECTIFYING
    assert driver.base_status(stack, rules.id, "im-a") == "rectifying"

    second = await launch(stack, rules, year + 1, expected=2)
    later = cycles(stack, rules, year + 1, ["im-a", "im-b"])
    for handle in later.values():
        assert (await driver.state(handle)).stage == Stage.HELD
    taken = await refusal(register_base(stack, rules.id, im_registration("im-c", "生物医药")))
    assert taken.code == "domain_taken"

    for handle in handles.values():  # the rectification lapses: 摘牌
        assert (await finish(stack, handle)).stage == Stage.DELISTED
    await record_history(handles["im-a"], "cycle-im-delisted-ends-next-year")
    for base, handle in later.items():
        ended = await finish(stack, handle)
        assert ended.stage == Stage.ENDED and ended.grade is None, base
    await record_history(later["im-a"], "cycle-im-ended-by-delisting")
    assert driver.base_status(stack, rules.id, "im-a") == "delisted"
    ended_events = [
        e for e in await year_events(stack, rules.id, year + 1) if e.type == "navcycle.cycle.ended"
    ]
    assert {e.base for e in ended_events} == {"im-a", "im-b"}
    assert all(e.data["delisted_in_year"] == year for e in ended_events)
    # The freed industry goes to another base only now; the ban runs from the de-listing (checked
    # before any wait on a result, which lets the test server skip far ahead when idle).
    assert (await register_base(stack, rules.id, im_registration("im-c", "生物医药"))).status
    banned = await refusal(reinstate(stack, rules.id, "im-b"))
    assert banned.code == "reapplication_ban_running"
    assert (await second.result()).excluded == 2
    await stack.env.sleep(timedelta(days=366))
    back = await reinstate(stack, rules.id, "im-b")
    assert back.status == "active" and driver.base_status(stack, rules.id, "im-b") == "active"
    audits = [
        e
        for _, e in await read_events(
            stack.nc.jetstream(), event_filter(rules.id, None, "im-b", "operator.action")
        )
        if e.type == "navcycle.operator.action" and e.base == "im-b"
    ]
    assert [a.data["action"] for a in audits] == ["base.reinstate"]
    assert audits[0].data["reason"] == "整改材料经复核属实，恢复基地资格"
    assert (await refusal(reinstate(stack, rules.id, "im-a"))).code == "domain_taken"
    assert (await first.result()).phase == "done"

    third = await launch(stack, rules, year + 2, expected=2)
    for base, expected in (("im-a", False), ("im-b", True), ("im-c", True)):
        try:
            await stack.client.get_workflow_handle(cycle_id(rules.id, year + 2, base)).describe()
            opened = True
        except RPCError as exc:
            assert exc.status == RPCStatusCode.NOT_FOUND
            opened = False
        assert opened == expected, base
    await third.terminate("the third year only shows who got a cycle")


async def test_henan_overlapping_years_run_side_by_side_and_a_failing_base_stays_listed(
    dated_stack: Stack,
) -> None:
    """Seed 004 has no rectification or de-listing: the next year opens while the year before is
    still in its 验收, a failing base is not designated (and not de-listed), and its next cycle
    runs on."""
    stack = dated_stack
    rules = preset("henan-nav-base", "hn-overlap")
    await register(stack, rules, ["hn-a", "hn-b"])
    year = await this_year(stack)
    first = await launch(stack, rules, year, expected=2)
    handles = cycles(stack, rules, year, ["hn-a", "hn-b"])
    for handle in handles.values():
        await driver.to_implementing(stack, handle, rules)
        await driver.file_self_evaluation(stack, handle)
    second = await launch(stack, rules, year + 1, expected=2)  # the next year's notice
    later = cycles(stack, rules, year + 1, ["hn-a", "hn-b"])
    for handle in later.values():
        assert (await driver.state(handle)).stage == Stage.PLAN_FILING
    state = await driver.state(handles["hn-a"])
    await stack.env.sleep(state.deadlines["self_evaluation"] - await stack.env.get_current_time())
    await stack.env.sleep(timedelta(minutes=1))
    for base, handle in handles.items():
        for expert in (await driver.state(handle)).experts:
            await driver.score(handle, expert, driver.scores(rules, 40 if base == "hn-a" else 80))
    assert (await first.result()).phase == "done"
    failed = await finish(stack, handles["hn-a"])
    assert failed.stage == Stage.CLOSED and failed.final_grade == "fail"
    assert driver.base_status(stack, rules.id, "hn-a") == "active"
    published = next(
        e.data
        for e in await year_events(stack, rules.id, year, "_")
        if e.type == "navcycle.results.published"
    )
    outcomes = {e["base"]: e["outcome"] for e in published["entries"]}
    assert outcomes == {"hn-a": "fail_final", "hn-b": "designated"}
    assert (await driver.state(later["hn-a"])).stage != Stage.ENDED
    # Nobody files in year 2 here: both run their own course (overdue, not designated).
    assert (await second.result()).graded == 2


async def test_a_silent_city_officer_and_expert_do_not_hold_back_the_inner_mongolia_year(
    dated_stack: Stack,
) -> None:
    """The city stays silent after its escalation: the province takes the step (the preset's
    rule) late, and the self-evaluation moves with the acceptance, so the base is not failed for
    the delay. One expert stays silent: the place goes to the next on the roster. The year
    reaches 公示 and final results."""
    stack = dated_stack
    rules = preset("inner-mongolia-nav-base", "im-silent")
    await register(stack, rules, ["im-quiet", "im-busy"])
    year = await this_year(stack)
    program_year = await launch(stack, rules, year, expected=2)
    handles = cycles(stack, rules, year, ["im-quiet", "im-busy"])
    quiet, busy = handles["im-quiet"], handles["im-busy"]
    await driver.to_implementing(stack, busy, rules)
    await driver.file_plan(stack, quiet, b"%PDF-1.4 quiet plan")
    review_due = (await driver.state(quiet)).deadlines["plan_review"]
    await stack.env.sleep(review_due - await stack.env.get_current_time() + timedelta(hours=1))
    taken = await driver.state(quiet)
    assert taken.stage == Stage.PLAN_REVIEW and taken.step_taken_by == "province"
    refused = await plan_review_refusal(
        quiet, ReviewPlan(step="city", decision="approve", actor=CITY)
    )
    assert refused.type == "step_taken_over"
    await quiet.execute_update(
        AnnualCycleWorkflow.review_plan,
        ReviewPlan(
            step="city",
            decision="approve",
            reviewer="im-admin",
            taken_over=True,
            reason="盟市局逾期未核实，由自治区局代为核实",
            actor=PROVINCE,
        ),
    )
    await driver.review(quiet, "province")
    accepted = await driver.state(quiet)
    assert accepted.stage == Stage.IMPLEMENTING
    moved = [h for h in accepted.history if h.event == "deadline.moved"]
    assert moved and moved[0].detail["reason"] == "plan_accepted_late"
    assert (
        accepted.deadlines["self_evaluation"]
        > (await driver.state(busy)).deadlines["self_evaluation"]
    )
    for handle in handles.values():
        await driver.file_self_evaluation(stack, handle)

    await stack.env.sleep(
        accepted.deadlines["self_evaluation"] - await stack.env.get_current_time()
    )
    await stack.env.sleep(timedelta(minutes=1))
    quiet_experts = (await driver.state(quiet)).experts
    for handle in handles.values():
        experts = (await driver.state(handle)).experts
        for expert in experts if handle is busy else experts[:-1]:
            await driver.score(handle, expert, driver.scores(rules, 80))
    silent = quiet_experts[-1]
    review_due = (await driver.state(quiet)).deadlines["review"]
    await stack.env.sleep(review_due - await stack.env.get_current_time() + timedelta(hours=1))
    reassigned = await driver.state(quiet)
    assert silent not in reassigned.experts and len(reassigned.experts) == 3
    newcomer = next(e for e in reassigned.experts if e not in quiet_experts)
    await driver.score(quiet, newcomer, driver.scores(rules, 80))

    final = await program_year.result()
    await record_history(quiet, "cycle-im-silent-city-and-expert")
    assert final.phase == "done" and final.graded == 2
    types = [e.type for e in await year_events(stack, rules.id, year, "im-quiet")]
    for expected in ("plan.step_taken_over", "deadline.moved", "expert.reassigned"):
        assert f"navcycle.{expected}" in types
    year_types = [e.type for e in await year_events(stack, rules.id, year, "_")]
    assert "navcycle.results.finalized" in year_types
    assert (await finish(stack, quiet)).stage == Stage.CLOSED
    assert (await driver.state(quiet)).final_grade == "pass"


async def cycle_input(handle: WorkflowHandle[Any, Any]) -> CycleInput:
    """The cycle's input, as its history holds it (what an insider could read)."""
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    return CycleInput.model_validate_json(started.input.payloads[0].data)


async def plan_review_refusal(handle: WorkflowHandle[Any, Any], req: ReviewPlan) -> Any:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(AnnualCycleWorkflow.review_plan, req)
    return info.value.cause


async def henan_under_review(
    stack: Stack, rules: ProgramRules, base: str
) -> tuple[WorkflowHandle[Any, Any], WorkflowHandle[Any, Any], int]:
    """A Henan year of one base that filed its plan (备案: accepted when filed) and its report,
    an hour past the self-evaluation deadline: its review is open. The program year, the cycle
    and the year."""
    await register(stack, rules, [base])
    year = await this_year(stack)
    program_year = await launch(stack, rules, year, expected=1)
    handle = cycles(stack, rules, year, [base])[base]
    await driver.file_plan(stack, handle, b"%PDF-1.4 henan plan")
    assert (await driver.state(handle)).stage == Stage.IMPLEMENTING
    await driver.file_self_evaluation(stack, handle)
    due = (await driver.state(handle)).deadlines["self_evaluation"]
    await stack.env.sleep(due - await stack.env.get_current_time() + timedelta(hours=1))
    return program_year, handle, year


async def test_a_silent_expert_does_not_hold_back_the_henan_year_and_designation_follows(
    dated_stack: Stack,
) -> None:
    """Henan files plans for the record (no city step to fall silent); one expert stays silent:
    the place goes to the next on the roster, the year reaches its final results, and the
    designated base files its new plan within a month of the approval (验收)."""
    stack = dated_stack
    rules = preset("henan-nav-base", "hn-silent")
    program_year, handle, year = await henan_under_review(stack, rules, "hn-quiet")
    experts = (await driver.state(handle)).experts
    for expert in experts[:-1]:
        await driver.score(handle, expert, driver.scores(rules, 90))
    review_due = (await driver.state(handle)).deadlines["review"]
    await stack.env.sleep(review_due - await stack.env.get_current_time() + timedelta(hours=1))
    reassigned = (await driver.state(handle)).experts
    assert experts[-1] not in reassigned and len(reassigned) == len(experts)
    newcomer = next(e for e in reassigned if e not in experts)
    await driver.score(handle, newcomer, driver.scores(rules, 90))

    until = (await wait_phase(program_year, "publication")).publication_until
    await stack.env.sleep(until - await stack.env.get_current_time() + timedelta(hours=1))
    designated = await wait_stage(handle, Stage.PLAN_FILING)
    assert designated.outcome == "designated"
    plan_due = designated.deadline_info["plan"]
    assert plan_due.spec == "P1M" and plan_due.last_day is not None
    receipt = await driver.file_plan(stack, handle, b"%PDF-1.4 henan plan as a provincial base")
    assert receipt.version == 2
    outcome = await finish(stack, handle)
    await record_history(handle, "cycle-henan-silent-expert-designated")
    assert outcome.stage == Stage.CLOSED and outcome.final_grade in ("pass", "excellent")
    final = await program_year.result()
    assert final.phase == "done"
    types = [e.type for e in await year_events(stack, rules.id, year, "hn-quiet")]
    assert "navcycle.expert.reassigned" in types and "navcycle.base.designated" in types


async def test_a_change_after_publication_that_no_objection_asked_for_is_published(
    stack: Stack,
) -> None:
    """An operator's reset re-grades a cycle during 公示 (here its report, sent as the re-run
    cycle sends it): the program year publishes a supplementary notice with the entry marked
    corrected, never silently."""
    rules = demo_rules(id="reset-story", verification=[], calendar__publication_period="PT1H")
    driver.register(stack, rules, ["rs-1"])
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=1)
    handle = cycles(stack, rules, year, ["rs-1"])["rs-1"]
    await driver.file_plan(stack, handle, b"%PDF-1.4 reset story")
    await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=70))
    for expert in (await driver.state(handle)).experts:
        await driver.score(handle, expert, driver.scores(rules, 80))
    await wait_phase(program_year, "publication")
    # What the re-run cycle sends: its grade, with the secret its program year gave it.
    regraded = CycleGraded(
        base="rs-1",
        total=55.0,
        grade=Grade.FAIL,
        name="基地 rs-1",
        region="410100",
        secret=(await cycle_input(handle)).parent_secret,
    )
    await program_year.signal(ProgramYearWorkflow.cycle_graded, regraded)

    async def corrections() -> list[Any]:
        events = await year_events(stack, rules.id, year, "_")
        return [e.data for e in events if e.type == "navcycle.results.corrected"]

    notices = await until(corrections, bool, "a results.corrected notice")
    assert [n["corrected"] for n in notices] == [["rs-1"]] and notices[0]["notice"] == 2
    (entry,) = notices[0]["entries"]
    assert (entry["total"], entry["grade"], entry["corrected"]) == (55.0, "fail", True)
    # To the end in virtual time (terminating would leak the test server's time-skip lock).
    assert (await program_year.result()).notices == 3  # and the outcomes' notice


async def test_the_simulators_experts_follow_a_place_given_away_while_they_were_slow(
    dated_stack: Stack,
) -> None:
    """The simulator at scale (services/sim/people.py): the last expert scores only after the
    review's window has run out, so the place has gone to the next on the roster and the cycle
    refuses that expert (not_assigned). The simulated experts look the review up again and the
    newcomer scores: the review is graded, not left waiting."""
    stack = dated_stack
    rules = preset("henan-nav-base", "hn-slow")
    _, handle, year = await henan_under_review(stack, rules, "hn-slow")
    first = (await driver.state(handle)).experts
    slow = first[rules.rubric.experts_required - 1]

    class TooSlow(PatientTemporalChannel):
        async def submit_score(
            self, base: str, actor: Actor, scores: dict[str, float], vetoes: list[str], key: str
        ) -> Any:
            if actor.name == slow:  # the window runs out first
                review_due = (await self.state(base)).deadlines["review"]
                now = await stack.env.get_current_time()
                await stack.env.sleep(review_due - now + timedelta(hours=1))
            return await super().submit_score(base, actor, scores, vetoes, key)

    people = People(TooSlow(lambda _: handle, stack.objects, prefix="slow"), rules, Cast())
    await people.score("hn-slow", 90)

    after = await driver.state(handle)
    assert slow not in after.experts
    newcomer = next(e for e in after.experts if e not in first)
    assert len(after.decisions) == 1 and after.decisions[0].grade == Grade.EXCELLENT
    events = await year_events(stack, rules.id, year, "hn-slow")
    scored = [e.data["expert"] for e in events if e.type == "navcycle.review.scored"]
    assert scored == [*first[: rules.rubric.experts_required - 1], newcomer]
    # Once, by the cycle (the assessment service says it too, place by place).
    by_cycle = [e for e in events if e.type == "navcycle.expert.reassigned" and "experts" in e.data]
    assert [e.data["replaced"] for e in by_cycle] == [[slow]]
