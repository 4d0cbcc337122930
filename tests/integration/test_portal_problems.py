"""A real refusal in words: a plan filed after its deadline, through the gateway in process on
the test stack, answers ``deadline_passed`` with the fields the portal's words need, and the
portal's script (run by node) turns it into
「方案提交已截止（…24时）。如需延期，请联系省知识产权局。」."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from services.gateway.portal.problem_words import DETAILED_WORDS
from tests.conftest import Stack
from tests.helpers import demo_rules, start_cycle
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.unit.test_problem_words import needs_node, shown

PROGRAM = "portal-problems"
BASE = "zz-biomed"
_years = itertools.count(2071)  # a cycle of its own per test (the gateway takes years to 2100)
TARGETS = '[{"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"}]'
USERS = {"staff": Principal(name="pp-staff", role="base_user", program=PROGRAM, base=BASE)}


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


@needs_node
async def test_a_late_plan_is_refused_in_words_with_its_deadline(stack: Stack, api: Api) -> None:
    # A plan window of one day from a launch ten days ago (a last day on a rest day moves to
    # the next working day): the plan was due days ago.
    rules = demo_rules(id=PROGRAM, calendar__reminders=[], calendar__plan_window="P1D")
    driver.register(stack, rules, [BASE])
    year = next(_years)
    launched = datetime.now(UTC) - timedelta(days=10)
    await start_cycle(stack.client, stack.task_queue, rules, year, base=BASE, launched_at=launched)

    answer = await api.http.post(
        f"/v1/programs/{PROGRAM}/years/{year}/bases/{BASE}/plan",
        headers=api.auth("staff"),
        files={"file": ("实施方案.pdf", b"%PDF-1.4\n% a late plan\n", "application/pdf")},
        data={"targets": TARGETS},
    )

    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["code"] == "deadline_passed"
    assert problem["filing"] == "plan"
    due = datetime.fromisoformat(problem["deadline"])
    assert launched < due < datetime.now(UTC)
    words = problem["deadline_words"]
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日24时", words["zh"]), words
    assert re.fullmatch(r"end of \d{1,2} [A-Z][a-z]+ \d{4}", words["en"]), words

    tables = {lang: await page_table(api, lang) for lang in ("zh", "en")}
    zh = shown("zh", problem, tables["zh"])
    assert zh == f"方案提交已截止（{words['zh']}）。如需延期，请联系省知识产权局。"
    assert shown("en", problem, tables["en"]) == DETAILED_WORDS["deadline_passed"][1].format(
        filing="plan", deadline=words["en"]
    )


async def page_table(api: Api, lang: str) -> str:
    """The problem words a portal page embeds for its script (``#problem-words``)."""
    page = await api.http.get(f"/portal/help?lang={lang}", headers=api.auth("staff"))
    assert page.status_code == 200, page.text
    found = re.search(r'<script type="application/json" id="problem-words">(.*?)</script>',
                      page.text, re.S)  # fmt: skip
    assert found is not None
    assert "deadline_passed" in json.loads(found.group(1))["codes"]
    return found.group(1)
