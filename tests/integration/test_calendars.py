"""The registry's holiday tables on a real nats-server, on SQLite and PostgreSQL: apply merges
years, an unchanged table makes no version, bad tables are refused field by field, and the
bundled tables never overwrite a bureau's correction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy import Engine

from services.registry.app import build_broker
from services.registry.calendars import load_bundled_calendars
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from shared.contracts.calendars import (
    ApplyCalendar,
    CalendarApplyResult,
    CalendarVersionPublic,
    GetCalendar,
)
from shared.db import make_engine
from shared.domain.holidays import load_holiday_table_file, parse_holiday_table
from shared.migrations import upgrade
from shared.rpc import RpcClient, RpcError
from shared.settings import DEPLOY_DIR
from tests.conftest import DATABASES, postgres_url
from tests.helpers import event_stream_on, fresh_database
from tests.servers import nats_server

BUNDLED = DEPLOY_DIR / "calendars"

YEAR_2027: dict[str, Any] = {
    "id": "cn-statutory",
    "name": "中国法定节假日及调休安排",
    "years": {
        "2027": {
            "source": "国务院办公厅关于2027年部分节假日安排的通知（测试数据）",
            "holidays": ["2027-01-01", "2027-04-05"],
            "workdays": [],
        }
    },
}


@contextmanager
def _database(kind: str, root: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        yield make_engine(f"sqlite:///{root / 'registry.db'}")
        return
    with fresh_database(postgres_url()) as (_, url):
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture(params=DATABASES)
async def registry(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[RpcClient, Engine]]:
    with _database(request.param, tmp_path) as engine, nats_server(tmp_path / "nats") as url:
        upgrade(engine, REGISTRY_MIGRATIONS)
        await event_stream_on(url)  # the registry's outcome consumer reads the log
        broker = build_broker(url, engine)
        await broker.start()
        nc = await nats.connect(url)
        try:
            yield RpcClient(nc), engine
        finally:
            await nc.drain()
            await broker.stop()


async def _apply(rpc: RpcClient, document: dict[str, Any], **kw: Any) -> CalendarApplyResult:
    return await rpc.call(
        "registry", "calendars.apply", ApplyCalendar(document=document, **kw), CalendarApplyResult
    )


async def _get(rpc: RpcClient, calendar: str = "cn-statutory") -> CalendarVersionPublic:
    return await rpc.call(
        "registry", "calendars.get", GetCalendar(calendar=calendar), CalendarVersionPublic
    )


async def test_a_year_applied_alone_is_merged_into_the_stored_table(
    registry: tuple[RpcClient, Engine],
) -> None:
    rpc, engine = registry
    load_bundled_calendars(engine, BUNDLED)
    first = await _get(rpc)
    assert first.version == 1 and first.source == "bundled:cn-statutory.yaml"
    assert sorted(parse_holiday_table(first.document).years) == [2024, 2025, 2026]

    applied = await _apply(rpc, YEAR_2027, source="cli")
    assert (applied.version, applied.created, applied.years) == (2, True, [2027])
    current = await _get(rpc)
    table = parse_holiday_table(current.document)
    assert sorted(table.years) == [2024, 2025, 2026, 2027]
    assert table.years[2026] == load_holiday_table_file(BUNDLED / "cn-statutory.yaml").years[2026]
    assert (current.version, current.digest, current.source) == (2, applied.digest, "cli")


async def test_an_unchanged_table_makes_no_version(registry: tuple[RpcClient, Engine]) -> None:
    rpc, _ = registry
    first = await _apply(rpc, YEAR_2027)
    again = await _apply(rpc, YEAR_2027)
    assert first.created and first.version == 1 and first.years == [2027]
    assert (again.created, again.version, again.years) == (False, 1, [])


async def test_a_malformed_table_is_refused_listing_each_bad_field(
    registry: tuple[RpcClient, Engine],
) -> None:
    rpc, _ = registry
    bad = {
        "id": "cn-statutory",
        "name": "x",
        "years": {
            "2027": {"source": "s", "holidays": ["2026-12-31"]},
            "2028": {"holidays": ["no date"]},
        },
    }
    with pytest.raises(RpcError) as err:
        await _apply(rpc, bad)
    assert (err.value.code, err.value.status) == ("invalid_calendar", 422)
    fields = {e["field"] for e in err.value.details["errors"]}
    assert {"years.2027", "years.2028.source", "years.2028.holidays.0"} <= fields
    with pytest.raises(RpcError) as missing:
        await _get(rpc)
    assert (missing.value.code, missing.value.status) == ("calendar_not_found", 404)


async def test_the_bundled_tables_never_overwrite_a_bureaus_correction(
    registry: tuple[RpcClient, Engine], tmp_path: Path
) -> None:
    rpc, engine = registry
    correction = {
        "id": "cn-statutory",
        "name": "省局维护 / maintained by the bureau",
        "years": {"2026": {"source": "省局更正", "holidays": ["2026-10-01"], "workdays": []}},
    }
    await _apply(rpc, correction)
    load_bundled_calendars(engine, BUNDLED)
    table = parse_holiday_table((await _get(rpc)).document)
    assert table.years[2026].source == "省局更正"  # kept
    assert table.name == "省局维护 / maintained by the bureau"
    assert sorted(table.years) == [2024, 2025, 2026]  # the missing years were added
    version = (await _get(rpc)).version
    load_bundled_calendars(engine, BUNDLED)  # a second start changes nothing
    assert (await _get(rpc)).version == version == 2
