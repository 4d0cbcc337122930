"""Workflow code that changes mid-year (workflows/README.md): cycles started on the current code
finish on a release with a ``workflow.patched`` change, cycles that reach the change take the
new path, the ones already past it keep the old one, and every history still replays. The same
change without ``patched`` fails replay, and ``navcycle replay`` says what to do next.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import WorkflowHandle, WorkflowHistory

from services.cli import ops
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.settings import Settings
from tests.conftest import Stack
from tests.helpers import HISTORIES, demo_rules, event_types, fresh_year, start_cycle
from tests.integration import driver
from tests.upgraded_cycle import PATCH, PatchedCycle, UnguardedCycle
from workflows.activities import CycleActivities
from workflows.build import build_id
from workflows.program_year import ProgramYearWorkflow
from workflows.replay import history_filename, history_files, load_history_file, replay
from workflows.worker import build_worker

# Windows long enough that switching workers in real time never runs into a deadline.
LONG = {
    "calendar__plan_window": "PT1H",
    "calendar__plan_review_window": "PT1H",
    "calendar__self_evaluation_due": "PT12H",
    "calendar__review_window": "PT1H",
}
PAST, MIDWAY, NEW = "up-past", "up-midway", "up-new"
CLI = [sys.executable, "-m", "services.cli.main"]


def _activities(stack: Stack) -> CycleActivities:
    return CycleActivities(
        EventPublisher(stack.nc.jetstream()), RpcClient(stack.nc), stack.objects, stack.client
    )


def _patch_markers(history: WorkflowHistory) -> int:
    return sum(
        1
        for e in history.events
        if e.event_type == HistoryEventType.EVENT_TYPE_MARKER_RECORDED
        and PATCH.encode() in e.marker_recorded_event_attributes.SerializeToString()
    )


def _builds(history: WorkflowHistory) -> set[str]:
    """The builds that completed the workflow's tasks, as the server recorded them (the dev
    server in worker_version, the time-skipping server as the binary checksum)."""
    tasks = [
        e.workflow_task_completed_event_attributes
        for e in history.events
        if e.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    return {t.worker_version.build_id or t.binary_checksum for t in tasks}


async def _finish(stack: Stack, rules: Any, handles: list[WorkflowHandle[Any, Any]]) -> None:
    """Each base files its self-evaluation; past the due day its expert passes it."""
    for handle in handles:
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(hours=12, minutes=10))
    for handle in handles:
        assert (await driver.state(handle)).stage == Stage.UNDER_REVIEW
        await driver.score(handle, "e1", driver.scores(rules, 70))


async def _run_upgrade(stack: Stack) -> tuple[int, dict[str, WorkflowHistory]]:
    year, rules = fresh_year(), demo_rules(**LONG)
    driver.register(stack, rules, [PAST, MIDWAY, NEW])
    task_queue = f"upgrade-{uuid.uuid4().hex[:8]}"
    now = await stack.env.get_current_time()

    # The current release: one cycle past plan acceptance, one half-way through verification.
    # Nothing cached: the time-skipping server never moves a task off a stopped worker's sticky
    # queue while its clock is held, so the next worker would wait for it forever.
    async with build_worker(stack.client, task_queue, _activities(stack), max_cached_workflows=0):
        past = await start_cycle(stack.client, task_queue, rules, year, PAST, launched_at=now)
        midway = await start_cycle(stack.client, task_queue, rules, year, MIDWAY, launched_at=now)
        await driver.to_implementing(stack, past, rules)
        await driver.file_plan(stack, midway)
        await driver.review(midway, "city")
        assert (await driver.state(past)).stage == Stage.IMPLEMENTING
        assert (await driver.state(midway)).stage == Stage.PLAN_REVIEW

    # The next release, on a fresh worker with nothing cached: it replays each cycle first.
    upgraded = build_worker(
        stack.client,
        task_queue,
        _activities(stack),
        workflows=[PatchedCycle, ProgramYearWorkflow],
    )
    async with upgraded:
        later = await stack.env.get_current_time()
        new = await start_cycle(stack.client, task_queue, rules, year, NEW, launched_at=later)
        await driver.review(midway, "province")
        await driver.to_implementing(stack, new, rules)
        handles = [past, midway, new]
        await _finish(stack, rules, handles)
        for handle in handles:
            outcome = await handle.result()
            assert outcome.stage == Stage.CLOSED and outcome.grade == "pass", handle.id
        return year, {driver.base_of(h): await h.fetch_history() for h in handles}


@pytest.fixture(scope="module")
async def upgrade(stack: Stack) -> tuple[int, dict[str, WorkflowHistory]]:
    return await _run_upgrade(stack)


async def test_cycles_past_the_change_keep_the_old_path_and_the_rest_take_the_new(
    stack: Stack, upgrade: tuple[int, dict[str, WorkflowHistory]]
) -> None:
    year, histories = upgrade
    js = stack.nc.jetstream()
    old_path = await event_types(js, "demo-fast", year, PAST)
    accepted = old_path.index("plan.accepted")
    assert old_path[accepted + 1] != "reminder.sent"
    assert old_path[-1] == "cycle.closed" and "reminder.sent" not in old_path
    for base in (MIDWAY, NEW):
        types = await event_types(js, "demo-fast", year, base)
        assert types[types.index("plan.accepted") + 1] == "reminder.sent", base
        assert types[-1] == "cycle.closed", base
        reminders = await read_events(js, event_filter("demo-fast", year, base, "reminder.sent"))
        assert [e.data["deadline"] for _, e in reminders] == ["self_evaluation"]
        assert reminders[0][1].data["reason"] == "plan_accepted"
    # The patch is recorded where the new path was taken, and only there.
    assert {b: _patch_markers(h) for b, h in histories.items()} == {PAST: 0, MIDWAY: 1, NEW: 1}
    # Every workflow task names the worker's build.
    assert all(_builds(h) == {build_id()} for h in histories.values())


async def test_the_upgraded_and_the_recorded_histories_replay_on_the_patched_code(
    upgrade: tuple[int, dict[str, WorkflowHistory]],
) -> None:
    _, histories = upgrade
    recorded = [load_history_file(f) for f in history_files([HISTORIES])]
    assert len(recorded) >= 10
    outcomes = await replay(
        [*histories.values(), *recorded], workflows=[PatchedCycle, ProgramYearWorkflow]
    )
    assert [o for o in outcomes if not o.ok] == []
    assert len(outcomes) == len(recorded) + 3


def _write(histories: dict[str, WorkflowHistory], folder: Path) -> None:
    for base, history in histories.items():
        (folder / history_filename(f"upgrade-{base}", history.workflow_id)).write_text(
            history.to_json()
        )


async def test_the_change_without_patched_fails_replay_with_the_next_steps(
    upgrade: tuple[int, dict[str, WorkflowHistory]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, histories = upgrade
    _write(histories, tmp_path)
    code = await asyncio.to_thread(
        ops.replay_command,
        Settings(),
        workflow_ids=[],
        program=None,
        year=None,
        all_=False,
        paths=[tmp_path],
        processes=1,
        as_json=False,
        workflows=[UnguardedCycle, ProgramYearWorkflow],
    )
    out = capsys.readouterr().out
    assert code == 1 and "3 replayed, 3 failed" in out
    # The cycle that passed plan acceptance on the old code meets a command it never issued.
    past = histories[PAST].workflow_id
    block = _block(out, past)
    assert block.startswith(f"{past} ({tmp_path / history_filename(f'upgrade-{PAST}', past)})")
    assert "no longer replays: the code issues other commands" in block
    assert "first mismatch: history event " in block
    assert 'workflow.patched("<change-id>")' in block
    assert "until every cycle started before the change has closed" in block
    assert f"navcycle reset --workflow-id {past} --to <stage>" in block
    assert "workflows/README.md" in block
    # The cycles that took the patched path recorded the patch, which this code never asks for.
    for base in (MIDWAY, NEW):
        block = _block(out, histories[base].workflow_id)
        assert f'took the new path of patch "{PATCH}"' in block
        assert f'workflow.deprecate_patch("{PATCH}")' in block


def _block(out: str, workflow_id: str) -> str:
    """The next-steps paragraph `navcycle replay` printed for one history."""
    return next(b for b in out.split("\n\n") if b.startswith(f"{workflow_id} ("))


async def test_rolling_back_after_the_new_path_ran_fails_replay_in_the_cli(
    upgrade: tuple[int, dict[str, WorkflowHistory]], tmp_path: Path
) -> None:
    """The current code (no patch) on a history that took the new path, as after a rollback:
    `navcycle replay` as an operator runs it names the history and the patch it lacks."""
    _, histories = upgrade
    _write({MIDWAY: histories[MIDWAY]}, tmp_path)
    done = await asyncio.to_thread(
        subprocess.run,
        [*CLI, "replay", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    midway = histories[MIDWAY].workflow_id
    assert f"{midway} (" in done.stdout and "FAILED" in done.stdout
    block = _block(done.stdout, midway)
    assert f'took the new path of patch "{PATCH}"' in block
    assert "roll forward, never back" in block and "workflows/README.md" in block
    assert "1 replayed, 1 failed" in done.stdout
