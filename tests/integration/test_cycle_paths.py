"""Every path of AnnualCycleWorkflow under time skipping, with the events it publishes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from services.assessment import store as assessment_store
from shared.contracts.cycle import ExtendDeadline
from shared.db import session_scope
from shared.domain.grading import recompute
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from tests.conftest import Stack
from tests.helpers import PROVINCE, demo_rules, event_types, fresh_year, record_history, start_cycle
from tests.integration import driver
from workflows.cycle import AnnualCycleWorkflow


async def _launch(stack: Stack, **changes: object):  # type: ignore[no-untyped-def]
    year, rules = fresh_year(), demo_rules(**changes)
    driver.register(stack, rules, ["zz-biomed"])
    now = await stack.env.get_current_time()
    handle = await start_cycle(stack.client, stack.task_queue, rules, year, launched_at=now)
    return year, rules, handle


async def _rejection(call) -> ApplicationError:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def _to_review(stack: Stack, handle, rules) -> None:  # type: ignore[no-untyped-def]
    await driver.to_implementing(stack, handle, rules)
    await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    assert (await driver.state(handle)).stage == Stage.UNDER_REVIEW


async def test_returned_plan_is_refiled_and_then_accepted(stack: Stack) -> None:
    year, rules, handle = await _launch(stack)
    await driver.file_plan(stack, handle, b"%PDF-1.4 v1")
    assert await driver.review(handle, "city", "return", "目标需量化") == Stage.PLAN_FILING
    second = await driver.file_plan(stack, handle, b"%PDF-1.4 v2")
    assert second.version == 2
    wrong = await _rejection(driver.review(handle, "province"))
    assert wrong.type == "wrong_stage" and "city" in wrong.message
    await driver.approve_all(handle, rules)
    state = await driver.state(handle)
    assert state.stage == Stage.IMPLEMENTING and [d.version for d in state.documents] == [1, 2]
    assert await event_types(stack.nc.jetstream(), rules.id, year) == [
        "cycle.opened",
        "plan.filed",
        "plan.returned",
        "plan.filed",
        "plan.verified",
        "plan.verified",
        "plan.accepted",
    ]
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)


async def test_plan_overdue_can_exclude_the_base(stack: Stack) -> None:
    year, rules, handle = await _launch(stack, outcomes__plan_overdue="exclude")
    outcome = await handle.result()
    await record_history(handle, "cycle-plan-overdue-excluded")
    assert outcome.stage == Stage.EXCLUDED and outcome.grade is None
    types = await event_types(stack.nc.jetstream(), rules.id, year)
    assert types[-3:] == ["reminder.sent", "plan.overdue", "cycle.excluded"]


async def test_missed_self_evaluation_fails_and_orders_rectification(stack: Stack) -> None:
    year, rules, handle = await _launch(stack)
    await driver.to_implementing(stack, handle, rules)
    # Past the due time and the arrival grace (a tenth of the 60 s period).
    await stack.env.sleep(timedelta(seconds=67))
    state = await driver.state(handle)
    assert state.stage == Stage.RECTIFYING and state.grade == "fail"
    assert state.decisions[0].reason == "self_evaluation_overdue"
    types = await event_types(stack.nc.jetstream(), rules.id, year)
    assert types[-3:] == ["selfeval.overdue", "review.graded", "rectification.ordered"]
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)


async def test_a_veto_fails_a_perfect_score(stack: Stack) -> None:
    _, rules, handle = await _launch(stack)
    await _to_review(stack, handle, rules)
    receipt = await driver.score(handle, "e1", driver.scores(rules, 100), ["false_materials"])
    assert receipt.decision is not None
    assert receipt.decision.total == 100 and receipt.decision.grade == "fail"
    assert (await driver.state(handle)).stage == Stage.RECTIFYING
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)


async def test_bad_scores_are_refused_with_every_reason(stack: Stack) -> None:
    _, rules, handle = await _launch(stack)
    await _to_review(stack, handle, rules)
    error = await _rejection(driver.score(handle, "e1", {"report_quality": 101}, ["nonsense"]))
    assert error.type == "invalid_scores"
    assert "missing indicators" in error.message and "unknown veto items: nonsense" in error.message
    assert (await driver.state(handle)).scores_received == 0
    await driver.score(handle, "e1", driver.scores(rules, 70))
    assert (
        await handle.result()
    ).grade == "pass"  # to the end in virtual time (terminating leaks a time-skip lock)


async def test_failed_base_that_rectifies_is_closed_and_stays_listed(stack: Stack) -> None:
    year, rules, handle = await _launch(stack)
    await _to_review(stack, handle, rules)
    await driver.score(handle, "e1", driver.scores(rules, 40))
    await driver.file_rectification(stack, handle)
    assert driver.base_status(stack, rules.id, "zz-biomed") == "rectifying"
    state = await driver.state(handle)
    assert state.stage == Stage.UNDER_REVIEW and state.round == 1
    receipt = await driver.score(handle, "e1", driver.scores(rules, 75))
    assert receipt.decision is not None and receipt.decision.round == 1
    outcome = await handle.result()
    await record_history(handle, "cycle-fail-then-rectified")
    assert outcome.stage == Stage.CLOSED and outcome.grade == "fail"
    assert driver.base_status(stack, rules.id, "zz-biomed") == "active"
    types = await event_types(stack.nc.jetstream(), rules.id, year)
    assert types[-7:] == [
        "rectification.ordered",
        "rectification.filed",
        "review.opened",
        "review.scored",
        "review.graded",
        "rectification.passed",
        "cycle.closed",
    ]


async def test_failed_base_that_does_not_rectify_is_delisted(stack: Stack) -> None:
    year, rules, handle = await _launch(stack)
    await _to_review(stack, handle, rules)
    await driver.score(handle, "e1", driver.scores(rules, 30))
    outcome = await handle.result()
    await record_history(handle, "cycle-fail-then-delisted")
    assert outcome.stage == Stage.DELISTED
    assert driver.base_status(stack, rules.id, "zz-biomed") == "delisted"
    types = await event_types(stack.nc.jetstream(), rules.id, year)
    assert types[-2:] == ["rectification.failed", "base.delisted"]
    driver.register(stack, rules, [])  # keep the registry as is for later tests


async def test_reminder_fires_at_its_offset_before_the_deadline(stack: Stack) -> None:
    year, rules, handle = await _launch(stack)
    due = (await driver.state(handle)).deadlines["plan"]
    await stack.env.sleep(timedelta(seconds=16))
    events = await read_events(
        stack.nc.jetstream(), event_filter(rules.id, year, "zz-biomed", "reminder.sent")
    )
    assert len(events) == 1
    reminder = events[0][1]
    assert reminder.data["deadline"] == "plan"
    assert abs((reminder.time - (due - timedelta(seconds=5))).total_seconds()) < 1
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)


async def test_extended_deadline_lets_a_late_plan_in(stack: Stack) -> None:
    year, rules, handle = await _launch(stack)
    due = (await driver.state(handle)).deadlines["plan"]
    too_early = ExtendDeadline(
        deadline="plan", until=due - timedelta(seconds=1), reason="x", actor=PROVINCE
    )
    error = await _rejection(handle.execute_update(AnnualCycleWorkflow.extend_deadline, too_early))
    assert error.type == "invalid_extension"
    extension = ExtendDeadline(
        deadline="plan",
        until=due + timedelta(seconds=60),
        reason="系统故障顺延",
        by="province",
        actor=PROVINCE,
    )
    await handle.execute_update(AnnualCycleWorkflow.extend_deadline, extension)
    await stack.env.sleep(timedelta(seconds=30))
    receipt = await driver.file_plan(stack, handle)
    assert receipt.version == 1
    events = await read_events(
        stack.nc.jetstream(), event_filter(rules.id, year, "zz-biomed", "deadline.extended")
    )
    assert events[0][1].data["reason"] == "系统故障顺延"
    await driver.approve_all(handle, rules)
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)
    await record_history(handle, "cycle-deadline-extended")


async def test_several_experts_are_averaged_and_the_grade_recomputes(stack: Stack) -> None:
    _, rules, handle = await _launch(stack, rubric__experts_required=2)
    await _to_review(stack, handle, rules)
    # By name, not "eN": the roster assigns in turn, so the review may hold e2 and e3.
    one, two = (await driver.state(handle)).experts
    first = await driver.score(handle, one, driver.scores(rules, 80))
    assert not first.graded
    again = await _rejection(driver.score(handle, one, driver.scores(rules, 80)))
    assert again.type == "already_scored"
    second = await driver.score(handle, two, driver.scores(rules, 90))
    record = second.decision
    assert record is not None and record.total == 85 and record.grade == "excellent"
    assert recompute(record) == (record.total, record.grade)
    assert record.evidence_sha256 and record.completion == {"patents": 1.1}
    await handle.result()  # to the end in virtual time (terminating leaks a time-skip lock)


async def test_a_review_waits_for_a_long_enough_roster_and_says_so(stack: Stack) -> None:
    """Three experts required, one on the roster: the review does not open short; the province
    is told each day, and the review opens once the roster is long enough."""
    year, rules = fresh_year(), demo_rules(id="short-roster", rubric__experts_required=3)
    driver.register(stack, rules, ["sr-1"])
    with session_scope(stack.assessment_db) as session:
        for expert in driver.EXPERTS[1:]:
            assessment_store.remove_expert(session, program=rules.id, expert=expert)
    now = await stack.env.get_current_time()
    handle = await start_cycle(stack.client, stack.task_queue, rules, year, "sr-1", launched_at=now)
    await driver.to_implementing(stack, handle, rules)
    await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(days=2))
    state = await driver.state(handle)
    assert state.stage == Stage.IMPLEMENTING and state.experts == []
    told = [h.detail for h in state.history if h.detail.get("reason") == "roster_too_short"]
    assert len(told) >= 2 and all(t["to"] == "province" for t in told)
    assert "3" in told[0]["message"]
    with session_scope(stack.assessment_db) as session:
        for expert in ("e2", "e3"):
            assessment_store.add_expert(session, program=rules.id, expert=expert)
    await stack.env.sleep(timedelta(days=1))
    opened = await driver.state(handle)
    assert opened.stage == Stage.UNDER_REVIEW and sorted(opened.experts) == ["e1", "e2", "e3"]
    for expert in opened.experts:
        await driver.score(handle, expert, driver.scores(rules, 80))
    assert (await handle.result()).grade == "pass"
