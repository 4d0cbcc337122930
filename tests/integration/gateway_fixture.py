"""The gateway in process for integration tests: the real app on the test stack (the Temporal
test server, services on a real nats-server, the stack's object store), its users in a SQLite
file of the test's own, called through httpx without a socket."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine
from temporalio.client import Client

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user
from shared.db import make_engine
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.settings import Settings
from tests.conftest import Stack

CLIENT_ADDRESS = ("203.0.113.7", 4000)


def problem(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem document of ``resp``, asserting its status, media type and stable code."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    found: dict[str, Any] = resp.json()
    assert found["code"] == code, found
    return found


@dataclass
class Api:
    http: httpx.AsyncClient
    tokens: dict[str, str]
    users: Engine  # the gateway's own database (users, sign-in links, portal sessions)
    app: FastAPI

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@asynccontextmanager
async def gateway(
    stack: Stack,
    nc: NatsClient,
    tmp_path: Path,
    users: dict[str, Principal],
    temporal: Client | None = None,
) -> AsyncIterator[Api]:
    """The gateway with these users signed up; ``Api.auth(who)`` is the bearer header of one.
    ``temporal``: a client of the stack's server to use instead of the stack's own (one with an
    interceptor, to count what the gateway asks)."""
    engine = make_engine(f"sqlite:///{tmp_path / f'gateway-{uuid.uuid4().hex[:6]}.db'}")
    upgrade(engine, GATEWAY_MIGRATIONS)
    tokens = {who: add_user(engine, p) for who, p in users.items()}
    config = Settings(_env_file=None, state_dir=tmp_path)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(config, temporal or stack.client, nc, RpcClient(nc), stack.objects, engine)

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Api(http, tokens, engine, app)
