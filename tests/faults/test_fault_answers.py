"""The answers the faulty year showed had to change, each pinned without a stack (fast): a query
that times out under load, a dropped database connection in the gateway and in a service's
request handler all become a 503 with a stable code, never a 500 or a silent timeout."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from faststream.nats import NatsBroker, NatsRouter, TestNatsBroker
from sqlalchemy.exc import OperationalError
from temporalio.service import RPCError, RPCStatusCode

from services.gateway import problems
from services.gateway.problems import ApiError
from services.gateway.temporal_errors import call_workflow
from shared.rpc import Empty, RpcClient, RpcError
from shared.service import rpc_subscriber


def _dropped() -> OperationalError:
    return OperationalError(
        "SELECT 1", {}, Exception("terminating connection due to administrator command")
    )


async def test_a_query_that_times_out_is_a_503_worker_unavailable() -> None:
    async def query() -> None:
        # What the Temporal client raises when no busy or live worker answers a query in time.
        raise RPCError("Timeout expired", RPCStatusCode.CANCELLED, b"")

    with pytest.raises(ApiError) as caught:
        await call_workflow(query(), what="the cycle")
    assert (caught.value.status, caught.value.code) == (503, "worker_unavailable")


def test_a_dropped_database_connection_in_the_gateway_is_a_503_problem() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/needs-the-database")
    async def needs_the_database() -> None:
        raise _dropped()

    answer = TestClient(app, raise_server_exceptions=False).get("/needs-the-database")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "database_unavailable"


async def test_a_service_handler_that_fails_answers_at_once_with_a_503() -> None:
    broker = NatsBroker()
    router = NatsRouter()
    subscriber = rpc_subscriber(router, "registry")

    @subscriber("needs-the-database")
    async def handler(_: Empty) -> Empty:
        raise _dropped()

    broker.include_router(router)
    async with TestNatsBroker(broker) as connected:
        with pytest.raises(RpcError) as caught:
            await RpcClient(connected).call("registry", "needs-the-database", Empty(), Empty)
    assert (caught.value.code, caught.value.status) == ("service_unavailable", 503)
