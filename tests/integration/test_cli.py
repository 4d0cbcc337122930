"""The operator CLI as an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import HISTORIES

CLI = [sys.executable, "-m", "services.cli.main"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_replay_of_recorded_histories_passes_and_names_each() -> None:
    done = _run("replay", str(HISTORIES), "--json")
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout)
    assert len(outcomes) >= 10 and all(o["ok"] for o in outcomes)
    assert any(o["workflow_id"].startswith("program-year/") for o in outcomes)


def test_replay_of_a_damaged_history_fails_and_names_it(tmp_path: Path) -> None:
    source = sorted(HISTORIES.glob("cycle-happy-path@*.json"))[0]
    document = json.loads(source.read_text())
    # Drop the activity that published cycle.opened: the code now asks for a command the
    # history never saw.
    document["events"] = [e for e in document["events"] if e["eventId"] not in ("5", "6", "7")]
    for n, event in enumerate(document["events"], 1):
        event["eventId"] = str(n)
    (tmp_path / source.name).write_text(json.dumps(document))
    done = _run("replay", str(tmp_path))
    assert done.returncode == 1
    assert "cycle/demo-fast/" in done.stdout and "FAILED" in done.stdout


def test_replay_with_nothing_to_replay_says_so(tmp_path: Path) -> None:
    done = _run("replay", str(tmp_path))
    assert done.returncode == 2 and "no histories" in done.stdout


def test_virtual_demo_prints_its_summary() -> None:
    done = _run("demo", "--virtual", "--bases", "12", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # a simulation made from the Henan preset: a real calendar, skipped through
    assert summary["program"] == "sim-henan-nav-base"
    assert summary["bases"] == 12 and sum(summary["outcomes"].values()) == 12
    assert summary["virtual_days"] > 300
    assert summary["recompute_mismatches"] == []


def test_demo_refuses_a_program_that_is_not_a_simulation() -> None:
    done = _run("demo", "--virtual", "--program", "henan-nav-base", "--bases", "2", "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert "不是模拟项目" in done.stderr and "not a simulation program" in done.stderr


async def test_events_tail_prints_new_events_live_filtered_by_base(nats_url: str, nc) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import os
    from datetime import UTC, datetime

    from shared.events.envelope import new_event
    from shared.events.types import EventType
    from shared.publisher import EventPublisher
    from tests.event_samples import required

    def event(base: str, n: int):  # type: ignore[no-untyped-def]
        return new_event(
            event_type=EventType.PLAN_FILED,
            program="tail",
            year=2026,
            base=base,
            time=datetime.now(UTC),
            stream_key=f"cycle/tail/2026/{base}@run",
            sequence=n,
            data=required(EventType.PLAN_FILED),
        )

    publisher = EventPublisher(nc.jetstream())
    await publisher.publish(event("t1", 1))  # before the tail starts: not shown
    tail = await asyncio.create_subprocess_exec(
        *CLI,
        "events",
        "tail",
        "--program",
        "tail",
        "--base",
        "t1",
        "--json",
        env=dict(os.environ, NAVCYCLE_NATS_URL=nats_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert tail.stdout is not None
        seen: list[dict] = []  # type: ignore[type-arg]
        for n in range(2, 60):  # keep publishing until the tail, once subscribed, shows one
            await publisher.publish(event("t2", n))  # another base: filtered out
            await publisher.publish(event("t1", n))
            try:
                line = await asyncio.wait_for(tail.stdout.readline(), 0.5)
            except TimeoutError:
                continue
            seen.append(json.loads(line))
            break
        assert seen, "the tail printed nothing"
        assert seen[0]["base"] == "t1" and seen[0]["sequence"] > 1
        assert seen[0]["type"] == "navcycle.plan.filed" and seen[0]["seq"] > 0
    finally:
        tail.terminate()
        await tail.wait()
