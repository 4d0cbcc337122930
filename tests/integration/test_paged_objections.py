"""A year's objections through the API are pages: more objections than one NATS message holds
(each with long grounds) are lodged with the program year's workflow and read back whole, in
the order lodged, page by page within the reply budget; a cursor the list never gave is 422
``unknown_cursor``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from shared.contracts import workflow_names as names
from shared.contracts.objections import ObjectionPage, ObjectionPageRequest
from shared.contracts.workflow_names import program_year_id
from tests.conftest import Stack
from tests.helpers import demo_rules
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.test_objection_routes import BASE, PROGRAM, USERS, problem, published_year
from tests.integration.test_paged_year_lists import assert_paged, over_api

OBJECTIONS = 100  # ~12 KB each as the API sends them (UTF-8): ~1.2 MB
GROUNDS = "自评报告所列专利与国家知识产权局公布的数据不一致，请求复核。" * 130  # ~3,900 characters


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    driver.register(stack, demo_rules(id=PROGRAM), [BASE, "ly-agri"])
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


async def test_objections_past_one_message_are_read_back_page_by_page(
    api: Api, stack: Stack
) -> None:
    _, year, _ = await published_year(stack, [BASE, "ly-agri"])
    url = f"/v1/programs/{PROGRAM}/years/{year}/objections"
    lodged = []
    for n in range(OBJECTIONS):
        sent = await api.http.post(
            url,
            json={"base": BASE, "grounds": f"{n:03d} {GROUNDS}"},
            headers={**api.auth("staff"), "Idempotency-Key": f"paged-objection-{year}-{n}"},
        )
        assert sent.status_code == 201, sent.text[:300]
        lodged.append(sent.json()["objection_id"])
    assert_paged(await over_api(api, "admin", url, "objections", "objection_id"), lodged)
    own = await over_api(api, "staff", url, "objections", "objection_id", limit=7)
    assert own.ids == lodged and len(own.sizes) >= OBJECTIONS // 7
    first = (await api.http.get(url, params={"limit": 2}, headers=api.auth("admin"))).json()
    assert [o["objection_id"] for o in first["objections"]] == lodged[:2]
    assert first["next_cursor"] == lodged[1]
    problem(
        await api.http.get(url, params={"cursor": "never-given"}, headers=api.auth("admin")),
        422,
        "unknown_cursor",
    )
    # The program year answers a page, never the whole list: ``limit`` at most, a base's own
    # only when asked for one base, and ``after_known`` False for an id it never had.
    handle = stack.client.get_workflow_handle(program_year_id(PROGRAM, year))
    page = await handle.query(
        names.OBJECTION_PAGE,
        ObjectionPageRequest(after=lodged[4], limit=3),
        result_type=ObjectionPage,
    )
    assert [o.objection_id for o in page.objections] == lodged[5:8] and page.more
    last = await handle.query(
        names.OBJECTION_PAGE,
        ObjectionPageRequest(after=lodged[-2], limit=3, base=BASE),
        result_type=ObjectionPage,
    )
    assert [o.objection_id for o in last.objections] == lodged[-1:] and not last.more
    elsewhere = await handle.query(
        names.OBJECTION_PAGE,
        ObjectionPageRequest(after=lodged[0], limit=3, base="ly-agri"),
        result_type=ObjectionPage,
    )
    assert (elsewhere.objections, elsewhere.after_known) == ([], False)
