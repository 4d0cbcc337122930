"""The dashboard's request/reply handlers through FastStream's in-memory ``TestNatsBroker`` and
the real ``RpcClient``, on the router ``build_router`` makes and a SQLite file the projection
filled: an answer comes back typed, a question outside the contract is a 422 reply. (The batch
consumer's acks, redeliveries and order need a real nats-server: tests/integration.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker, TestNatsBroker
from pydantic import BaseModel

from services.dashboard.app import build_router
from shared.contracts.dashboard import BaseQuery, BaseTimeline, YearCounts, YearList, YearQuery
from shared.rpc import Empty, RpcClient, RpcError
from tests.unit.test_dashboard_use_cases import projected


@pytest.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[RpcClient]:
    engine = projected(tmp_path / "dashboard.db")
    broker = NatsBroker()  # build_broker's batch consumer needs JetStream: the router alone
    broker.include_router(build_router(engine))
    async with TestNatsBroker(broker) as connected:
        yield RpcClient(connected)
    engine.dispose()


async def test_the_dashboard_answers_what_it_projected(rpc: RpcClient) -> None:
    years = await rpc.call("dashboard", "years", Empty(), YearList)
    assert [(y.program, y.year, y.bases) for y in years.years] == [("p", 2026, 2)]
    counts = await rpc.call("dashboard", "counts", YearQuery(program="p", year=2026), YearCounts)
    assert (counts.bases, counts.stream_seq) == (2, 3)
    query = BaseQuery(program="p", year=2026, base="b2")
    timeline = await rpc.call("dashboard", "timeline", query, BaseTimeline)
    assert [e.stream_seq for e in timeline.events] == [2, 3]


async def test_a_question_outside_the_contract_is_a_422_reply(rpc: RpcClient) -> None:
    class AnyYear(BaseModel):
        program: str
        year: int

    with pytest.raises(RpcError) as caught:
        await rpc.call("dashboard", "counts", AnyYear(program="p", year=1999), YearCounts)
    assert (caught.value.code, caught.value.status) == ("invalid_request", 422)
