"""Authority inside the cycle (issue 12): inputs sent straight to Temporal, bypassing the
gateway, are judged by the workflow against its own state: who acts, in which role, for which
base, and whether an expert is assigned to the review; a grade signal from outside the program
year is ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from shared.contracts.cycle import Actor, CycleGraded, FilePlan, FinalGrade, ReviewPlan, SubmitScore
from shared.domain.grading import Grade
from shared.domain.stages import Stage
from tests.conftest import Stack
from tests.helpers import CITY, demo_rules, expert_actor, fresh_year, upload
from tests.integration import driver
from tests.integration.test_program_year import cycles, launch
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow


async def refusal(call: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def _year(stack: Stack, program: str) -> tuple[Any, WorkflowHandle[Any, Any]]:
    rules = demo_rules(id=program, rubric__experts_required=2)
    driver.register(stack, rules, ["au-1", "au-2"])
    year = fresh_year()
    program_year = await launch(stack, rules, year, expected=2)
    return program_year, cycles(stack, rules, year, ["au-1"])["au-1"]


async def test_forged_filings_and_plan_reviews_are_refused_by_the_cycle(stack: Stack) -> None:
    program_year, handle = await _year(stack, "authority-a")
    doc = await upload(stack.objects, "plan", b"%PDF-1.4 forged", year=1)
    forged = [
        (FilePlan(upload=doc, targets=driver.TARGETS), "actor_required"),
        (
            FilePlan(
                upload=doc,
                targets=driver.TARGETS,
                actor=Actor(name="staff-au-2", role="base_user", base="au-2"),
            ),
            "not_your_role",
        ),
        (
            FilePlan(upload=doc, targets=driver.TARGETS, actor=Actor(name="x", role="expert")),
            "not_your_role",
        ),
    ]
    for request, code in forged:
        refused = await refusal(handle.execute_update(AnnualCycleWorkflow.file_plan, request))
        assert refused.type == code, request
    assert (await driver.state(handle)).documents == []

    await driver.file_plan(stack, handle, b"%PDF-1.4 the base's own plan")
    wrong_city = Actor(name="city-ly", role="city_officer", region="410300")
    for actor in (wrong_city, Actor(name="staff", role="base_user", base="au-1"), None):
        refused = await refusal(
            handle.execute_update(
                AnnualCycleWorkflow.review_plan,
                ReviewPlan(step="city", decision="approve", actor=actor),
            )
        )
        assert refused.type in ("not_your_role", "actor_required"), actor
    pending = await driver.state(handle)
    assert pending.stage == Stage.PLAN_REVIEW and pending.verification_step == "city"
    not_province = Actor(name="city-zz", role="city_officer", region="410100")
    await handle.execute_update(
        AnnualCycleWorkflow.review_plan, ReviewPlan(step="city", decision="approve", actor=CITY)
    )
    refused = await refusal(
        handle.execute_update(
            AnnualCycleWorkflow.review_plan,
            ReviewPlan(step="province", decision="approve", actor=not_province),
        )
    )
    assert refused.type == "not_your_role"
    await driver.review(handle, "province")
    # To the end in virtual time (terminating would leak the test server's time-skip lock).
    await program_year.result()


async def test_a_score_from_an_unassigned_expert_or_in_anothers_name_is_refused(
    stack: Stack,
) -> None:
    rules = demo_rules(id="authority-b", rubric__experts_required=2)
    driver.register(stack, rules, ["au-1"])
    year = fresh_year()
    now = await stack.env.get_current_time()
    handle = await start(stack, rules, year, now)
    await driver.to_implementing(stack, handle, rules)
    await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    state = await driver.state(handle)
    assert state.stage == Stage.UNDER_REVIEW and len(state.experts) == 2
    outsider = next(e for e in driver.EXPERTS if e not in state.experts)
    values = driver.scores(rules, 90)
    refused = await refusal(
        handle.execute_update(
            AnnualCycleWorkflow.submit_score,
            SubmitScore(expert=outsider, scores=values, actor=expert_actor(outsider)),
        )
    )
    assert refused.type == "not_assigned"
    assigned = state.experts[0]
    refused = await refusal(
        handle.execute_update(
            AnnualCycleWorkflow.submit_score,
            SubmitScore(expert=assigned, scores=values, actor=expert_actor(outsider)),
        )
    )
    assert refused.type == "not_your_role"
    refused = await refusal(
        handle.execute_update(
            AnnualCycleWorkflow.submit_score,
            SubmitScore(
                expert=assigned, scores=values, actor=Actor(name=assigned, role="base_user")
            ),
        )
    )
    assert refused.type == "not_your_role"
    after = await driver.state(handle)
    assert after.scores_received == 0 and after.stage == Stage.UNDER_REVIEW
    for expert in state.experts:
        await driver.score(handle, expert, values)
    assert (await handle.result()).grade in ("pass", "excellent")


async def test_a_grade_signal_from_outside_the_program_year_is_ignored(stack: Stack) -> None:
    program_year, handle = await _year(stack, "authority-c")
    forged = CycleGraded(base="au-1", total=99.0, grade=Grade.EXCELLENT, name="x", region="410100")
    await program_year.signal(ProgramYearWorkflow.cycle_graded, forged)
    await handle.signal(
        AnnualCycleWorkflow.finalize,
        FinalGrade(grade=Grade.EXCELLENT, finalized_at=datetime.now(UTC), secret="guessed"),
    )
    year = await program_year.query(ProgramYearWorkflow.state)
    assert year.graded == 0, "a forged grade reached the program year"
    state = await driver.state(handle)
    assert state.final_grade is None and state.stage == Stage.PLAN_FILING
    await program_year.result()  # both plans missed: overdue fails, whatever was forged
    assert (await driver.state(handle)).final_grade == Grade.FAIL


async def start(stack: Stack, rules: Any, year: int, now: datetime) -> WorkflowHandle[Any, Any]:
    from tests.helpers import start_cycle

    return await start_cycle(stack.client, stack.task_queue, rules, year, "au-1", launched_at=now)
