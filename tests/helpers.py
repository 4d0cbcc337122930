"""Small helpers shared by tests: uploads, starting cycles, reading events."""

from __future__ import annotations

import inspect
import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
from nats.aio.client import Client as NatsClient
from temporalio.client import WorkflowHandle
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from services.sim.people import Cast, stored_pdf
from shared.contracts.cycle import Actor, BaseInfo, CycleInput, Upload
from shared.contracts.workflow_names import cycle_id
from shared.domain.rules import ProgramRules, load_rules_file
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.objectstore import ObjectStore
from shared.settings import DEPLOY_DIR
from shared.stream import EVENTS_STREAM, ensure_events_stream
from workflows.cycle import AnnualCycleWorkflow
from workflows.replay import history_filename

_years = itertools.count(2101)

# Who acts in the tests' cycles: their bases lie in Zhengzhou (410100), in Henan.
CITY = Actor(name="city-zz", role="city_officer", region="410100")
PROVINCE = Cast().officer("province")


def base_actor(base: str) -> Actor:
    return Cast().staff(base)


def expert_actor(name: str) -> Actor:
    return Cast.expert(name)


def step_actor(step: str, region: str = "410100") -> Actor:
    """The officer of a verification step for a base in ``region`` (a city officer there)."""
    return Cast(region=region).officer(step)


PDF = b"%PDF-1.4\n% navcycle test document\n"


def fresh_year() -> int:
    """Each test runs in a year of its own, so workflow ids never collide."""
    return next(_years)


def demo_rules(**changes: Any) -> ProgramRules:
    rules = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml")
    document = rules.model_dump(mode="json", by_alias=True)
    for path, value in changes.items():
        target = document
        *parents, leaf = path.split("__")
        for part in parents:
            target = target[part]
        target[leaf] = value
    return ProgramRules.model_validate(document)


async def upload(objects: ObjectStore, kind: str, data: bytes = PDF, year: int = 0) -> Upload:
    return await stored_pdf(objects, f"documents/test/{year}", kind, data)


async def start_cycle(
    client: Any,
    task_queue: str,
    rules: ProgramRules,
    year: int,
    base: str = "zz-biomed",
    launched_at: Any = None,
) -> WorkflowHandle[Any, Any]:
    from datetime import UTC, datetime

    return await client.start_workflow(
        AnnualCycleWorkflow.run,
        CycleInput(
            program=rules.id,
            year=year,
            base=BaseInfo(id=base, name=base, region="410100", domain="新材料"),
            rules=rules,
            rules_version=1,
            launched_at=launched_at or datetime.now(UTC),
        ),
        id=cycle_id(rules.id, year, base),
        task_queue=task_queue,
        execution_timeout=timedelta(days=800),
    )


# Published by the assessment service, not by the workflows, as it assigns experts.
SERVICE_EVENTS = {"expert.assigned", "expert.reassigned"}


async def event_types(
    js: Any, program: str, year: int, base: str | None = None, *, services: bool = False
) -> list[str]:
    """The workflows' event types in stream order (and the services' with ``services``)."""
    events = await read_events(js, event_filter(program, year, base))
    types = [e.event_type.value for _, e in events]
    return types if services else [t for t in types if t not in SERVICE_EVENTS]


HISTORIES = Path(__file__).resolve().parent / "histories"


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With NAVCYCLE_RECORD_HISTORIES=1, keep a finished workflow's history for replay tests."""
    if os.environ.get("NAVCYCLE_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / history_filename(name, handle.id)).write_text(history.to_json())


@contextmanager
def fresh_database(server_url: str) -> Iterator[tuple[str, str]]:
    """A new, empty PostgreSQL database on the server of ``server_url``; dropped afterwards."""
    name = f"navcycle_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server_url.rpartition("/")
    try:
        yield name, f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def until(
    probe: Callable[[], Any],
    ok: Callable[[Any], object] = bool,
    what: str = "the expected state",
    *,
    limit_s: float = 60,
    every: float = 0.05,
    ignoring: type[BaseException] | tuple[type[BaseException], ...] = (),
) -> Any:
    """``probe()`` (plain or async) again every ``every`` seconds until ``ok`` of what it gives
    holds, and that; after ``limit_s`` seconds an AssertionError naming ``what`` and the last
    thing seen. A failure in ``ignoring`` (a workflow not started yet) counts as not yet."""

    async def look() -> Any:
        seen = probe()
        return await seen if inspect.isawaitable(seen) else seen

    def never(state: RetryCallState) -> Any:
        last = state.outcome and (state.outcome.exception() or state.outcome.result())
        raise AssertionError(f"{what} never happened in {limit_s:.0f} s: {last!r}")

    return await AsyncRetrying(
        stop=stop_after_delay(limit_s),
        wait=wait_fixed(every),
        retry=retry_if_exception_type(ignoring) | retry_if_result(lambda v: not ok(v)),
        retry_error_callback=never,
    )(look)


async def until_json(
    http: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    check: Callable[[Any], bool],
    limit_s: float = 60,
) -> Any:
    """GET ``path`` every 0.2 s until a 200 whose JSON body passes ``check``; that body."""

    async def get() -> tuple[int, Any]:
        resp = await http.get(path, headers=headers)
        json = resp.headers.get("content-type", "").startswith("application/json")
        return resp.status_code, resp.json() if json else resp.text

    def done(seen: tuple[int, Any]) -> bool:
        return seen[0] == 200 and check(seen[1])

    _, body = await until(get, done, limit_s=limit_s, every=0.2, what=f"GET {path}")
    return body


async def log_end(nc: NatsClient) -> int:
    """The event log's last sequence now: a consumer started after it reads only what a test
    publishes from here on, not every event the session's other tests left on the shared log
    (a fresh consumer at 0 read thousands of them first, past a minute late in the run)."""
    return int((await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq)


async def event_stream_on(url: str) -> None:
    """The event log on the NATS at ``url``, as ``navcycle serve`` makes it before a service's
    consumers start (a service broker built in a test starts no stream of its own)."""
    client = await nats.connect(url)
    try:
        await ensure_events_stream(client.jetstream(), duplicate_window_s=120)
    finally:
        await client.close()
