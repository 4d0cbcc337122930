"""The assessment service's request/reply handlers through FastStream's in-memory
``TestNatsBroker`` and the real ``RpcClient``, on the broker ``build_broker`` makes and a SQLite
file: an answer comes back typed, a refusal is an error reply with its stable code. (What
JetStream does with the events, acks and redeliveries, is for the real-server tests.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import TestNatsBroker

from services.assessment.app import build_broker
from services.assessment.tables import MIGRATIONS as ASSESSMENT_MIGRATIONS
from shared.contracts.assessment import (
    AddExpert,
    AssignmentQuery,
    Assignments,
    OpenAssignments,
    ReassignExperts,
    RosterQuery,
    RosterStatus,
)
from shared.db import make_engine
from shared.migrations import upgrade
from shared.rpc import Empty, RpcClient, RpcError


@pytest.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[RpcClient]:
    engine = make_engine(f"sqlite:///{tmp_path / 'assessment.db'}")
    upgrade(engine, ASSESSMENT_MIGRATIONS)
    async with TestNatsBroker(build_broker("nats://127.0.0.1:1", engine)) as broker:
        yield RpcClient(broker)
    engine.dispose()


async def test_experts_added_make_the_roster_long_enough(rpc: RpcClient) -> None:
    for expert in ("e1", "e2"):
        assert (
            await rpc.call(
                "assessment", "experts.add", AddExpert(program="p", expert=expert), Empty
            )
            == Empty()
        )
    status = await rpc.call(
        "assessment", "roster.check", RosterQuery(program="p", needed=2), RosterStatus
    )
    assert (status.size, status.ok, status.message) == (2, True, None)
    query = AssignmentQuery(program="p", year=2026, base="b1")
    none = await rpc.call("assessment", "assignments.current", query, Assignments)
    assert (none.round, none.experts) == (None, [])


async def test_a_round_the_roster_cannot_fill_is_a_409_reply(rpc: RpcClient) -> None:
    await rpc.call("assessment", "experts.add", AddExpert(program="p", expert="e1"), Empty)
    req = OpenAssignments(program="p", year=2026, base="b1", round=0, needed=3)
    with pytest.raises(RpcError) as caught:
        await rpc.call("assessment", "assignments.open", req, Assignments)
    assert (caught.value.code, caught.value.status) == ("roster_too_short", 409)
    assert caught.value.details == {"needed": 3, "available": 1}


async def test_reassigning_a_review_never_assigned_is_a_404_reply(rpc: RpcClient) -> None:
    req = ReassignExperts(program="p", year=2026, base="b1", replace=["e1"], reason="r", by="o")
    with pytest.raises(RpcError) as caught:
        await rpc.call("assessment", "assignments.reassign", req, Assignments)
    assert (caught.value.code, caught.value.status) == ("review_not_assigned", 404)


async def test_a_request_missing_its_fields_is_a_422_reply(rpc: RpcClient) -> None:
    with pytest.raises(RpcError) as caught:
        await rpc.call(
            "assessment", "assignments.open", RosterQuery(program="p", needed=1), Assignments
        )
    assert (caught.value.code, caught.value.status) == ("invalid_request", 422)
