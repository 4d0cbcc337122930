"""The registry's request/reply handlers through FastStream's in-memory ``TestNatsBroker`` and
the real ``RpcClient``, on the broker ``build_broker`` makes and a SQLite file: a program's rules
and a holiday table come back typed; a refusal is an error reply with its stable code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from faststream.nats import TestNatsBroker

from services.registry.app import build_broker
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from shared.contracts.calendars import (
    ApplyCalendar,
    CalendarApplyResult,
    CalendarVersionPublic,
    GetCalendar,
)
from shared.contracts.registry import (
    ApplyRules,
    BasePublic,
    GetBase,
    GetProgram,
    PinnedRules,
    RulesApplied,
)
from shared.db import make_engine
from shared.migrations import upgrade
from shared.rpc import RpcClient, RpcError
from tests.unit.test_registry_use_cases import HOLIDAYS_2027, PRESET, PROGRAM


@pytest.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[RpcClient]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(engine, REGISTRY_MIGRATIONS)
    async with TestNatsBroker(build_broker("nats://127.0.0.1:1", engine)) as broker:
        yield RpcClient(broker)
    engine.dispose()


async def test_rules_applied_are_the_programs_current_rules(rpc: RpcClient) -> None:
    document = yaml.safe_load(PRESET.read_text("utf-8"))
    applied = await rpc.call("registry", "rules.apply", ApplyRules(document=document), RulesApplied)
    assert (applied.program, applied.created) == (PROGRAM, True)
    pinned = await rpc.call("registry", "rules.current", GetProgram(program=PROGRAM), PinnedRules)
    assert (pinned.rules.id, pinned.version) == (PROGRAM, applied.version)
    with pytest.raises(RpcError) as caught:
        await rpc.call("registry", "bases.get", GetBase(program=PROGRAM, base="b9"), BasePublic)
    assert (caught.value.code, caught.value.status) == ("base_not_found", 404)


async def test_a_holiday_table_is_applied_and_read_back(rpc: RpcClient) -> None:
    req = ApplyCalendar(document=HOLIDAYS_2027, source="test")
    applied = await rpc.call("registry", "calendars.apply", req, CalendarApplyResult)
    assert (applied.calendar, applied.version, applied.years) == ("cn-test", 1, [2027])
    query = GetCalendar(calendar="cn-test")
    current = await rpc.call("registry", "calendars.get", query, CalendarVersionPublic)
    assert (current.version, current.digest, current.source) == (1, applied.digest, "test")


async def test_a_bad_or_unknown_holiday_table_is_an_error_reply(rpc: RpcClient) -> None:
    bad = ApplyCalendar(document={"id": "cn-test", "years": {"2027": {"holidays": ["x"]}}})
    with pytest.raises(RpcError) as caught:
        await rpc.call("registry", "calendars.apply", bad, CalendarApplyResult)
    assert (caught.value.code, caught.value.status) == ("invalid_calendar", 422)
    assert caught.value.details["errors"]
    with pytest.raises(RpcError) as unknown:
        query = GetCalendar(calendar="nowhere")
        await rpc.call("registry", "calendars.get", query, CalendarVersionPublic)
    assert (unknown.value.code, unknown.value.status) == ("calendar_not_found", 404)
