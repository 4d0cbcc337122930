"""Worker memory: the peak RSS of the worker process (``navcycle serve worker``, its own process
as deployed) once 10,000 AnnualCycleWorkflow cycles are open and waiting for their plans, on
the dev server with search attributes. Read from ``/proc/<pid>/status`` (VmHWM).

The worker keeps the Temporal SDK's default workflow cache (1,000 runs); cycles beyond it are
evicted while they wait and replayed when something wakes them, so the peak reflects the cache,
not the number of open cycles. ``memory_cached`` runs the same with a cache as large as the
cycles (``NAVCYCLE_WORKER_CACHED_WORKFLOWS``): what keeping every open cycle in memory costs.
The RSS is sampled every second to show the curve.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy

from bench.report import REPORT, Outcome, Row, say
from bench.resources import status_kb
from bench.servers import dev_server, serve
from shared.contracts import search_attributes as sa
from shared.contracts.cycle import BaseInfo, CycleInput
from shared.contracts.workflow_names import cycle_id
from shared.domain.rules import ProgramRules, load_rules_file
from shared.embedded import nats_server
from shared.settings import DEPLOY_DIR, WORKER_CACHED_WORKFLOWS, Settings
from shared.stream import EVENTS_STREAM, ensure_events_stream
from workflows.cycle import AnnualCycleWorkflow

NAME = "memory"
PROGRAM, YEAR, QUEUE = "bench-memory", 2026, "bench-memory"
STARTS_IN_FLIGHT = 32


def waiting_rules() -> ProgramRules:
    doc = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    doc["id"] = PROGRAM
    doc["calendar"]["plan_window"] = "PT3H"  # every cycle waits for its plan throughout
    return ProgramRules.model_validate(doc)


def start_worker(
    temporal: str, nats_url: str, state: Path, cache: int
) -> AbstractAsyncContextManager[subprocess.Popen[bytes]]:
    return serve(
        "worker",
        state,
        temporal_address=temporal,
        nats_url=nats_url,
        task_queue=QUEUE,
        worker_cached_workflows=str(cache),
    )


async def open_cycles(client: Client, rules: ProgramRules, count: int) -> None:
    gate = asyncio.Semaphore(STARTS_IN_FLIGHT)
    launched = datetime.now(UTC)

    async def one(n: int) -> None:
        base = BaseInfo(id=f"m{n:05d}", name=f"基准基地 {n}", region="410100", domain="新材料")
        attrs = TypedSearchAttributes(
            [
                SearchAttributePair(sa.PROGRAM, PROGRAM),
                SearchAttributePair(sa.YEAR, YEAR),
                SearchAttributePair(sa.BASE, base.id),
                SearchAttributePair(sa.REGION, base.region),
                SearchAttributePair(sa.STAGE, "plan_filing"),
            ]
        )
        async with gate:
            await client.start_workflow(
                AnnualCycleWorkflow.run,
                CycleInput(
                    program=PROGRAM,
                    year=YEAR,
                    base=base,
                    rules=rules,
                    rules_version=1,
                    launched_at=launched,
                ),
                id=cycle_id(PROGRAM, YEAR, base.id),
                task_queue=QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=attrs,
            )

    await asyncio.gather(*(one(n) for n in range(count)))


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._t0 = time.monotonic()

    def sample(self) -> int:
        rss = status_kb(self.pid, "VmRSS")
        self.samples.append((round(time.monotonic() - self._t0, 1), rss))
        return rss


async def wait_open(js: Any, sampler: RssSampler, count: int, limit_s: float) -> float:
    """Until every cycle has published cycle.opened (the only events here); seconds taken."""
    started = time.monotonic()
    last = -1
    while time.monotonic() - started < limit_s:
        opened = (await js.stream_info(EVENTS_STREAM)).state.messages
        sampler.sample()
        if opened >= count:
            return time.monotonic() - started
        if opened // 1000 != last // 1000:
            say(NAME, f"{opened:,} of {count:,} cycles open")
        last = opened
        await asyncio.sleep(1.0)
    raise TimeoutError(f"only {last} of {count} cycles opened in {limit_s:.0f} s")


async def run(
    cycles: int = 10_000,
    limit_s: float = 1800,
    cache: int = WORKER_CACHED_WORKFLOWS,
    name: str = NAME,
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="navcycle-bench-memory-") as tmp:
        root = Path(tmp)
        with nats_server(root / "nats") as nats_url:
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            await ensure_events_stream(js, Settings().event_duplicate_window_s)
            async with dev_server() as env:
                address = env.client.service_client.config.target_host
                async with start_worker(address, nats_url, root / "state", cache) as proc:
                    figures = await _measure(env.client, js, proc, cycles, limit_s)
                    figures["worker_cache"] = f"max_cached_workflows {cache:,}"
            await nc.close()
    mb = figures["peak_rss_mb"]
    row = Row(
        f"worker peak RSS, {cycles:,} open cycles, cache {cache:,}",
        f"{mb:,.0f} MB (idle {figures['idle_rss_mb']:,.0f} MB)",
        "-",
        REPORT,
        value=mb,
    )
    return Outcome(name, [row], figures)


async def _measure(
    client: Client,
    js: Any,
    proc: subprocess.Popen[bytes],
    cycles: int,
    limit_s: float,
) -> dict[str, Any]:
    sampler = RssSampler(proc.pid)
    await asyncio.sleep(1)
    for _ in range(240):  # the worker is up once it polls its task queue
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}")
        if await _polled(client):
            break
        await asyncio.sleep(0.5)
    idle = sampler.sample()
    say(NAME, f"worker up (pid {proc.pid}, {idle / 1024:.0f} MB); opening {cycles:,} cycles")
    started = time.monotonic()
    opener = asyncio.create_task(open_cycles(client, waiting_rules(), cycles))
    opened_in = await wait_open(js, sampler, cycles, limit_s)
    await opener
    await asyncio.sleep(10)  # let the last workflow tasks finish: every cycle now waits
    sampler.sample()
    peak = status_kb(proc.pid, "VmHWM")
    say(NAME, f"{cycles:,} open in {opened_in:.0f} s; worker peak RSS {peak / 1024:.0f} MB")
    return {
        "cycles": cycles,
        "server": "Temporal CLI dev server (in-memory SQLite), search attributes on every cycle",
        "opened_in_s": round(opened_in, 1),
        "open_rate_per_s": round(cycles / (time.monotonic() - started), 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "idle_rss_mb": round(idle / 1024, 1),
        "rss_now_mb": round(status_kb(proc.pid, "VmRSS") / 1024, 1),
        "rss_samples_mb": [
            (t, round(kb / 1024, 1))
            for t, kb in sampler.samples[:: max(1, len(sampler.samples) // 60)]
        ],
    }


async def _polled(client: Client) -> bool:
    found = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return bool(found.pollers)
