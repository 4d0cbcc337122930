"""A whole program year in virtual time: every real component, with the clock skipped.

It starts its own nats-server and Temporal time-skipping server, runs the registry and filings
services and a worker in this process, registers synthetic bases, launches the year and plays
every person's part. Months pass in milliseconds; the work itself (updates, activities, events)
is real.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from services.filings.app import build_broker as filings_broker
from services.filings.tables import TABLES as FILINGS_TABLES
from services.registry import store
from services.registry.app import build_broker as registry_broker
from services.registry.tables import TABLES as REGISTRY_TABLES
from services.sim.actors import BaseScript, scripts
from shared.binaries import find_binary
from shared.contracts.registry import BaseRegistration
from shared.db import create_tables, make_engine, session_scope
from shared.domain.grading import DecisionRecord, recompute
from shared.domain.rules import ProgramRules
from shared.embedded import nats_server
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.objectstore import LocalObjectStore, ObjectStore, sha256_hex
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.stream import EVENTS_STREAM, ensure_events_stream
from workflows.activities import CycleActivities
from workflows.cycle import AnnualCycleWorkflow
from workflows.ids import cycle_id, program_year_id
from workflows.models import (
    FilePlan,
    FileRectification,
    FileSelfEvaluation,
    ProgramYearInput,
    ReviewPlan,
    SubmitScore,
    Target,
    Upload,
)
from workflows.program_year import ProgramYearWorkflow
from workflows.worker import build_worker

Progress = Callable[[str, int, int], None]
CITIES = ["410100", "410200", "410300", "410400", "410500", "410700", "410800", "411000"]
TARGETS = [Target(key="patents", name="新增发明专利", target=30, unit="件")]


@dataclass
class YearSummary:
    program: str
    year: int
    bases: int
    elapsed_s: float
    virtual_days: float
    grades: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    overdue_by_city: Counter[str] = field(default_factory=Counter)
    recomputed: int = 0
    recompute_mismatches: list[str] = field(default_factory=list)
    updates: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "year": self.year,
            "bases": self.bases,
            "elapsed_s": round(self.elapsed_s, 2),
            "virtual_days": round(self.virtual_days, 2),
            "grades": dict(self.grades),
            "outcomes": dict(self.outcomes),
            "overdue_by_city": dict(self.overdue_by_city),
            "recomputed": self.recomputed,
            "recompute_mismatches": self.recompute_mismatches,
            "updates": self.updates,
        }


class _Actors:
    """Plays the bases, the city and province officers and the experts."""

    def __init__(
        self, client: Client, objects: ObjectStore, rules: ProgramRules, year: int
    ) -> None:
        self._client, self._objects, self._rules, self._year = client, objects, rules, year
        # Enough concurrency to keep the worker busy without starving its workflow tasks.
        self._gate = asyncio.Semaphore(16)
        self.updates = 0

    def handle(self, base: str) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle_for(
            AnnualCycleWorkflow.run, cycle_id(self._rules.id, self._year, base)
        )

    async def _upload(self, base: str, kind: str, text: str) -> Upload:
        data = f"%PDF-1.4\n% {kind} of {base}: {text}\n".encode()
        key = f"documents/{self._rules.id}/{self._year}/{base}/{kind}/{sha256_hex(data)}.pdf"
        stored = await self._objects.put(key, data, "application/pdf")
        return Upload(
            key=key,
            sha256=stored.sha256,
            size=stored.size,
            content_type="application/pdf",
            filename=f"{kind}.pdf",
            filed_by=base,
        )

    async def _update(self, base: str, update: Any, arg: Any, key: str) -> Any:
        """An update with a stable id, retried when the server times out under load: the
        server applies one update id once, so a retry never files twice."""
        update_id = f"sim/{base}/{key}"
        async with self._gate:
            self.updates += 1
            for attempt in range(10):
                try:
                    return await self.handle(base).execute_update(update, arg, id=update_id)
                except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError):
                    if attempt == 9:
                        raise
                    await asyncio.sleep(0.5 * (attempt + 1))

    async def plan(self, s: BaseScript) -> None:
        upload = await self._upload(s.base, "plan", "v1")
        await self._update(
            s.base,
            AnnualCycleWorkflow.file_plan,
            FilePlan(upload=upload, targets=TARGETS),
            "plan-1",
        )
        steps = list(self._rules.verification)
        if s.returned_once and steps:
            await self._update(
                s.base,
                AnnualCycleWorkflow.review_plan,
                ReviewPlan(step=steps[0], decision="return", comment="目标需量化"),
                "return-1",
            )
            upload = await self._upload(s.base, "plan", "v2")
            await self._update(
                s.base,
                AnnualCycleWorkflow.file_plan,
                FilePlan(upload=upload, targets=TARGETS),
                "plan-2",
            )
        for step in steps:
            await self._update(
                s.base,
                AnnualCycleWorkflow.review_plan,
                ReviewPlan(step=step, decision="approve"),
                f"approve-{step}",
            )

    async def report(self, s: BaseScript) -> None:
        upload = await self._upload(s.base, "self_evaluation", "report")
        actual = round(30 * s.score / 80, 1)
        await self._update(
            s.base,
            AnnualCycleWorkflow.file_self_evaluation,
            FileSelfEvaluation(upload=upload, actuals={"patents": actual}),
            "report",
        )

    async def score(self, s: BaseScript, value: float, veto: bool, round_: int = 0) -> None:
        vetoes = [self._rules.rubric.vetoes[0]] if veto and self._rules.rubric.vetoes else []
        for n in range(self._rules.rubric.experts_required):
            scores = dict.fromkeys(self._rules.rubric.keys, value)
            await self._update(
                s.base,
                AnnualCycleWorkflow.submit_score,
                SubmitScore(expert=f"expert-{n + 1}", scores=scores, vetoes=vetoes),
                f"score-{round_}-{n}",
            )

    async def rectify(self, s: BaseScript) -> None:
        upload = await self._upload(s.base, "rectification", "fixed")
        await self._update(
            s.base,
            AnnualCycleWorkflow.file_rectification,
            FileRectification(upload=upload),
            "rectification-1",
        )
        await self.score(s, max(70.0, s.score), veto=False, round_=1)


async def _each(
    items: list[Any], act: Callable[[Any], Awaitable[None]], phase: str, progress: Progress | None
) -> None:
    done = 0

    async def one(item: Any) -> None:
        nonlocal done
        await act(item)
        done += 1
        if progress:
            progress(phase, done, len(items))

    await asyncio.gather(*(one(i) for i in items))


async def run_virtual_year(
    rules: ProgramRules,
    *,
    bases: int,
    year: int = 2026,
    seed: int = 2026,
    progress: Progress | None = None,
) -> YearSummary:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="navcycle-sim-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        with nats_server(root / "nats") as nats_url:
            env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=find_binary("temporal-test-server"),
                data_converter=pydantic_data_converter,
            )
            try:
                return await _year(env, nats_url, root, rules, bases, year, seed, progress, started)
            finally:
                await env.shutdown()


async def _year(
    env: WorkflowEnvironment,
    nats_url: str,
    root: Path,
    rules: ProgramRules,
    count: int,
    year: int,
    seed: int,
    progress: Progress | None,
    started: float,
) -> YearSummary:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_events_stream(js, duplicate_window_s=3600)
    objects = LocalObjectStore(root / "objects")
    registry_db = make_engine(f"sqlite:///{root / 'registry.db'}")
    filings_db = make_engine(f"sqlite:///{root / 'filings.db'}")
    create_tables(registry_db, REGISTRY_TABLES)
    create_tables(filings_db, FILINGS_TABLES)
    names = [f"b{n:05d}" for n in range(count)]
    city_of = {b: CITIES[i % len(CITIES)] for i, b in enumerate(names)}
    with session_scope(registry_db) as session:
        store.apply_rules(session, rules=rules)
        for b in names:
            store.add_base(
                session,
                program=rules.id,
                reg=BaseRegistration(
                    id=b,
                    name=f"模拟基地 {b}",
                    region=city_of[b],
                    domain="新材料",
                    staff={"total": 10, "senior_full_time": 3},  # type: ignore[arg-type]
                ),
            )
    brokers = [
        registry_broker(nats_url, registry_db),
        filings_broker(nats_url, filings_db, objects),
    ]
    for broker in brokers:
        await broker.start()
    activities = CycleActivities(EventPublisher(js), RpcClient(nc, 30), objects, env.client)
    try:
        async with build_worker(env.client, "simulation", activities):
            return await _play(
                env, js, objects, rules, names, city_of, year, seed, progress, started
            )
    finally:
        for broker in brokers:
            await broker.stop()
        await nc.close()


async def _play(
    env: WorkflowEnvironment,
    js: Any,
    objects: ObjectStore,
    rules: ProgramRules,
    names: list[str],
    city_of: dict[str, str],
    year: int,
    seed: int,
    progress: Progress | None,
    started: float,
) -> YearSummary:
    client = env.client
    t0 = await env.get_current_time()
    program_year = await client.start_workflow(
        ProgramYearWorkflow.run,
        ProgramYearInput(program=rules.id, year=year),
        id=program_year_id(rules.id, year),
        task_queue="simulation",
    )
    for _ in range(6000):  # polling a query: there is nothing to wait on but the workflow
        if (await program_year.query(ProgramYearWorkflow.state)).opened >= len(names):
            break
        await asyncio.sleep(0.1)
    actors = _Actors(client, objects, rules, year)
    await _wait_opened(js, rules.id, year, len(names))
    plays = scripts(names, seed)
    await _each([s for s in plays if s.files_plan], actors.plan, "plans", progress)
    await _each(
        [s for s in plays if s.files_plan and s.files_report], actors.report, "reports", progress
    )

    due = (await actors.handle(names[0]).query(AnnualCycleWorkflow.state)).deadlines.get(
        "self_evaluation"
    )
    if due is not None:
        await env.sleep(
            max(timedelta(0), due - await env.get_current_time()) + timedelta(seconds=1)
        )
    reviewing = [s for s in plays if (await _stage(actors, s.base)) == "under_review"]
    await _each(reviewing, lambda s: actors.score(s, s.score, s.veto), "scores", progress)
    rectifying = [
        s for s in plays if s.rectifies and (await _stage(actors, s.base)) == "rectifying"
    ]
    await _each(rectifying, actors.rectify, "rectifications", progress)

    await program_year.result()
    async with env.time_skipping_unlocked():  # type: ignore[attr-defined]
        outcomes = await asyncio.gather(*(actors.handle(b).result() for b in names))
    summary = YearSummary(
        program=rules.id,
        year=year,
        bases=len(names),
        elapsed_s=time.monotonic() - started,
        virtual_days=(await env.get_current_time() - t0).total_seconds() / 86400,
        updates=actors.updates,
    )
    for outcome in outcomes:
        summary.outcomes[outcome.stage.value] += 1
        grade = outcome.final_grade or outcome.grade
        summary.grades[grade.value if grade else "excluded"] += 1
    overdue = await read_events(js, event_filter(rules.id, year, event_type="plan.overdue"))
    overdue += await read_events(js, event_filter(rules.id, year, event_type="selfeval.overdue"))
    for _, event in overdue:
        summary.overdue_by_city[city_of[event.base]] += 1
    for _, event in await read_events(js, event_filter(rules.id, year, event_type="review.graded")):
        record = DecisionRecord.model_validate(event.data)
        summary.recomputed += 1
        if recompute(record) != (record.total, record.grade):
            summary.recompute_mismatches.append(f"{record.base} round {record.round}")
    return summary


async def _stage(actors: _Actors, base: str) -> str:
    return (await actors.handle(base).query(AnnualCycleWorkflow.state)).stage.value


async def _wait_opened(js: Any, program: str, year: int, count: int) -> None:
    """Let the opening storm settle: people act once every cycle has published cycle.opened."""
    subject = event_filter(program, year, event_type="cycle.opened")
    for _ in range(1200):
        info = await js.stream_info(EVENTS_STREAM, subjects_filter=subject)
        if sum((info.state.subjects or {}).values()) >= count:
            return
        await asyncio.sleep(0.25)
    raise TimeoutError(f"not every cycle of {program}/{year} opened")
