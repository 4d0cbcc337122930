"""How the gateway answers a filing: 201 with the receipt once the cycle has recorded it, 202
Accepted once the cycle has accepted it but is still recording it, 503 only when no worker
accepts it. Against the Temporal dev server (real time), the services on a real nats-server, and
the gateway in process; some cycles run on a worker whose document registration waits for the
test, so that "still recording" lasts as long as the test needs."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from temporalio import activity
from temporalio.worker import Worker

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user
from services.gateway.routes import cycles
from shared.contracts.activities import PublishRequest, RecordFiling
from shared.contracts.filings import DocumentRecord
from shared.db import make_engine
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.settings import Settings
from tests.conftest import DevStack, Stack
from tests.helpers import demo_rules, event_types, start_cycle, until, until_json
from tests.integration import driver
from workflows.activities import CycleActivities
from workflows.worker import build_worker

PROGRAM = "filing-answers"
BASE = "zz-biomed"
_years = itertools.count(2061)  # each test a cycle of its own; the gateway takes years to 2100
TARGETS = json.dumps([{"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"}])

Gateway = Callable[..., Any]


class GatedActivities(CycleActivities):
    """The worker's activities, with document registration (a filing's local activity, or the
    activity of a cycle that filed before it) held until the test opens ``gate``: the filing
    update is accepted at once and completes only then. Event publishing is held while
    ``events`` is closed (open unless a test closes it): a decision's update then waits."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.gate = asyncio.Event()
        self.events = asyncio.Event()
        self.events.set()

    @activity.defn(name="publish_event")
    async def publish_event(self, req: PublishRequest) -> int:
        await self.events.wait()
        return await super().publish_event(req)

    @activity.defn(name="register_document")
    async def register_document(self, req: DocumentRecord) -> None:
        await self.gate.wait()
        await super().register_document(req)

    @activity.defn(name="record_filing")
    async def record_filing(self, req: RecordFiling) -> int:
        await self.gate.wait()
        return await super().record_filing(req)


@pytest.fixture
async def gated(
    stack: Stack, dev_stack: DevStack, nc: NatsClient
) -> AsyncIterator[tuple[str, GatedActivities]]:
    task_queue = f"gated-{uuid.uuid4().hex[:8]}"
    acts = GatedActivities(
        EventPublisher(nc.jetstream()), RpcClient(nc), stack.objects, dev_stack.client
    )
    async with build_worker(dev_stack.client, task_queue, acts):
        yield task_queue, acts
        acts.gate.set()  # let the worker shut down without an activity held
        acts.events.set()


