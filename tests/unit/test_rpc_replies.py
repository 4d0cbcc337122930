"""The request/reply wire, through FastStream's in-memory ``TestNatsBroker`` and the real
``RpcClient``: a typed handler's model is the reply, and every refusal, bad request and crash is
an error reply the caller raises as ``RpcError`` with its stable code and status."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker, NatsRouter, TestNatsBroker
from pydantic import BaseModel
from structlog.testing import capture_logs

from shared.rpc import ERROR_HEADER, Empty, RpcClient, RpcError
from shared.service import rpc_subscriber


class Ask(BaseModel):
    n: int


class Answer(BaseModel):
    doubled: int


def _broker() -> NatsBroker:
    router = NatsRouter()
    subscriber = rpc_subscriber(router, "demo")

    @subscriber("double")
    async def double(req: Ask) -> Answer:
        if req.n < 0:
            raise RpcError("negative", "负数不可 — no negative numbers", 409, given=req.n)
        if req.n == 13:
            raise RuntimeError("unlucky")
        return Answer(doubled=2 * req.n)

    @subscriber("nothing")
    async def nothing(_: Empty) -> None:
        return None

    broker = NatsBroker()
    broker.include_router(router)
    return broker


@pytest.fixture
async def rpc() -> AsyncIterator[RpcClient]:
    async with TestNatsBroker(_broker()) as broker:
        yield RpcClient(broker)


async def test_a_typed_handler_answers_with_its_reply_model(rpc: RpcClient) -> None:
    assert await rpc.call("demo", "double", Ask(n=4), Answer) == Answer(doubled=8)


async def test_a_handler_returning_nothing_answers_an_empty_reply(rpc: RpcClient) -> None:
    assert await rpc.call("demo", "nothing", Empty(), Empty) == Empty()


async def test_a_refusal_keeps_its_code_status_and_details(rpc: RpcClient) -> None:
    with pytest.raises(RpcError) as caught:
        await rpc.call("demo", "double", Ask(n=-1), Answer)
    assert (caught.value.code, caught.value.status) == ("negative", 409)
    assert caught.value.details == {"given": -1}
    assert "no negative numbers" in caught.value.message


async def test_a_request_the_handler_cannot_read_is_422_invalid_request(rpc: RpcClient) -> None:
    class Wrong(BaseModel):
        n: str

    with pytest.raises(RpcError) as caught:
        await rpc.call("demo", "double", Wrong(n="four"), Answer)
    assert (caught.value.code, caught.value.status) == ("invalid_request", 422)


async def test_a_crash_is_a_503_reply_and_a_log_line(rpc: RpcClient) -> None:
    with capture_logs() as logs, pytest.raises(RpcError) as caught:
        await rpc.call("demo", "double", Ask(n=13), Answer)
    assert (caught.value.code, caught.value.status) == ("service_unavailable", 503)
    assert "RuntimeError" in caught.value.message
    assert [e["subject"] for e in logs if e["event"] == "rpc.failed"] == [
        "navcycle.rpc.demo.double"
    ]


async def test_an_error_reply_is_marked_by_its_header() -> None:
    async with TestNatsBroker(_broker()) as broker:
        refused = await broker.request(Ask(n=-1), "navcycle.rpc.demo.double")
        answered = await broker.request(Ask(n=1), "navcycle.rpc.demo.double")
    assert refused.headers[ERROR_HEADER] == "negative"
    assert ERROR_HEADER not in answered.headers


async def test_no_service_is_a_503(rpc: RpcClient) -> None:
    with pytest.raises(RpcError) as caught:
        await rpc.call("nobody", "double", Ask(n=1), Answer)
    assert (caught.value.code, caught.value.status) == ("service_unavailable", 503)
