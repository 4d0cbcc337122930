"""Fixtures that start real components: NATS, the Temporal test server, services, a worker."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.assessment.app import build_broker as assessment_broker
from services.assessment.tables import TABLES as ASSESSMENT_TABLES
from services.filings.app import build_broker as filings_broker
from services.filings.tables import TABLES as FILINGS_TABLES
from services.registry.app import build_broker as registry_broker
from services.registry.app import load_presets, seed_bases
from services.registry.calendars import load_bundled_calendars
from services.registry.tables import TABLES as REGISTRY_TABLES
from shared.binaries import find_binary
from shared.db import create_tables, make_engine
from shared.objectstore import LocalObjectStore
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.settings import DEPLOY_DIR
from shared.stream import ensure_events_stream
from tests.servers import nats_server
from workflows.activities import CycleActivities
from workflows.worker import build_worker

REPO = Path(__file__).resolve().parent.parent

# PostgreSQL tests: each carries the `postgres` marker and is skipped here, before its fixtures
# run, when no test server is named. A fixture run on both databases takes ``params=DATABASES``.
POSTGRES_URL_VARIABLE = "NAVCYCLE_TEST_POSTGRES_URL"
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and not os.environ.get(POSTGRES_URL_VARIABLE):
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")


def postgres_url() -> str:
    """The test PostgreSQL server, for a test marked ``postgres`` (never reached without one)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        raise RuntimeError(f"{POSTGRES_URL_VARIABLE} is not set: mark the test postgres")
    return url


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nats_server(tmp_path_factory.mktemp("nats")) as url:
        yield url


@pytest.fixture(scope="session")
async def nc(nats_url: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_url)
    await ensure_events_stream(client.jetstream(), duplicate_window_s=120)
    yield client
    await client.drain()


@pytest.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@dataclass
class Stack:
    """Services and a worker on the test NATS and the time-skipping server."""

    client: Client
    env: WorkflowEnvironment
    nc: NatsClient
    objects: LocalObjectStore
    programs_dir: Path
    task_queue: str
    registry_db: Engine
    assessment_db: Engine
    filings_db: Engine


@pytest.fixture(scope="session")
async def stack(
    ts_env: WorkflowEnvironment,
    nc: NatsClient,
    nats_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("stack")
    programs = root / "programs"
    shutil.copytree(DEPLOY_DIR / "programs", programs)
    objects = LocalObjectStore(root / "objects")

    reg_engine = make_engine(f"sqlite:///{root / 'registry.db'}")
    create_tables(reg_engine, REGISTRY_TABLES)
    load_presets(reg_engine, programs)
    seed_bases(reg_engine, DEPLOY_DIR / "bases.yaml")
    load_bundled_calendars(reg_engine, DEPLOY_DIR / "calendars")
    fil_engine = make_engine(f"sqlite:///{root / 'filings.db'}")
    create_tables(fil_engine, FILINGS_TABLES)

    ass_engine = make_engine(f"sqlite:///{root / 'assessment.db'}")
    create_tables(ass_engine, ASSESSMENT_TABLES)
    brokers = [
        registry_broker(nats_url, reg_engine),
        filings_broker(nats_url, fil_engine, objects),
        assessment_broker(nats_url, ass_engine),
    ]
    for broker in brokers:
        await broker.start()
    task_queue = f"tests-{uuid.uuid4().hex[:8]}"
    activities = CycleActivities(
        EventPublisher(nc.jetstream()), RpcClient(nc), objects, ts_env.client
    )
    worker: Worker = build_worker(ts_env.client, task_queue, activities)
    async with worker:
        yield Stack(
            ts_env.client,
            ts_env,
            nc,
            objects,
            programs,
            task_queue,
            reg_engine,
            ass_engine,
            fil_engine,
        )
    for broker in brokers:
        await broker.stop()
    await asyncio.sleep(0)


@pytest.fixture
async def dated_stack(stack: Stack) -> AsyncIterator[Stack]:
    """The stack's services on a time-skipping server of the test's own, its clock at 1 November
    of next year: for years counted on the calendar, the same whatever day the tests run (the
    session's server may have skipped years ahead by then)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    from tests.integration.presets import start_of_tests

    now = await env.get_current_time()
    await env.sleep(start_of_tests(now) - now)
    task_queue = f"dated-{uuid.uuid4().hex[:8]}"
    activities = CycleActivities(
        EventPublisher(stack.nc.jetstream()), RpcClient(stack.nc), stack.objects, env.client
    )
    async with build_worker(env.client, task_queue, activities):
        yield dataclasses.replace(stack, client=env.client, env=env, task_queue=task_queue)
    await env.shutdown()


@dataclass
class DevStack:
    """A worker on the Temporal dev server (real time, custom search attributes)."""

    client: Client
    task_queue: str
    address: str


@pytest.fixture(scope="session")
async def dev_stack(stack: Stack, nc: NatsClient) -> AsyncIterator[DevStack]:
    from shared.contracts import search_attributes as sa

    env = await WorkflowEnvironment.start_local(
        search_attributes=sa.ALL,
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
    )
    task_queue = f"dev-{uuid.uuid4().hex[:8]}"
    activities = CycleActivities(
        EventPublisher(nc.jetstream()), RpcClient(nc), stack.objects, env.client
    )
    async with build_worker(env.client, task_queue, activities):
        yield DevStack(env.client, task_queue, env.client.service_client.config.target_host)
    await env.shutdown()