@asynccontextmanager
async def gateway(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp: Path,
    who: Principal | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The gateway in process with these settings, and the headers of ``who`` (by default a
    staff member of the base)."""
    users = make_engine(f"sqlite:///{tmp / f'gateway-{uuid.uuid4().hex[:6]}.db'}")
    upgrade(users, GATEWAY_MIGRATIONS)
    staff = Principal(
        name=f"staff-{uuid.uuid4().hex[:6]}", role="base_user", program=PROGRAM, base=BASE
    )
    token = add_user(users, who or staff)
    config = Settings(_env_file=None, state_dir=tmp, **settings)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(config, dev_stack.client, nc, RpcClient(nc), stack.objects, users)

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", timeout=120
        ) as http:
            yield http, {"Authorization": f"Bearer {token}"}


async def open_cycle(stack: Stack, dev_stack: DevStack, task_queue: str) -> tuple[int, str]:
    """A cycle of a fresh year in plan_filing with an hour to file; its state path."""
    rules = demo_rules(
        id=PROGRAM,
        calendar__reminders=[],
        calendar__plan_window="PT1H",
        calendar__self_evaluation_due="PT2H",
    )
    driver.register(stack, rules, [BASE])
    year = next(_years)
    await start_cycle(
        dev_stack.client, task_queue, rules, year, base=BASE, launched_at=datetime.now(UTC)
    )
    return year, f"/v1/programs/{PROGRAM}/years/{year}/bases/{BASE}"


def plan_form(text: str) -> tuple[bytes, dict[str, Any]]:
    data = f"%PDF-1.4\n% plan: {text}\n".encode()
    return data, {
        "files": {"file": ("实施方案.pdf", data, "application/pdf")},
        "data": {"targets": TARGETS},
    }


async def answered(post: Callable[[], Awaitable[httpx.Response]], what: str) -> httpx.Response:
    """``post()`` (a retry with the same key) again every 0.2 s while it answers 202: once the
    cycle state shows the action done, the update's completion may still trail it by a workflow
    task. The first other answer."""
    resp: httpx.Response = await until(
        post, lambda r: r.status_code != 202, f"an answer other than 202 to {what}", every=0.2
    )
    return resp


async def receipt_after_retries(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], form: dict[str, Any]
) -> httpx.Response:
    """Retries with the same key once the cycle state shows the plan recorded: a 202 while the
    update's completion trails the state, then the receipt."""
    resp = await answered(lambda: http.post(url, headers=headers, **form), "the plan's retry")
    assert resp.status_code == 201, resp.text
    return resp


def accepted_answer(resp: httpx.Response, path: str, update_id: str) -> dict[str, Any]:
    assert resp.status_code == 202, resp.text
    assert resp.headers["location"] == path
    body: dict[str, Any] = resp.json()
    assert body["status"] == "accepted" and body["location"] == path
    # The key is the caller's own, per action: idem:<user>:<action>:<Idempotency-Key>.
    prefix, _, key = update_id.partition(":")
    user, action, scoped = body["update_id"].split(":", 3)[1:]
    assert (prefix, scoped, action) == ("idem", key, "plan") and user.startswith("staff-")
    assert "已受理" in body["message"] and "Accepted" in body["message"]
    return body


async def test_a_filing_not_recorded_within_the_wait_is_202_and_recorded_after(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],
) -> None:
    """With no time to wait and the recording held, the answer is 202 as soon as the cycle
    accepted the plan; the plan is then recorded without the client, and a retry with the key
    gets the receipt. (Recorded in the accepting workflow task, it would be 201 at once.)"""
    task_queue, acts = gated
    _, path = await open_cycle(stack, dev_stack, task_queue)
    data, form = plan_form("recorded after the answer")
    keyed = {"Idempotency-Key": "answers-late-1"}
    async with gateway(stack, dev_stack, nc, tmp_path, update_answer_wait_s=0) as (http, who):
        await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")
        first = await http.post(f"{path}/plan", headers={**who, **keyed}, **form)
        body = accepted_answer(first, path, "idem:answers-late-1")
        acts.gate.set()
        stored = body["document"]
        assert stored["sha256"] == hashlib.sha256(data).hexdigest()
        assert stored["size"] == len(data) and stored["filename"] == "实施方案.pdf"
        assert await stack.objects.get(stored["key"]) == data

        state = await until_json(
            http, first.headers["location"], who, lambda s: s["stage"] != "plan_filing"
        )
        assert state["stage"] == "plan_review" and state["plan_filed"] is True
        [doc] = state["documents"]
        assert doc["sha256"] == stored["sha256"] and doc["key"] == stored["key"]

        again = await receipt_after_retries(http, f"{path}/plan", {**who, **keyed}, form)
        assert again.json() == {
            "document_id": doc["document_id"],
            "sha256": stored["sha256"],
            "version": 1,
            "size": len(data),
            "received_at": doc["filed_at"],  # filed when it reached the gateway
        }
        assert doc["filed_at"] == body["received_at"]
        # Recorded with the filings service too: the document is served by its id.
        download = await http.get(f"/v1/documents/{doc['document_id']}", headers=who)
        assert download.status_code == 200 and download.content == data


