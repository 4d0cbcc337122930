"""Year simulation: a program year of N bases on the Temporal dev server, in real time with a
compressed calendar, against its floor: N bare workflows with the same counts of timers,
activities and updates on the same dev server.

navcycle's side is the year as ``navcycle demo`` plays it (services/sim/play.py): every base,
officer and expert acts at once, the registry and filings services answer over NATS, events go
to JetStream, and the worker (in this process) runs the real workflows. Its histories are then
counted, and each bare cycle does exactly its navcycle cycle's counts with no-op activities.

A year waits for its calendar; the floor has none. So the figure compared is the *busy* time:
the wall time minus the stretches in which the play only waited for a deadline with nothing left
to do. The CPU seconds of everything (this process, the dev server, nats-server) are reported as
well, since they do not depend on the calendar at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.cycle_costs import CycleCosts
from bench.floor_models import BareCycleInput, BareYearInput, FloorActivities, Shape
from bench.floor_workflows import BareCycle, BareYear
from bench.history_shapes import CycleShape, QueryCounter, fetch_shapes, totals
from bench.report import REPORT, Goal, Outcome, Row, ratio, say
from bench.resources import CpuMeter, load_watch
from bench.servers import dev_server
from services.sim.play import RealClock, play_year
from services.sim.virtual import in_process_services
from shared.contracts import search_attributes as sa
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.domain.rules import ProgramRules, load_rules_file
from shared.embedded import nats_server
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.settings import DEPLOY_DIR, WORKER_CACHED_WORKFLOWS
from shared.starters import start_program_year
from workflows.activities import CycleActivities
from workflows.worker import build_worker

NAME = "year"
PROGRAM, YEAR = "bench-year", 2026
NAV_QUEUE, FLOOR_QUEUE = "bench-year", "bench-year-floor"
GOAL = Goal("max_ratio", 1.5)
# The play's updates keep at most this many in flight (PatientTemporalChannel in
# services/sim/people.py); so does the floor.
IN_FLIGHT = 16


def calendar(bases: int, scale: float) -> dict[str, str]:
    """Windows long enough for every base to act on 2 busy cores, with a margin of about 1.5-2:
    on this machine under a load of 8-15 (other work sharing it), opening and plans took about
    0.26 s per base, reports 0.08 s, scores 0.13 s. What the margin leaves over is calendar
    idle, which the busy time leaves out. Inputs a deadline refused are counted in the figures
    (``summary.refused``); ``--year-scale`` stretches every window for a slower machine."""

    def seconds(fixed: float, per_base: float) -> int:
        return round(scale * (fixed + per_base * bases))

    plan = seconds(60, 0.3)
    return {
        "plan_window": f"PT{plan}S",
        "plan_review_window": f"PT{seconds(30, 0.1)}S",
        "self_evaluation_due": f"PT{plan + seconds(15, 0.05)}S",
        "review_window": f"PT{seconds(30, 0.1)}S",
        "rectification_period": f"PT{seconds(60, 0.15)}S",
        "publication_period": "PT10S",
    }


def bench_rules(bases: int, scale: float) -> ProgramRules:
    rules = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml")
    doc = rules.model_dump(mode="json", by_alias=True)
    doc["id"] = PROGRAM
    doc["calendar"].update(calendar(bases, scale))
    doc["eligibility"]["one_base_per_domain"] = False
    return ProgramRules.model_validate(doc)


# ---------------------------------------------------------------- navcycle's side


class CalendarClock(RealClock):
    """Real time, noting how long the play waited for the calendar with nothing to do."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.idle_s = 0.0
        self.final_wait_started: float | None = None

    async def pass_until(self, when: datetime) -> None:
        started = time.monotonic()
        await super().pass_until(when)
        self.idle_s += time.monotonic() - started
        # The deadline has passed; the work it causes (every cycle's review opening) is busy
        # time. The play reads stages next, so let the opening settle first.
        query = f"NavProgram = '{PROGRAM}' AND NavStage = 'implementing'"
        for _ in range(1200):
            if (await self._client.count_workflows(query)).count == 0:
                return
            await asyncio.sleep(0.25)

    def waiting(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._final_wait()

    @contextlib.asynccontextmanager
    async def _final_wait(self) -> AsyncIterator[None]:
        self.final_wait_started = time.monotonic()
        yield


@dataclass
class SideResult:
    wall_s: float
    busy_s: float
    cpu_s: float
    detail: dict[str, Any] = field(default_factory=dict)


async def _calendar_end(js: Any) -> datetime | None:
    """The last deadline the final wait only waited for: the end of 公示, and the rectification
    deadlines of bases that let them lapse."""
    ends: list[datetime] = []
    published = await read_events(js, event_filter(PROGRAM, YEAR, event_type="results.published"))
    ends += [datetime.fromisoformat(e.data["publication_until"]) for _, e in published]
    lapsed = {
        e.base
        for _, e in await read_events(
            js, event_filter(PROGRAM, YEAR, event_type="rectification.failed")
        )
        if e.data.get("reason") == "lapsed"
    }
    ordered = await read_events(js, event_filter(PROGRAM, YEAR, event_type="rectification.ordered"))
    ends += [datetime.fromisoformat(e.data["due"]) for _, e in ordered if e.base in lapsed]
    return max(ends) if ends else None


async def navcycle_side(
    env: WorkflowEnvironment,
    nats_url: str,
    root: Path,
    bases: int,
    scale: float,
    seed: int,
    cache: int = WORKER_CACHED_WORKFLOWS,
) -> tuple[SideResult, dict[str, CycleShape], Counter[str]]:
    rules = bench_rules(bases, scale)
    names = [f"y{n:05d}" for n in range(bases)]
    queries = QueryCounter()
    config = env.client.config()
    config["interceptors"] = [queries]
    client = Client(**config)
    phase_done: dict[str, float] = {}
    load: dict[str, float] = {}
    async with in_process_services(nats_url, root, rules, names, "基准基地") as services:
        js = services.js
        activities = CycleActivities(
            EventPublisher(js), RpcClient(services.nc, 30), services.objects, client
        )
        async with build_worker(client, NAV_QUEUE, activities, max_cached_workflows=cache):
            clock = CalendarClock(client)
            costs = CycleCosts(root, js)
            await costs.start()
            meter = CpuMeter("bench: play, worker, registry, filings")
            meter.start()
            t0 = time.monotonic()

            def progress(phase: str, done: int, total: int) -> None:
                if done == total:
                    costs.mark(phase)
                    phase_done[phase] = round(time.monotonic() - t0, 1)
                    say(NAME, f"navcycle {phase}: {total} at {phase_done[phase]:.0f} s")

            await start_program_year(client, program=PROGRAM, year=YEAR, task_queue=NAV_QUEUE)
            async with load_watch(load):
                summary = await play_year(
                    client=client,
                    js=js,
                    objects=services.objects,
                    rules=rules,
                    names=names,
                    city_of=services.city_of,
                    year=YEAR,
                    seed=seed,
                    clock=clock,
                    progress=progress,
                    started=t0,
                )
            wall, cpu = time.monotonic() - t0, meter.stop()
            final_idle = await _final_idle(js, clock, t0, wall)
            say(NAME, f"navcycle year done in {wall:.0f} s (load average {load.get('mean')})")
            ids = [program_year_id(PROGRAM, YEAR), *(cycle_id(PROGRAM, YEAR, b) for b in names)]
            shapes = await fetch_shapes(client, ids)
            per_cycle = await costs.finish([shapes[i] for i in ids[1:]])
    idle = clock.idle_s + final_idle
    if summary.refused:
        say(NAME, f"WARNING: deadlines refused some inputs {dict(summary.refused)}: --year-scale")
    detail = {
        "rules_calendar": rules.calendar.model_dump(),
        "phases_done_at_s": phase_done,
        "calendar_idle_s": round(idle, 1),
        "summary": summary.as_json(),
        "queries": sum(queries.by_workflow.values()),
        "cpu_s_by_process": meter.by_process,
        "load_avg_1m": load,
        "per_cycle": per_cycle,
    }
    return SideResult(wall, wall - idle, cpu, detail), shapes, queries.by_workflow


async def _final_idle(js: Any, clock: CalendarClock, t0: float, wall: float) -> float:
    """The part of the final wait that only waited for the calendar."""
    end = await _calendar_end(js)
    if end is None or clock.final_wait_started is None:
        return 0.0
    end_mono = time.monotonic() - (datetime.now(UTC) - end).total_seconds()
    return max(0.0, min(end_mono, t0 + wall) - clock.final_wait_started)


# ---------------------------------------------------------------- the floor


async def floor_side(
    env: WorkflowEnvironment,
    shapes: dict[str, CycleShape],
    queries: Counter[str],
    names: list[str],
    cache: int = WORKER_CACHED_WORKFLOWS,
) -> SideResult:
    parent_id = "bench-floor/year"
    cycles = [
        BareCycleInput(
            workflow_id=f"bench-floor/{b}",
            parent_id=parent_id,
            shape=shapes[cycle_id(PROGRAM, YEAR, b)].shape,
        )
        for b in names
    ]
    client = env.client
    floor = FloorActivities(client)
    worker = Worker(
        client,
        task_queue=FLOOR_QUEUE,
        workflows=[BareYear, BareCycle],
        activities=floor.methods(),  # type: ignore[arg-type]
        max_concurrent_activities=200,  # as navcycle's worker
        max_cached_workflows=cache,
    )
    async with worker:
        meter = CpuMeter("bench: driver, worker")
        meter.start()
        t0 = time.monotonic()
        load: dict[str, float] = {}
        async with load_watch(load):
            await _floor_year(client, shapes, queries, names, cycles, parent_id, t0)
        wall, cpu = time.monotonic() - t0, meter.stop()
    say(NAME, f"floor done in {wall:.0f} s (load average {load.get('mean')})")
    return SideResult(wall, wall, cpu, {"cpu_s_by_process": meter.by_process, "load_avg_1m": load})


async def _floor_year(
    client: Client,
    shapes: dict[str, CycleShape],
    queries: Counter[str],
    names: list[str],
    cycles: list[BareCycleInput],
    parent_id: str,
    t0: float,
) -> None:
    year = await client.start_workflow(
        BareYear.run,
        BareYearInput(
            shape=shapes[program_year_id(PROGRAM, YEAR)].shape,
            cycles=cycles,
            task_queue=FLOOR_QUEUE,
        ),
        id=parent_id,
        task_queue=FLOOR_QUEUE,
    )
    for _ in range(6000):  # as the play polls the program year: nothing else to wait on
        if await year.query(BareYear.started) >= len(cycles):
            break
        await asyncio.sleep(0.1)
    say(NAME, f"floor opened {len(cycles)} at {time.monotonic() - t0:.0f} s")
    await _floor_updates(client, names, shapes, queries)
    await year.result()
    await asyncio.gather(*(client.get_workflow_handle(c.workflow_id).result() for c in cycles))


async def _floor_updates(
    client: Client, names: list[str], shapes: dict[str, CycleShape], queries: Counter[str]
) -> None:
    """The play's updates, phase by phase as the year has them, and its queries."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    phases = sorted({p for s in shapes.values() for p in s.phases})

    async def one(base: str, phase: int, first: bool) -> None:
        wid = cycle_id(PROGRAM, YEAR, base)
        handle = client.get_workflow_handle(f"bench-floor/{base}")
        if first:
            for _ in range(queries[wid]):
                await handle.query(BareCycle.updates)
        for n, p in enumerate(shapes[wid].phases):
            if p == phase:
                async with gate:
                    await handle.execute_update(BareCycle.step, n, id=f"floor/{base}/{n}")

    for i, phase in enumerate(phases):
        started = time.monotonic()
        await asyncio.gather(*(one(b, phase, i == 0) for b in names))
        say(NAME, f"floor phase {phase} in {time.monotonic() - started:.0f} s")


# ---------------------------------------------------------------- the benchmark


@contextlib.asynccontextmanager
async def year_engines(prefix: str) -> AsyncIterator[tuple[Path, str, WorkflowEnvironment]]:
    """A temporary directory, a nats-server and the dev server (its database in memory)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        with nats_server(root / "nats") as nats_url:
            async with dev_server() as env:
                yield root, nats_url, env


async def run(
    bases: int = 1000,
    scale: float = 1.0,
    seed: int = 2026,
    cache: int = WORKER_CACHED_WORKFLOWS,
    partial: Path | None = None,
) -> Outcome:
    """``cache`` is both sides' workflow cache; ``partial`` keeps navcycle's side as soon as it
    ends, so a run cut off during the floor still has it."""
    async with year_engines("navcycle-bench-year-") as (root, nats_url, env):
        say(NAME, f"navcycle: a program year of {bases} bases on the dev server, cache {cache:,}")
        nav, shapes, queries = await navcycle_side(env, nats_url, root, bases, scale, seed, cache)
        if partial is not None:
            keep_side(partial, nav, shapes, queries)
        names = [f"y{n:05d}" for n in range(bases)]
        say(NAME, f"floor: {bases + 1} bare workflows with the same counts")
        floor = await floor_side(env, shapes, queries, names, cache)
    return _outcome(bases, nav, floor, shapes, cache)


def keep_side(
    path: Path, side: SideResult, shapes: dict[str, CycleShape], queries: Counter[str]
) -> None:
    """navcycle's side, with what the floor needs (every history's shape and the queries the
    play asked), so the floor can run later: ``--floor-from`` the file (:func:`read_side`)."""
    doc = _side_json(side)
    doc["floor_input"] = {
        "shapes": {
            wid: {**shape.shape.model_dump(), "phases": shape.phases, "events": shape.events}
            | {"bytes": shape.bytes}
            for wid, shape in shapes.items()
        },
        "queries": dict(queries),
    }
    path.write_text(json.dumps(doc, ensure_ascii=False))
    say(NAME, f"navcycle side written to {path}")


async def floor_from(partial: Path, cache: int = WORKER_CACHED_WORKFLOWS) -> Outcome:
    """The floor alone, on a fresh dev server, for a navcycle side kept by an earlier run (a run
    cut off during its floor); the outcome compares the two as one run would."""
    nav, shapes, queries = read_side(await asyncio.to_thread(partial.read_text))
    bases = len(shapes) - 1
    names = [f"y{n:05d}" for n in range(bases)]
    async with year_engines("navcycle-bench-floor-") as (_, _, env):
        say(NAME, f"floor: {bases + 1} bare workflows with the counts kept in {partial}")
        floor = await floor_side(env, shapes, queries, names, cache)
    return _outcome(bases, nav, floor, shapes, cache)


def read_side(text: str) -> tuple[SideResult, dict[str, CycleShape], Counter[str]]:
    """navcycle's side as :func:`keep_side` wrote it: its figures, every history's shape and
    the play's queries."""
    doc = json.loads(text)
    given = doc.pop("floor_input")
    shapes: dict[str, CycleShape] = {}
    for wid, raw in given["shapes"].items():
        phases, events, size = raw.pop("phases"), raw.pop("events"), raw.pop("bytes")
        shapes[wid] = CycleShape(Shape(**raw), phases, events, size)
    nav = SideResult(doc.pop("wall_s"), doc.pop("busy_s"), doc.pop("cpu_s"), doc)
    return nav, shapes, Counter(given["queries"])


def _side_json(side: SideResult) -> dict[str, Any]:
    return {
        "wall_s": round(side.wall_s, 1),
        "busy_s": round(side.busy_s, 1),
        "cpu_s": round(side.cpu_s, 1),
        **side.detail,
    }


def _outcome(
    bases: int, nav: SideResult, floor: SideResult, shapes: dict[str, CycleShape], cache: int
) -> Outcome:
    counts = totals(shapes)
    busy = ratio(nav.busy_s, floor.busy_s)
    cpu = ratio(nav.cpu_s, floor.cpu_s)
    rows = [
        Row(
            f"year simulation, {bases} bases: busy time",
            f"{nav.busy_s:.0f} s (wall {nav.wall_s:.0f} s)",
            f"{floor.busy_s:.0f} s",
            GOAL,
            busy,
        ),
        Row(
            f"year simulation, {bases} bases: CPU (all processes)",
            f"{nav.cpu_s:.0f} cpu-s",
            f"{floor.cpu_s:.0f} cpu-s",
            REPORT,
            cpu,
        ),
    ]
    figures = {
        "bases": bases,
        "navcycle": _side_json(nav),
        "floor": _side_json(floor),
        "counts_both_sides": counts,
        "ratio_busy": busy,
        "ratio_cpu": cpu,
        "ratio_wall": ratio(nav.wall_s, floor.wall_s),
        "search_attributes": [k.name for k in sa.ALL],
        "engine": "Temporal CLI dev server, in-memory SQLite; worker in the benchmark process",
        "worker_cache_both_sides": cache,
    }
    return Outcome(NAME, rows, figures)
