"""Filed when sent: a plan that reached the gateway before its deadline is admitted even when the
cycle accepts it after the deadline, because its worker was away. Against the Temporal dev server
(real time), the services on a real nats-server, and the gateway in process."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from temporalio.worker import Worker

from services.gateway.routes import cycles
from shared.contracts.cycle import FilePlan
from shared.contracts.workflow_names import cycle_id
from shared.domain.stages import Stage
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from tests.conftest import DevStack, Stack
from tests.helpers import demo_rules, start_cycle, until, until_json
from tests.integration import driver
from tests.integration.test_filing_answers import BASE, PROGRAM, _years, gateway, plan_form
from workflows.activities import CycleActivities
from workflows.cycle import AnnualCycleWorkflow
from workflows.worker import build_worker

WINDOW_S = 12


class AwayWorker:
    """The cycle's worker, which can leave and come back on the same task queue."""

    def __init__(self, stack: Stack, dev_stack: DevStack, nc: NatsClient) -> None:
        self.task_queue = f"arrival-{uuid.uuid4().hex[:8]}"
        self.acts = CycleActivities(
            EventPublisher(nc.jetstream()), RpcClient(nc), stack.objects, dev_stack.client
        )
        self.client = dev_stack.client
        self.worker: Worker | None = None
        self.running: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.worker = build_worker(self.client, self.task_queue, self.acts)
        self.running = asyncio.create_task(self.worker.run())

    async def leave(self) -> None:
        assert self.worker is not None and self.running is not None
        await self.worker.shutdown()
        await self.running
        self.worker = self.running = None


@pytest.fixture
async def away(stack: Stack, dev_stack: DevStack, nc: NatsClient) -> AsyncIterator[AwayWorker]:
    worker = AwayWorker(stack, dev_stack, nc)
    worker.start()
    yield worker
    if worker.worker is not None:
        await worker.leave()


async def file_while_the_worker_is_away(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    away: AwayWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[datetime, datetime, httpx.Response, int]:
    """Send a plan well before the deadline; the worker leaves once the gateway has checked the
    cycle and stored the upload, and comes back two seconds after the deadline. Returns the
    deadline, when the plan was sent, the answer and the cycle's year."""
    rules = demo_rules(
        id=PROGRAM,
        calendar__reminders=[],
        calendar__plan_window=f"PT{WINDOW_S}S",
        calendar__self_evaluation_due="PT2H",
    )
    driver.register(stack, rules, [BASE])
    year = next(_years)
    await start_cycle(
        dev_stack.client, away.task_queue, rules, year, base=BASE, launched_at=datetime.now(UTC)
    )
    path = f"/v1/programs/{PROGRAM}/years/{year}/bases/{BASE}"
    stored = cycles.store_upload

    async def store_then_leave(*args: Any, **kwargs: Any) -> Any:
        upload = await stored(*args, **kwargs)
        await away.leave()  # between the gateway's check and the update: nobody accepts it
        return upload

    monkeypatch.setattr(cycles, "store_upload", store_then_leave)
    settings = {"task_queue": away.task_queue, "update_answer_wait_s": 30}
    async with gateway(stack, dev_stack, nc, tmp_path, **settings) as (http, who):
        state = await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")
        due = datetime.fromisoformat(state["deadlines"]["plan"])
        sent = datetime.now(UTC)
        assert due - sent > timedelta(seconds=3), "the cycle took too long to open"
        filing = asyncio.create_task(http.post(f"{path}/plan", headers=who, **plan_form("away")[1]))
        await asyncio.sleep((due - datetime.now(UTC)).total_seconds() + 2)
        assert not filing.done(), "the update was answered while no worker ran"
        away.start()
        return due, sent, await filing, year


async def test_a_plan_sent_before_the_deadline_and_accepted_after_it_is_admitted(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    away: AwayWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due, sent, answer, year = await file_while_the_worker_is_away(
        stack, dev_stack, nc, tmp_path, away, monkeypatch
    )
    assert answer.status_code in (201, 202), answer.text
    arrived = datetime.fromisoformat(answer.json()["received_at"])
    assert sent <= arrived < sent + timedelta(seconds=1) and arrived < due
    assert arrived.utcoffset() == timedelta(hours=8)  # Beijing time on the wire

    handle = dev_stack.client.get_workflow_handle(cycle_id(PROGRAM, year, BASE))
    state = await until(
        lambda: handle.query(AnnualCycleWorkflow.state),
        lambda s: s.stage != Stage.PLAN_FILING,
        every=0.2,
    )
    assert state.stage == Stage.PLAN_REVIEW, state.stage
    [doc] = state.documents
    assert doc.filed_at == arrived  # filed when sent, not when the worker came back
    assert doc.sha256 == hashlib.sha256(plan_form("away")[0]).hexdigest()
    if answer.status_code == 201:
        assert answer.json()["document_id"] == doc.document_id


async def test_the_same_plan_without_its_arrival_is_deadline_passed(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    away: AwayWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control: judged when the worker gets to it, as before arrival stamps, it is late."""

    def unstamped(**fields: Any) -> FilePlan:
        return FilePlan(**{**fields, "received_at": None})

    monkeypatch.setattr(cycles, "FilePlan", unstamped)
    _, _, answer, _ = await file_while_the_worker_is_away(
        stack, dev_stack, nc, tmp_path, away, monkeypatch
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "deadline_passed"
