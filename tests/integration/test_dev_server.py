"""On the Temporal dev server: search attributes kept current, and the yearly Schedule."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts.cycle import FilePlan, FileSelfEvaluation
from shared.contracts.program_year import LaunchRequest, LaunchResult
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.schedules import ensure_program_schedule, iana_zone, schedule_id
from shared.starters import start_program_year
from tests.conftest import DevStack, Stack
from tests.helpers import base_actor, demo_rules, until, upload
from tests.integration import driver
from workflows.activities import CycleActivities
from workflows.cycle import AnnualCycleWorkflow
from workflows.launch import LaunchYearWorkflow
from workflows.worker import build_worker


async def _listed(client: Client, query: str, expected: int) -> list[str]:
    async def listed() -> list[str]:
        return [w.id async for w in client.list_workflows(query)]

    return await until(listed, lambda ids: len(ids) >= expected, query, every=0.2)


async def test_search_attributes_follow_stage_and_grade(stack: Stack, dev_stack: DevStack) -> None:
    rules = demo_rules(
        id="sa-demo",
        verification=[],
        calendar__plan_window="PT60S",
        calendar__self_evaluation_due="PT5S",
        calendar__publication_period="PT1S",
        calendar__reminders=[],
    )
    driver.register(stack, rules, ["s1"])
    year = datetime.now(UTC).year
    client = dev_stack.client
    status = await start_program_year(
        client, program=rules.id, year=year, task_queue=dev_stack.task_queue
    )
    assert status == "launched"
    cycle = client.get_workflow_handle_for(AnnualCycleWorkflow.run, cycle_id(rules.id, year, "s1"))
    listed = await _listed(
        client, f"NavProgram = 'sa-demo' AND NavYear = {year} AND NavStage = 'plan_filing'", 1
    )
    assert listed == [cycle.id]

    plan = await upload(stack.objects, "plan", b"%PDF-1.4 sa plan", year=year)
    await cycle.execute_update(
        AnnualCycleWorkflow.file_plan,
        FilePlan(upload=plan, targets=driver.TARGETS, actor=base_actor("s1")),
    )
    report = await upload(stack.objects, "self_evaluation", b"%PDF-1.4 sa report", year=year)
    await cycle.execute_update(
        AnnualCycleWorkflow.file_self_evaluation,
        FileSelfEvaluation(upload=report, actuals={"patents": 30}, actor=base_actor("s1")),
    )
    assert await _listed(client, "NavBase = 's1' AND NavStage = 'implementing'", 1) == [cycle.id]

    await until(lambda: driver.state(cycle), lambda s: s.stage == "under_review", every=0.2)
    await driver.score(cycle, "e1", driver.scores(rules, 90))
    outcome = await cycle.result()
    assert outcome.stage == "closed" and outcome.final_grade == "excellent"
    done = await _listed(
        client, "NavProgram = 'sa-demo' AND NavStage = 'closed' AND NavGrade = 'excellent'", 1
    )
    assert done == [cycle.id]
    py = await client.get_workflow_handle(program_year_id(rules.id, year)).result()
    assert py["graded"] == 1


async def test_yearly_schedule_launches_the_year_once(stack: Stack, dev_stack: DevStack) -> None:
    rules = demo_rules(id="sched-demo", calendar__launch="--03-01")
    driver.register(stack, rules, [])
    client = dev_stack.client
    sid = await ensure_program_schedule(client, rules, dev_stack.task_queue)
    assert sid == schedule_id(rules.id)
    again = await ensure_program_schedule(
        client, rules.model_copy(update={"name": "改名"}), dev_stack.task_queue
    )
    assert again == sid
    description = await client.get_schedule_handle(sid).describe()
    calendar = description.schedule.spec.calendars[0]
    assert (calendar.month[0].start, calendar.day_of_month[0].start, calendar.hour[0].start) == (
        3,
        1,
        0,
    )
    assert description.schedule.spec.time_zone_name == "Etc/GMT-8"
    next_run: Any = description.info.next_action_times[0]
    assert next_run.astimezone(UTC).strftime("%m-%d %H:%M") == "02-28 16:00"

    launch = LaunchRequest(
        program=rules.id, at=datetime(2027, 3, 1, 0, 0, 5, tzinfo=UTC) + timedelta(hours=-8)
    )
    results: list[LaunchResult] = []
    for n in range(2):
        results.append(
            await client.execute_workflow(
                LaunchYearWorkflow.run,
                launch,
                id=f"launch-test/{rules.id}/{n}",
                task_queue=dev_stack.task_queue,
            )
        )
    assert [r.status for r in results] == ["launched", "already_launched"]
    assert results[0].year == 2027 and results[0].workflow_id == program_year_id(rules.id, 2027)
    await client.get_schedule_handle(sid).delete()


async def test_the_scheduled_launch_keeps_the_year_size_too(
    stack: Stack, dev_stack: DevStack
) -> None:
    """The yearly Schedule launches through an activity, not the API: it refuses a program over
    ``max_bases_per_year`` active bases with the API's code, opens no program year, and is not
    retried; at the limit it launches."""
    rules = demo_rules(id="sched-size", calendar__launch="--03-01")
    driver.register(stack, rules, ["sz1", "sz2"])
    client = dev_stack.client
    launch = LaunchRequest(program=rules.id, at=datetime(2031, 3, 1, 8, tzinfo=UTC))

    async def launched_with(limit: int) -> LaunchResult:
        queue = f"size-{uuid.uuid4().hex[:8]}"
        acts = CycleActivities(
            EventPublisher(stack.nc.jetstream()),
            RpcClient(stack.nc),
            stack.objects,
            client,
            max_bases_per_year=limit,
        )
        async with build_worker(client, queue, acts):
            result: LaunchResult = await client.execute_workflow(
                LaunchYearWorkflow.run, launch, id=f"launch-size/{limit}", task_queue=queue
            )
            return result

    with pytest.raises(WorkflowFailureError) as failed:
        await launched_with(1)
    refused = failed.value.cause
    assert isinstance(refused, ActivityError) and isinstance(refused.cause, ApplicationError)
    assert refused.cause.type == "program_too_large" and refused.cause.non_retryable
    assert refused.cause.details == ({"size": 2, "limit": 1},)
    assert "在册基地 2 个" in refused.cause.message and "over the 1" in refused.cause.message
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(program_year_id(rules.id, 2031)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND

    assert (await launched_with(2)).status == "launched"


def test_whole_hour_offsets_map_to_zones() -> None:
    assert iana_zone("+08:00") == "Etc/GMT-8"
    assert iana_zone("+00:00") == "UTC"
    assert iana_zone("-05:00") == "Etc/GMT+5"


async def test_a_reset_with_a_reason_moves_a_cycle_back_and_it_completes(
    stack: Stack, dev_stack: DevStack, nats_url: str
) -> None:
    import json
    import os
    import subprocess
    import sys

    from shared.eventlog import read_events
    from shared.events.subjects import event_filter
    from tests.helpers import start_cycle

    rules = demo_rules(
        id="reset-demo",
        verification=[],
        calendar__reminders=[],
        calendar__self_evaluation_due="PT3S",
        calendar__review_window="PT60S",
        calendar__rectification_period="PT60S",
    )
    driver.register(stack, rules, ["zz-biomed"])
    client = dev_stack.client
    handle = await start_cycle(
        client, dev_stack.task_queue, rules, 2027, launched_at=datetime.now(UTC)
    )
    plan = await upload(stack.objects, "plan", b"%PDF-1.4 reset plan", year=2027)
    await handle.execute_update(
        AnnualCycleWorkflow.file_plan,
        FilePlan(upload=plan, targets=driver.TARGETS, actor=base_actor("zz-biomed")),
    )
    report = await upload(stack.objects, "self_evaluation", b"%PDF-1.4 reset report", year=2027)
    await handle.execute_update(
        AnnualCycleWorkflow.file_self_evaluation,
        FileSelfEvaluation(upload=report, actor=base_actor("zz-biomed")),
    )
    await until(lambda: driver.state(handle), lambda s: s.stage == "under_review", every=0.1)
    mistaken = await driver.score(handle, "e1", driver.scores(rules, 20))  # meant 80
    assert mistaken.decision is not None and mistaken.decision.grade == "fail"
    assert (await driver.state(handle)).stage == "rectifying"

    env = dict(os.environ, NAVCYCLE_TEMPORAL_ADDRESS=dev_stack.address, NAVCYCLE_NATS_URL=nats_url)
    argv = [
        sys.executable,
        "-m",
        "services.cli.main",
        "reset",
        "--workflow-id",
        handle.id,
        "--to",
        "under_review",
        "--reason",
        "专家误录分数 / scoring mistake",
        "--json",
    ]
    dry = await asyncio.to_thread(
        subprocess.run, [*argv, "--dry-run"], env=env, capture_output=True, text=True
    )
    assert dry.returncode == 0 and json.loads(dry.stdout)[0]["status"] == "would reset", dry.stderr
    assert (await driver.state(handle)).stage == "rectifying"
    done = await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)[0]["status"] == "reset", (
        done.stdout + done.stderr
    )

    fresh = client.get_workflow_handle_for(AnnualCycleWorkflow.run, handle.id)
    await until(
        lambda: driver.state(fresh),
        lambda s: s.stage == "under_review" and s.scores_received == 0,
        every=0.1,
    )
    corrected = await driver.score(fresh, "e1", driver.scores(rules, 80))
    assert corrected.decision is not None and corrected.decision.grade == "pass"
    outcome = await fresh.result()
    assert outcome.stage == "closed" and outcome.grade == "pass"

    audit = await read_events(
        stack.nc.jetstream(), event_filter("reset-demo", 2027, "zz-biomed", "operator.action")
    )
    assert audit[0][1].data["reason"] == "专家误录分数 / scoring mistake"
    graded = await read_events(
        stack.nc.jetstream(), event_filter("reset-demo", 2027, "zz-biomed", "review.graded")
    )
    assert [e.data["grade"] for _, e in graded] == ["fail", "pass"]  # the re-run's events were kept
