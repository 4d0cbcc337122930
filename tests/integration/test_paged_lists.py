"""No reply grows with the program: the bases of a program larger than one NATS message are read
back whole, page by page, through the registry over NATS and through the API."""

from __future__ import annotations

import uuid
from pathlib import Path

from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from services.registry import store
from services.registry.tables import BaseRow
from shared.bases_listing import all_bases
from shared.contracts.registry import BasesPage, ListBasesRequest
from shared.db import session_scope
from shared.events.subjects import rpc_subject
from shared.paging import MAX_PAGE, REPLY_BUDGET_BYTES
from shared.rpc import RpcClient
from tests.conftest import Stack
from tests.integration.gateway_fixture import gateway
from tests.integration.presets import preset

NATS_DEFAULT_MAX_PAYLOAD = 1024 * 1024
BASES = 3_000


def _rows(program: str) -> list[BaseRow]:
    evidence = ["ab" * 32]
    return [
        BaseRow(
            program=program,
            id=f"b{n:05d}",
            name=f"专利导航服务基地（第{n}号）有限责任公司知识产权运营中心",
            region="410100" if n % 2 else "410300",
            domain=f"领域{n % 40}",
            host_type="高校院所",
            declarations={k: {"affirmed": True, "evidence": evidence} for k in ("a", "b")},
        )
        for n in range(BASES)
    ]


async def test_more_bases_than_fit_in_one_message_are_read_back_whole(
    stack: Stack, nc: NatsClient, tmp_path: Path
) -> None:
    program = f"paging-{uuid.uuid4().hex[:8]}"
    rows = _rows(program)
    with session_scope(stack.registry_db) as session:
        store.apply_rules(session, rules=preset("demo-fast", program))
        session.add_all(rows)
    expected = [r.id for r in rows]

    users = {
        "admin": Principal(name=f"admin-{program}", role="province_admin", program=program),
        "city": Principal(name=f"city-{program}", role="city_officer", region="410300",
                          program=program),
    }  # fmt: skip
    async with gateway(stack, nc, tmp_path, users) as api:
        pages: list[list[str]] = []
        sizes: list[int] = []
        cursor: str | None = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            answer = await api.http.get(
                f"/v1/programs/{program}/bases", params=params, headers=api.auth("admin")
            )
            assert answer.status_code == 200, answer.text
            sizes.append(len(answer.content))
            body = answer.json()
            pages.append([b["id"] for b in body["bases"]])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        # Together the bases are more than one NATS message could carry.
        assert sum(sizes) > NATS_DEFAULT_MAX_PAYLOAD
        # Each page keeps within the reply budget (plus the envelope), and pages are not tiny.
        assert max(sizes) <= REPLY_BUDGET_BYTES + 1024
        assert len(pages) >= 5
        assert [b for page in pages for b in page] == expected  # whole, in order, once each
        assert all(len(page) <= MAX_PAGE for page in pages)

        # A page size asked for is kept; more than the maximum is a 422, not a big reply.
        small = await api.http.get(
            f"/v1/programs/{program}/bases", params={"limit": 7}, headers=api.auth("admin")
        )
        assert [b["id"] for b in small.json()["bases"]] == expected[:7]
        assert small.json()["next_cursor"] == expected[6]
        too_many = await api.http.get(
            f"/v1/programs/{program}/bases",
            params={"limit": MAX_PAGE + 1},
            headers=api.auth("admin"),
        )
        assert (too_many.status_code, too_many.json()["code"]) == (422, "invalid_request")

        # A city officer pages through its region only.
        seen: list[str] = []
        cursor = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            body = (
                await api.http.get(
                    f"/v1/programs/{program}/bases", params=params, headers=api.auth("city")
                )
            ).json()
            seen += [b["id"] for b in body["bases"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [r.id for r in rows if r.region == "410300"]

    # Services that need every base read the same pages over NATS.
    listed = await all_bases(RpcClient(nc), program)
    assert [str(b["id"]) for b in listed] == expected

    # The cycles' own listing (bases.active: id, name, region, domain and status, pages of up to
    # 1,000 asked for) reads them back whole too, each reply within the budget.
    active: list[str] = []
    replies: list[int] = []
    cursor = None
    while True:
        ask = ListBasesRequest(program=program, cursor=cursor, limit=1000)
        reply = await nc.request(
            rpc_subject("registry", "bases.active"), ask.model_dump_json().encode(), timeout=30
        )
        replies.append(len(reply.data))
        page = BasesPage.model_validate_json(reply.data)
        active += [b.id for b in page.bases]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert active == expected
    assert len(replies) == 4  # 3 full pages and an empty last one
    assert max(replies) <= REPLY_BUDGET_BYTES + 1024
