"""Replay: recorded cycle histories (tests/histories, real runs of every path of the cycle)
replayed as ``navcycle replay`` does it (spread over one process per core), against the SDK's
Replayer on the same histories in one process, events per second each; and the Replayer on
trivial histories (a workflow that returns at once, recorded on the dev server) as the floor
of one history's fixed cost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from bench.report import REPORT, Outcome, Row, ratio, say
from bench.servers import dev_server
from bench.trivial_workflow import Trivial
from shared.settings import REPO_ROOT
from workflows.replay import (
    default_processes,
    history_files,
    load_history_file,
    replay,
    replay_spread,
)

NAME = "replay"
HISTORIES = REPO_ROOT / "tests" / "histories"


async def trivial_history() -> WorkflowHistory:
    async with dev_server() as env:
        async with Worker(env.client, task_queue="trivial", workflows=[Trivial]):
            handle = await env.client.start_workflow(
                Trivial.run, 1, id="trivial", task_queue="trivial"
            )
            await handle.result()
            return await handle.fetch_history()


async def replay_trivial(histories: list[WorkflowHistory]) -> int:
    replayer = Replayer(workflows=[Trivial], data_converter=pydantic_data_converter)
    ok = 0
    async with replayer.workflow_replay_iterator(_each(histories)) as results:
        async for result in results:
            ok += result.replay_failure is None
    return ok


async def _each(items: list[WorkflowHistory]):  # type: ignore[no-untyped-def]
    for item in items:
        yield item


def _events(histories: list[WorkflowHistory]) -> int:
    return sum(len(h.events) for h in histories)


async def run(repeat: int = 50, folder: Path = HISTORIES) -> Outcome:
    recorded = [load_history_file(f) for f in history_files([folder])]
    cycles = [h for h in recorded if h.workflow_id.startswith("cycle/")]
    navcycle = cycles * repeat
    processes = default_processes()
    say(NAME, f"navcycle: {len(navcycle)} replays of {len(cycles)} histories on {processes} cores")
    started, cpu = time.monotonic(), time.process_time()
    outcomes = await asyncio.to_thread(replay_spread, navcycle, processes=processes)
    nav_s, nav_cpu = time.monotonic() - started, time.process_time() - cpu

    say(NAME, f"SDK Replayer: the same {len(navcycle)} histories in one process")
    started = time.monotonic()
    sdk_outcomes = await replay(navcycle)
    sdk_s = time.monotonic() - started
    failed = [o for o in outcomes if not o.ok]

    trivial = [await trivial_history()] * len(navcycle)
    say(NAME, f"floor: {len(trivial)} replays of a trivial history")
    started, cpu = time.monotonic(), time.process_time()
    trivial_ok = await replay_trivial(trivial)
    floor_s, floor_cpu = time.monotonic() - started, time.process_time() - cpu

    nav_rate, floor_rate = len(navcycle) / nav_s, len(trivial) / floor_s
    say(NAME, f"{nav_rate:.0f} cycle histories/s; floor {floor_rate:.0f} trivial histories/s")
    figures: dict[str, Any] = {
        "navcycle": {
            "histories": len(navcycle),
            "distinct": len(cycles),
            "events": _events(navcycle),
            "seconds": round(nav_s, 2),
            "cpu_s": round(nav_cpu, 2),
            "histories_per_s": round(nav_rate, 1),
            "events_per_s": round(_events(navcycle) / nav_s, 1),
            "processes": processes,
            "failed": [f"{o.workflow_id}: {o.reason}" for o in failed[:5]],
        },
        "sdk_replayer_one_process": {
            "seconds": round(sdk_s, 2),
            "events_per_s": round(_events(navcycle) / sdk_s, 1),
            "failed": sum(not o.ok for o in sdk_outcomes),
        },
        "floor": {
            "histories": len(trivial),
            "events": _events(trivial),
            "seconds": round(floor_s, 2),
            "cpu_s": round(floor_cpu, 2),
            "histories_per_s": round(floor_rate, 1),
            "events_per_s": round(_events(trivial) / floor_s, 1),
            "failed": len(trivial) - trivial_ok,
        },
    }
    rows = [
        Row(
            f"replay on {processes} cores vs the SDK Replayer in one process: events per second",
            f"{_events(navcycle) / nav_s:,.0f} events/s",
            f"{_events(navcycle) / sdk_s:,.0f} events/s",
            REPORT,
            ratio(_events(navcycle) / nav_s, _events(navcycle) / sdk_s),
        ),
        Row(
            "replay: histories per second",
            f"{nav_rate:,.0f}/s = {_events(navcycle) / nav_s:,.0f} events/s ({len(failed)} failed)",
            f"{floor_rate:,.0f}/s = {_events(trivial) / floor_s:,.0f} events/s",
            REPORT,
            ratio(nav_rate, floor_rate),
        ),
    ]
    return Outcome(NAME, rows, figures)
