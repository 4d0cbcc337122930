"""The experts' portal shows each base the rubric of its own kind of participant: in a program
with two kinds, the park's expert gets the park's indicators and the enterprise's expert the
program's, the same ones each cycle takes scores on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from services.registry import store
from shared.db import session_scope
from shared.domain.participants import pinned_rules
from shared.domain.rules import ProgramRules
from tests.conftest import Stack
from tests.helpers import demo_rules
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html
from tests.integration.test_portal_expert import get, under_review

PROGRAM = "portal-kinds"
KINDS = {"pk-park": "park", "pk-enterprise": "enterprise"}
PARK_RUBRIC = {
    "version": "park-1",
    "indicators": [
        {"key": "navigation", "name": "专利导航", "weight": 50},
        {"key": "alliance", "name": "产业知识产权联盟", "weight": 50},
    ],
    "experts_required": 1,
}


def rules_of_test() -> ProgramRules:
    return demo_rules(
        id=PROGRAM,
        verification=[],
        calendar__review_window="P10D",
        calendar__reminders=[],
        participants={
            "park": {"name_zh": "园区", "name_en": "park", "rubric": PARK_RUBRIC},
            "enterprise": {"name_zh": "企业", "name_en": "enterprise"},
        },
    )


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    rules = rules_of_test()
    driver.register(stack, rules, list(KINDS))
    with session_scope(stack.registry_db) as session:  # each base of its own kind
        for base, kind in KINDS.items():
            row = store.get_base(session, program=PROGRAM, base=base)
            assert row is not None
            row.kind = kind
            session.add(row)
    users = {e: Principal(name=e, role="expert", program=PROGRAM) for e in driver.EXPERTS}
    async with gateway(stack, nc, tmp_path, users) as api:
        yield api


async def test_each_base_is_scored_on_its_kinds_rubric(api: Api, stack: Stack) -> None:
    rules = rules_of_test()
    year, experts = await under_review(stack, rules, list(KINDS))
    shown: dict[str, Any] = {}
    for base, kind in KINDS.items():
        page = await get(api, experts[base], f"/portal/expert/{year}/{base}")
        assert page.status_code == 200, page.text
        inputs = Html(page.text).find("input", data_score=None)
        shown[base] = [f["data-key"] for f in inputs]
        assert shown[base] == pinned_rules(rules, kind).rubric.keys
    assert shown == {
        "pk-park": ["navigation", "alliance"],
        "pk-enterprise": rules.rubric.keys,
    }
