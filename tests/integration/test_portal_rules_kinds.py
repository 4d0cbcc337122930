"""The program rules page lists a program's kinds of participant with each kind's chain in words:
the CNIPA 2015 preset, which the registry applies at start, shows its four kinds, the provinces
forwarding their units' plans by 8 May and the national office verifying them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from tests.conftest import Stack
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html

PROGRAM = "cnipa-pilot-2015"
USERS = {
    "viewer": Principal(name="cn-viewer", role="viewer", program=PROGRAM),
    "demo": Principal(name="cn-demo-viewer", role="viewer", program="demo-fast"),
}
CHAIN_ZH = "省知识产权局汇总本级各单位计划，每年5月8日前作为一份报送 → 国家知识产权局核实"
CHAIN_EN = (
    "provincial IP office collects its units' plans and forwards them as one filing by"
    " 8 May each year → national IP office verifies"
)


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


async def test_the_rules_page_lists_the_kinds_and_their_chains(api: Api) -> None:
    shown = await api.http.get("/portal/rules", headers=api.auth("viewer"))
    assert shown.status_code == 200, shown.text
    html = Html(shown.text)
    rows = html.find("tr", data_kind=None)
    assert [r["data-kind"] for r in rows] == [
        "experimental_zone",
        "collaborative_pilot",
        "operation_enterprise",
        "trading_centre",
    ]
    assert html.text("tr", data_kind="experimental_zone") == (
        f"国家专利导航产业发展实验区 {CHAIN_ZH} 5 cnipa-2015-zone.1"
    )
    assert html.text("tr", data_kind="trading_centre") == (
        f"国家专利技术展示交易中心 {CHAIN_ZH} 2 cnipa-2015.1"
    )
    english = Html((await api.http.get("/portal/rules?lang=en", headers=api.auth("viewer"))).text)
    assert english.text("tr", data_kind="operation_enterprise") == (
        f"National patent operation pilot enterprise {CHAIN_EN} 3 cnipa-2015.1"
    )


async def test_a_program_of_one_kind_shows_no_kinds(api: Api) -> None:
    shown = Html((await api.http.get("/portal/rules", headers=api.auth("demo"))).text)
    assert shown.find("table", id="rules-kinds") == []
