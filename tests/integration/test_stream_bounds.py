"""The dashboard's event streams are bounded: a user past its streams, or a gateway past all of
them, gets 429 ``too_many_streams``; a stream whose token is revoked ends with a ``problem``
event and frees its slot. The gateway served by uvicorn, the dashboard service on a real
nats-server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import uvicorn
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine

from services.dashboard.app import build_broker
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.gateway import stream_slots
from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user, revoke_user
from shared.db import make_engine
from shared.embedded import free_port, wait_port
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.stream import ensure_events_stream
from tests.helpers import until

STREAM = "/v1/programs/p1/years/2030/dashboard/stream"


@pytest.fixture
def users(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(engine, GATEWAY_MIGRATIONS)
    return engine


@pytest.fixture
async def dashboard(nats_url: str, nc: NatsClient, tmp_path: Path) -> AsyncIterator[None]:
    await ensure_events_stream(nc.jetstream(), 120)
    engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    broker = build_broker(nats_url, engine, consumer=f"dashboard-{uuid.uuid4().hex[:8]}")
    await broker.start()
    yield
    await broker.stop()


@pytest.fixture
def served(nats_url: str, users: Engine, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    settings = Settings(_env_file=None, state_dir=tmp_path)  # type: ignore[call-arg]

    async def build() -> Deps:
        nc = await nats.connect(nats_url)
        return Deps(settings, None, nc, RpcClient(nc), None, users)  # type: ignore[arg-type]

    async def close(deps: Deps) -> None:
        await deps.nats.close()

    app = create_app(build, close)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_port(port)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(10)


def _admin(users: Engine, name: str) -> dict[str, str]:
    token = add_user(users, Principal(name=name, role="province_admin", program="p1"))
    return {"Authorization": f"Bearer {token}"}


async def _first_event(lines: AsyncIterator[str]) -> str:
    """The first event's name; ``lines`` is kept open by the caller (dropping the iterator
    would close the stream)."""
    async for line in lines:
        if line.startswith("event:"):
            return line.removeprefix("event:").strip()
    raise AssertionError("the stream ended without an event")


async def test_streams_are_capped_per_user_and_overall(
    dashboard: None, served: tuple[str, Any], users: Engine
) -> None:
    url, app = served
    one, two = _admin(users, "admin-one"), _admin(users, "admin-two")
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        async with (
            http.stream("GET", STREAM, headers=one) as a,
            http.stream("GET", STREAM, headers=one) as b,
            http.stream("GET", STREAM, headers=one) as c,
        ):
            open_lines = [resp.aiter_lines() for resp in (a, b, c)]
            for resp, lines in zip((a, b, c), open_lines, strict=True):
                assert resp.status_code == 200
                assert await _first_event(lines) == "counts"
            over = await http.get(STREAM, headers=one)
            assert (over.status_code, over.json()["code"]) == (429, "too_many_streams")
            assert int(over.headers["retry-after"]) > 0
            app.state.stream_slots.total = 3  # the gateway is full: another user waits too
            full = await http.get(STREAM, headers=two)
            assert (full.status_code, full.json()["code"]) == (429, "too_many_streams")
        # The closed streams give their slots back.
        await until(lambda: app.state.stream_slots.open == 0, every=0.1)
        async with http.stream("GET", STREAM, headers=two) as again:
            assert again.status_code == 200


async def test_a_stream_ends_once_its_token_is_revoked(
    dashboard: None,
    served: tuple[str, Any],
    users: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, app = served
    monkeypatch.setattr("services.gateway.routes.dashboard.RECHECK_S", 0.5)
    assert stream_slots.RECHECK_S == 30.0  # the default, for the record
    who = _admin(users, "admin-revoked")
    async with (
        httpx.AsyncClient(base_url=url, timeout=5) as http,
        http.stream("GET", STREAM, headers=who) as resp,
    ):
        assert resp.status_code == 200
        lines = resp.aiter_lines()
        events: list[str] = []
        revoked = False
        async for line in lines:
            if line.startswith("event:"):
                events.append(line.removeprefix("event:").strip())
                if not revoked:
                    assert revoke_user(users, "admin-revoked")
                    revoked = True
            if line.startswith("data:") and events[-1] == "problem":
                assert "code" in line
        # The loop ended: the server closed the stream.
        assert events[0] == "counts" and events[-1] == "problem"
    assert app.state.stream_slots.open == 0
