"""Recorded histories replay against the current code; a nondeterministic change fails them.

Histories are recorded from the time-skipping tests with NAVCYCLE_RECORD_HISTORIES=1.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli import ops
from shared.settings import Settings
from tests.helpers import HISTORIES
from tests.nondeterministic import ReorderedCycle
from workflows.program_year import ProgramYearWorkflow
from workflows.replay import (
    SHARES_PER_PROCESS,
    SPREAD_FROM,
    history_files,
    load_history_file,
    replay,
    replay_spread,
)


def _histories():  # type: ignore[no-untyped-def]
    files = history_files([HISTORIES])
    assert len(files) >= 10, "recorded histories are missing from tests/histories"
    return [load_history_file(f) for f in files]


async def test_every_recorded_history_replays_clean() -> None:
    outcomes = await replay(_histories())
    failures = [o for o in outcomes if not o.ok]
    assert not failures, failures
    ids = {o.workflow_id for o in outcomes}
    assert any(i.startswith("cycle/") for i in ids) and any(
        i.startswith("program-year/") for i in ids
    )


async def test_a_nondeterministic_change_fails_replay_and_names_the_workflow() -> None:
    histories = [h for h in _histories() if h.workflow_id.startswith("cycle/")]
    outcomes = await replay(histories, workflows=[ReorderedCycle, ProgramYearWorkflow])
    assert outcomes and all(not o.ok for o in outcomes)
    assert all("Nondeterminism" in o.reason or "nondetermin" in o.reason.lower() for o in outcomes)
    assert {o.workflow_id for o in outcomes} == {h.workflow_id for h in histories}


async def test_replay_json_carries_the_next_steps_of_each_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    happy = sorted(HISTORIES.glob("cycle-happy-path@*.json"))
    program_year = sorted(HISTORIES.glob("program-year-*.json"))[:1]
    code = await asyncio.to_thread(
        ops.replay_command,
        Settings(),
        workflow_ids=[],
        program=None,
        year=None,
        all_=False,
        paths=[*happy, *program_year],
        processes=1,
        as_json=True,
        workflows=[ReorderedCycle, ProgramYearWorkflow],
    )
    outcomes = {o["workflow_id"]: o for o in json.loads(capsys.readouterr().out)}
    assert code == 1 and len(outcomes) == 2
    cycle = next(o for i, o in outcomes.items() if i.startswith("cycle/"))
    year = next(o for i, o in outcomes.items() if i.startswith("program-year/"))
    assert not cycle["ok"] and year["ok"] and year["next_steps"] is None
    assert cycle["next_steps"].startswith(f"{cycle['workflow_id']} ({happy[0]}) no longer")
    assert "first mismatch: history event 5 (ActivityTaskScheduled)" in cycle["next_steps"]
    assert "workflow.patched" in cycle["next_steps"] and "navcycle reset" in cycle["next_steps"]


def test_replay_spreads_over_processes_and_keeps_each_outcome_in_place() -> None:
    """Enough histories to spread (more than SPREAD_FROM) over two worker processes: the same
    outcomes as one Replayer, in the same order, and a nondeterministic change still fails each
    cycle there (the workflows travel to the processes by reference)."""
    histories = _histories()
    many = histories * (SPREAD_FROM // len(histories) + 2)
    seen: list[tuple[int, int]] = []
    outcomes = replay_spread(many, processes=2, progress=lambda d, t: seen.append((d, t)))
    assert [o.workflow_id for o in outcomes] == [h.workflow_id for h in many]
    assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok][:2]
    assert len(seen) == 2 * SHARES_PER_PROCESS and seen[-1] == (len(many), len(many))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    changed = replay_spread(many, processes=2, workflows=[ReorderedCycle, ProgramYearWorkflow])
    failed = {o.workflow_id for o in changed if not o.ok}
    assert failed == {h.workflow_id for h in many if h.workflow_id.startswith("cycle/")}


def test_replay_json_over_processes_is_json_alone(tmp_path: Path) -> None:
    """`navcycle replay --json` spread over worker processes, its replays failing under a
    nondeterministic change: stdout is the JSON and nothing else (the SDK core in each worker
    process prints a failing replay's warnings to stdout)."""
    for copy in range(3):  # enough histories to spread: each file three times, by other names
        for path in history_files([HISTORIES]):
            (tmp_path / f"{copy}-{path.name}").write_bytes(path.read_bytes())
    script = (
        "import os, sys\n"
        "from tests.nondeterministic import ReorderedCycle\n"
        "from workflows.cycle import AnnualCycleWorkflow\n"
        "from workflows.registry import WORKFLOWS\n"
        "WORKFLOWS[WORKFLOWS.index(AnnualCycleWorkflow)] = ReorderedCycle\n"
        "from services.cli.main import main\n"
        f"code = main(['replay', '{tmp_path}', '--json', '--processes', '2'])\n"
        "sys.stdout.flush()\n"
        "os._exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 1, done.stderr[-2000:]
    outcomes = json.loads(done.stdout)
    assert len(outcomes) >= SPREAD_FROM
    failed = {o["workflow_id"] for o in outcomes if not o["ok"]}
    assert failed == {o["workflow_id"] for o in outcomes if o["workflow_id"].startswith("cycle/")}
