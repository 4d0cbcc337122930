"""The thin slice under time skipping: open, file the plan, verify, report, score, grade, close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from shared.contracts.cycle import FilePlan, FileSelfEvaluation, ReviewPlan, SubmitScore, Target
from shared.domain.stages import Stage
from tests.conftest import Stack
from tests.helpers import (
    base_actor,
    demo_rules,
    event_types,
    expert_actor,
    fresh_year,
    record_history,
    start_cycle,
    step_actor,
    upload,
)
from tests.integration import driver
from workflows.cycle import AnnualCycleWorkflow

TARGETS = [Target(key="patents", name="新增发明专利", target=30, unit="件")]
GOOD = {"report_quality": 90, "database": 80, "application": 88, "conditions": 85, "reporting": 100}


async def _launch(stack: Stack, **rule_changes: object):  # type: ignore[no-untyped-def]
    year = fresh_year()
    rules = demo_rules(**rule_changes)
    driver.register(stack, rules, ["zz-biomed"])  # and the expert roster a review needs
    now = await stack.env.get_current_time()
    handle = await start_cycle(stack.client, stack.task_queue, rules, year, launched_at=now)
    return year, rules, handle


async def test_plan_to_closed_cycle_publishes_each_step(stack: Stack) -> None:
    year, rules, handle = await _launch(stack)
    plan = await upload(stack.objects, "plan", year=year)
    receipt = await handle.execute_update(
        AnnualCycleWorkflow.file_plan,
        FilePlan(upload=plan, targets=TARGETS, actor=base_actor("zz-biomed")),
    )
    assert receipt.sha256 == plan.sha256 and receipt.version == 1
    for step in ("city", "province"):
        await handle.execute_update(
            AnnualCycleWorkflow.review_plan,
            ReviewPlan(step=step, decision="approve", actor=step_actor(step)),
        )
    report = await upload(stack.objects, "self_evaluation", b"%PDF-1.4 report", year=year)
    await handle.execute_update(
        AnnualCycleWorkflow.file_self_evaluation,
        FileSelfEvaluation(upload=report, actuals={"patents": 33}, actor=base_actor("zz-biomed")),
    )
    await stack.env.sleep(timedelta(seconds=61))
    assert (await handle.query(AnnualCycleWorkflow.state)).stage == Stage.UNDER_REVIEW

    expert = await driver.assigned(handle, "e1")
    receipt = await handle.execute_update(
        AnnualCycleWorkflow.submit_score,
        SubmitScore(expert=expert, scores=GOOD, actor=expert_actor(expert)),
    )
    record = receipt.decision
    outcome = await handle.result()
    await record_history(handle, "cycle-happy-path")
    assert record is not None and record.total == 87.4 and record.grade == "excellent"
    assert record.completion == {"patents": 1.1}
    assert outcome.stage == Stage.CLOSED and outcome.grade == "excellent"
    assert await event_types(stack.nc.jetstream(), rules.id, year) == [
        "cycle.opened",
        "plan.filed",
        "plan.verified",
        "plan.verified",
        "plan.accepted",
        "selfeval.filed",
        "review.opened",
        "review.scored",
        "review.graded",
        "cycle.closed",
    ]


async def test_late_plan_is_rejected_with_deadline_passed(stack: Stack) -> None:
    year, _rules, handle = await _launch(stack)
    await stack.env.sleep(timedelta(seconds=25))
    plan = await upload(stack.objects, "plan", year=year)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(
            AnnualCycleWorkflow.file_plan,
            FilePlan(upload=plan, targets=TARGETS, actor=base_actor("zz-biomed")),
        )
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "deadline_passed"
    assert "plan deadline passed" in cause.message
    state = await handle.query(AnnualCycleWorkflow.state)
    assert state.documents == []
    assert state.stage == Stage.RECTIFYING and state.grade == "fail"
    assert state.decisions[0].reason == "plan_overdue"
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)


async def test_duplicate_plan_is_rejected(stack: Stack) -> None:
    year, _rules, handle = await _launch(stack)
    plan = await upload(stack.objects, "plan", year=year)
    await handle.execute_update(
        AnnualCycleWorkflow.file_plan,
        FilePlan(upload=plan, targets=TARGETS, actor=base_actor("zz-biomed")),
    )
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(
            AnnualCycleWorkflow.file_plan,
            FilePlan(upload=plan, targets=TARGETS, actor=base_actor("zz-biomed")),
        )
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.type == "duplicate_filing"
    for step in ("city", "province"):
        await handle.execute_update(
            AnnualCycleWorkflow.review_plan,
            ReviewPlan(step=step, decision="approve", actor=step_actor(step)),
        )
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)