async def test_a_retry_while_the_filing_runs_is_202_then_201_with_the_same_receipt(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],
) -> None:
    task_queue, acts = gated
    year, path = await open_cycle(stack, dev_stack, task_queue)
    data, form = plan_form("retried while running")
    keyed = {"Idempotency-Key": "answers-retry-1"}
    settings = {"task_queue": task_queue, "update_answer_wait_s": 0.5}
    async with gateway(stack, dev_stack, nc, tmp_path, **settings) as (http, who):
        await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")
        first = await http.post(f"{path}/plan", headers={**who, **keyed}, **form)
        assert accepted_answer(first, path, "idem:answers-retry-1")["document"] is not None

        # Still recording (the registration is held): every retry is 202, none files again.
        for _ in range(2):
            retried = await http.post(f"{path}/plan", headers={**who, **keyed}, **form)
            assert accepted_answer(retried, path, "idem:answers-retry-1")["document"] is None
        other = await http.post(
            f"{path}/plan", headers={**who, "Idempotency-Key": "answers-retry-2"}, **form
        )
        assert (other.status_code, other.json()["code"]) == (409, "duplicate_filing")
        state = (await http.get(path, headers=who)).json()
        assert state["stage"] == "plan_filing" and state["plan_filed"] is True

        acts.gate.set()
        state = await until_json(http, path, who, lambda s: s["stage"] == "plan_review")
        [doc] = state["documents"]
        done = await receipt_after_retries(http, f"{path}/plan", {**who, **keyed}, form)
        receipts = [done.json()]
        for _ in range(2):  # once answered with the receipt, always the receipt
            done = await http.post(f"{path}/plan", headers={**who, **keyed}, **form)
            assert done.status_code == 201, done.text
            receipts.append(done.json())
        assert (
            receipts[0]
            == receipts[1]
            == {
                "document_id": doc["document_id"],
                "sha256": hashlib.sha256(data).hexdigest(),
                "version": 1,
                "size": len(data),
                "received_at": doc["filed_at"],
            }
        )
    types = await event_types(nc.jetstream(), PROGRAM, year, BASE)
    assert types.count("plan.filed") == 1, types


async def test_the_validator_refusing_is_a_409_even_with_no_wait(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal comes back with the acceptance call: it is never hidden behind a 202."""
    task_queue, _ = gated
    _, path = await open_cycle(stack, dev_stack, task_queue)
    settings = {"task_queue": task_queue, "update_answer_wait_s": 0}
    async with gateway(stack, dev_stack, nc, tmp_path, **settings) as (http, who):
        await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")
        first = await http.post(f"{path}/plan", headers=who, **plan_form("first")[1])
        assert first.status_code == 202, first.text
        assert first.json()["update_id"]  # the client's own id when no key was sent

        # The workflow's validator is the one judge: it sees the plan is already filed.
        second = await http.post(
            f"{path}/plan",
            headers={**who, "Idempotency-Key": "answers-refused-1"},
            **plan_form("second")[1],
        )
        assert second.status_code == 409, second.text
        assert second.json()["code"] == "duplicate_filing"
        assert second.json()["stage"] == "plan_filing"


async def test_a_filing_no_worker_accepts_is_503_worker_unavailable(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task_queue = f"away-{uuid.uuid4().hex[:8]}"
    acts = CycleActivities(
        EventPublisher(nc.jetstream()), RpcClient(nc), stack.objects, dev_stack.client
    )
    worker: Worker = build_worker(dev_stack.client, task_queue, acts)
    async with worker:
        _, path = await open_cycle(stack, dev_stack, task_queue)
        async with gateway(stack, dev_stack, nc, tmp_path, task_queue=task_queue) as (http, who):
            await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")

    # The worker is gone: the filing's update is not accepted (no stage query comes first).
    monkeypatch.setattr(cycles, "ACCEPT_TIMEOUT", timedelta(seconds=2))
    async with gateway(stack, dev_stack, nc, tmp_path, task_queue=task_queue) as (http, who):
        started = time.monotonic()
        refused = await http.post(f"{path}/plan", headers=who, **plan_form("nobody")[1])
        waited = time.monotonic() - started
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "worker_unavailable"
    assert 1.5 < waited < 15


async def test_a_filing_recorded_within_the_wait_is_201_with_its_receipt(
    stack: Stack, dev_stack: DevStack, nc: NatsClient, tmp_path: Path
) -> None:
    _, path = await open_cycle(stack, dev_stack, dev_stack.task_queue)
    data, form = plan_form("recorded at once")
    async with gateway(stack, dev_stack, nc, tmp_path) as (http, who):  # the default wait
        await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")
        filed = await http.post(f"{path}/plan", headers=who, **form)
        assert filed.status_code == 201, filed.text
        assert "location" not in filed.headers
        receipt = filed.json()
        state = (await http.get(path, headers=who)).json()
    assert state["stage"] == "plan_review"
    assert receipt["document_id"] == state["documents"][0]["document_id"]
    assert receipt["sha256"] == hashlib.sha256(data).hexdigest() and receipt["version"] == 1
