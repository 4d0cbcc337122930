"""The year's overdue bases are a list of their own, apart from the counts: more than one NATS
message of them is read back whole, page by page, over NATS and through the API (each page
within the reply budget), while the counts stay a number; a city officer's pages keep its own
city's bases only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.dashboard.app import build_broker as dashboard_broker
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.dashboard.tables import CycleRow
from services.gateway.identity.tokens import Principal
from services.registry import store
from shared.db import make_engine, session_scope
from shared.migrations import upgrade
from shared.stream import EVENTS_STREAM
from tests.conftest import Stack
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.presets import preset
from tests.integration.test_paged_year_lists import assert_paged, over_api, over_nats

YEAR = 2026
BASES = 9_000  # ~135 B each in the list: ~1.2 MiB
PROGRAM = f"late-{uuid.uuid4().hex[:8]}"


def _base(n: int) -> str:
    return f"late{n:05d}-".ljust(64, "z")


def _region(n: int) -> str:
    return "410102" if n % 3 else "410302"  # a county of Zhengzhou, one of Luoyang


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, nats_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    with session_scope(engine) as session:
        session.add_all(
            CycleRow(program=PROGRAM, year=YEAR, base=_base(n), region=_region(n),
                     stage="plan_filing", overdue=1 + n % 2)
            for n in range(BASES)
        )  # fmt: skip
        session.add(CycleRow(program=PROGRAM, year=YEAR, base="on-time", stage="implementing"))
    with session_scope(stack.registry_db) as session:
        store.apply_rules(session, rules=preset("demo-fast", PROGRAM))
    last = (await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
    broker = dashboard_broker(
        nats_url, engine, start_after=last, consumer=f"late-{uuid.uuid4().hex[:8]}"
    )
    users = {
        "admin": Principal(name="late-admin", role="province_admin", program=PROGRAM),
        "zz_city": Principal(name="late-zz", role="city_officer", region="410100"),
    }
    await broker.start()
    try:
        async with gateway(stack, nc, tmp_path, users) as api:
            yield api
    finally:
        await broker.stop()


async def test_the_overdue_list_past_one_message_is_read_back_page_by_page(
    api: Api, nc: NatsClient
) -> None:
    everyone = [_base(n) for n in range(BASES)]
    year = {"program": PROGRAM, "year": YEAR}
    assert_paged(await over_nats(nc, "dashboard", "overdue", year, "bases", "base"), everyone)
    path = f"/v1/programs/{PROGRAM}/years/{YEAR}/dashboard/overdue"
    assert_paged(await over_api(api, "admin", path, "bases", "base"), everyone)
    zhengzhou = await over_api(api, "zz_city", path, "bases", "base")
    assert zhengzhou.ids == [_base(n) for n in range(BASES) if n % 3]
    first = await api.http.get(path, params={"limit": 2}, headers=api.auth("admin"))
    assert first.json()["bases"] == [
        {"base": _base(0), "region": "410302", "city": "410300", "stage": "plan_filing",
         "overdue": 1},
        {"base": _base(1), "region": "410102", "city": "410100", "stage": "plan_filing",
         "overdue": 2},
    ]  # fmt: skip
    assert first.json()["next_cursor"] == _base(1)
    counts = await api.http.get(
        f"/v1/programs/{PROGRAM}/years/{YEAR}/dashboard", headers=api.auth("admin")
    )
    assert counts.status_code == 200 and counts.json()["overdue"] == BASES
    assert "overdue_by_city" not in counts.json() and len(counts.content) < 2_000
    bad = await api.http.get(path, params={"cursor": "no/such"}, headers=api.auth("admin"))
    assert bad.status_code == 422
