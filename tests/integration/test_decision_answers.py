"""How the gateway answers a decision (here a deadline extension; plan reviews and scores take
the same path): its answer once the cycle has acted on it, 202 Accepted with a Location once the
cycle has accepted it but is still acting, never a 503 for an accepted decision; a retry with the
same Idempotency-Key gets the first answer. Against the Temporal dev server, with a worker whose
event publishing waits for the test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from temporalio import activity

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user
from shared.contracts.activities import PublishRequest
from shared.db import make_engine
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.settings import Settings
from tests.conftest import DevStack, Stack
from tests.helpers import until_json
from tests.integration.test_filing_answers import PROGRAM, open_cycle
from workflows.activities import CycleActivities
from workflows.worker import build_worker


class HeldEvents(CycleActivities):
    """The worker's activities, with event publishing held while the gate is closed."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.gate = asyncio.Event()
        self.gate.set()

    @activity.defn(name="publish_event")
    async def publish_event(self, req: PublishRequest) -> int:
        await self.gate.wait()
        return await super().publish_event(req)


@pytest.fixture
async def held(
    stack: Stack, dev_stack: DevStack, nc: NatsClient
) -> AsyncIterator[tuple[str, HeldEvents]]:
    task_queue = f"held-{uuid.uuid4().hex[:8]}"
    acts = HeldEvents(
        EventPublisher(nc.jetstream()), RpcClient(nc), stack.objects, dev_stack.client
    )
    async with build_worker(dev_stack.client, task_queue, acts):
        yield task_queue, acts
        acts.gate.set()


@asynccontextmanager
async def province_gateway(
    stack: Stack, dev_stack: DevStack, nc: NatsClient, tmp: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    users = make_engine(f"sqlite:///{tmp / f'gateway-{uuid.uuid4().hex[:6]}.db'}")
    upgrade(users, GATEWAY_MIGRATIONS)
    name = f"province-{uuid.uuid4().hex[:6]}"
    token = add_user(users, Principal(name=name, role="province_admin", program=PROGRAM))
    config = Settings(_env_file=None, state_dir=tmp, update_answer_wait_s=0.5)  # type: ignore[call-arg]

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


async def test_an_accepted_decision_still_being_acted_on_is_202_then_its_answer(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    held: tuple[str, HeldEvents],
) -> None:
    task_queue, acts = held
    _, path = await open_cycle(stack, dev_stack, task_queue)
    until = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0)
    body = {"deadline": "plan", "until": until.isoformat(), "reason": "系统维护 / maintenance"}
    async with province_gateway(stack, dev_stack, nc, tmp_path) as (http, who):
        await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")
        keyed = {**who, "Idempotency-Key": "extend-held-1"}
        acts.gate.clear()  # the cycle accepts the extension, then waits to publish its event
        first = await http.post(f"{path}/deadlines", headers=keyed, json=body)
        assert first.status_code == 202, first.text
        assert first.headers["location"] == path
        answer = first.json()
        assert answer["status"] == "accepted" and answer["location"] == path
        assert answer["update_id"].startswith("idem:") and answer["update_id"].endswith(
            ":extend:extend-held-1"
        )
        assert "已受理" in answer["message"] and "Accepted" in answer["message"]
        # A retry while it is still being acted on: 202 again, not a second extension.
        again = await http.post(f"{path}/deadlines", headers=keyed, json=body)
        assert again.status_code == 202, again.text

        acts.gate.set()
        state = await until_json(
            http, path, who, lambda s: s["deadlines"]["plan"].startswith(until.date().isoformat())
        )
        assert datetime.fromisoformat(state["deadlines"]["plan"]) == until
        for _ in range(50):  # the update's completion may trail the state by a workflow task
            done = await http.post(f"{path}/deadlines", headers=keyed, json=body)
            if done.status_code != 202:
                break
            await asyncio.sleep(0.2)
        assert done.status_code == 200, done.text
        assert done.json()["deadline"] == "plan"
        assert datetime.fromisoformat(done.json()["until"]) == until
