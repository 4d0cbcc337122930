"""A whole program year in virtual time: every real component, with the clock skipped.

It starts its own nats-server and Temporal time-skipping server, runs the registry and filings
services and a worker in this process, registers synthetic bases, launches the year and plays
every person's part. The year is played on a simulation program (``sim-<id>``, named 【模拟】…)
made from the rules given, so even its in-process record is never the real program's. Months pass in
milliseconds; the work itself (updates, activities, events) is real.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.assessment import store as assessment_store
from services.assessment.app import build_broker as assessment_broker
from services.assessment.tables import TABLES as ASSESSMENT_TABLES
from services.filings.app import build_broker as filings_broker
from services.filings.tables import TABLES as FILINGS_TABLES
from services.registry import store
from services.registry.app import build_broker as registry_broker
from services.registry.tables import TABLES as REGISTRY_TABLES
from services.sim.play import Progress, YearSummary, play_year
from services.sim.programs import sim_cities, sim_experts, simulation_of
from shared.binaries import find_binary
from shared.contracts.program_year import ProgramYearInput
from shared.contracts.registry import BaseRegistration
from shared.contracts.workflow_names import program_year_id
from shared.db import create_tables, make_engine, session_scope
from shared.domain.rules import ProgramRules
from shared.embedded import nats_server
from shared.objectstore import LocalObjectStore, ObjectStore
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.stream import ensure_events_stream
from workflows.activities import CycleActivities
from workflows.program_year import ProgramYearWorkflow
from workflows.worker import build_worker


class VirtualClock:
    """Time on the time-skipping server: people act at once and deadlines are skipped to."""

    def __init__(self, env: WorkflowEnvironment) -> None:
        self._env = env

    async def now(self) -> datetime:
        return await self._env.get_current_time()

    async def think(self, seconds: float) -> None:
        return None

    async def pass_until(self, when: datetime) -> None:
        await self._env.sleep(max(timedelta(0), when - await self._env.get_current_time()))

    def waiting(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._env.time_skipping_unlocked()  # type: ignore[attr-defined,no-any-return]


def register_synthetic_bases(
    engine: Engine, rules: ProgramRules, names: list[str], label: str = "模拟基地"
) -> dict[str, str]:
    """The program's rules and one base per name, straight into the registry's tables, spread
    over the cities in turn; returns each base's city."""
    cities = sim_cities(rules)
    city_of = {b: cities[i % len(cities)] for i, b in enumerate(names)}
    with session_scope(engine) as session:
        store.apply_rules(session, rules=rules)
        for b in names:
            store.add_base(
                session,
                program=rules.id,
                reg=BaseRegistration(
                    id=b,
                    name=f"{label} {b}",
                    region=city_of[b],
                    domain="新材料",
                    staff={"total": 10, "senior_full_time": 3},  # type: ignore[arg-type]
                ),
            )
    return city_of


async def run_virtual_year(
    rules: ProgramRules,
    *,
    bases: int,
    year: int = 2026,
    seed: int = 2026,
    progress: Progress | None = None,
) -> YearSummary:
    rules = simulation_of(rules)
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
    names = [f"b{n:05d}" for n in range(count)]
    async with in_process_services(nats_url, root, rules, names) as services:
        activities = CycleActivities(
            EventPublisher(services.js), RpcClient(services.nc, 30), services.objects, env.client
        )
        async with build_worker(env.client, "simulation", activities):
            return await _play(
                env,
                services.js,
                services.objects,
                rules,
                names,
                services.city_of,
                year,
                seed,
                progress,
                started,
            )


@dataclass(frozen=True)
class InProcessServices:
    nc: NatsClient
    js: JetStreamContext
    objects: LocalObjectStore
    city_of: dict[str, str]  # each synthetic base's city


@contextlib.asynccontextmanager
async def in_process_services(
    nats_url: str, root: Path, rules: ProgramRules, names: list[str], label: str = "模拟基地"
) -> AsyncIterator[InProcessServices]:
    """The registry, filings and assessment services in this process, on SQLite files and a
    local object store under ``root``, with the program's rules, a synthetic base per name and
    an expert roster registered, and the event stream ensured: what a year's play needs beside
    Temporal and its worker."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_events_stream(js, duplicate_window_s=3600)
    objects = LocalObjectStore(root / "objects")
    registry_db = make_engine(f"sqlite:///{root / 'registry.db'}")
    filings_db = make_engine(f"sqlite:///{root / 'filings.db'}")
    assessment_db = make_engine(f"sqlite:///{root / 'assessment.db'}")
    create_tables(registry_db, REGISTRY_TABLES)
    create_tables(filings_db, FILINGS_TABLES)
    create_tables(assessment_db, ASSESSMENT_TABLES)
    city_of = register_synthetic_bases(registry_db, rules, names, label)
    with session_scope(assessment_db) as session:
        for expert in sim_experts(rules):
            assessment_store.add_expert(session, program=rules.id, expert=expert)
    brokers = [
        registry_broker(nats_url, registry_db),
        filings_broker(nats_url, filings_db, objects),
        assessment_broker(nats_url, assessment_db),
    ]
    for broker in brokers:
        await broker.start()
    try:
        yield InProcessServices(nc, js, objects, city_of)
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
    await env.client.start_workflow(
        ProgramYearWorkflow.run,
        ProgramYearInput(program=rules.id, year=year),
        id=program_year_id(rules.id, year),
        task_queue="simulation",
    )
    return await play_year(
        client=env.client,
        js=js,
        objects=objects,
        rules=rules,
        names=names,
        city_of=city_of,
        year=year,
        seed=seed,
        clock=VirtualClock(env),
        progress=progress,
        started=started,
    )
