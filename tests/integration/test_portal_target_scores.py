"""The expert's portal page shows an indicator scored from a target (issue 16) as computed, with
its completion and score, not as an input: the form sends the other indicators only, a sheet
that scores it anyway is refused 422 computed_indicator, and the decision carries the computed
score.

The demo rubric's ``reporting`` indicator (weight 5) is scored here from the base's own target
of 40 new invention patents a year; the self-evaluation reports 33 (82.5%, so 82.5 points)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from shared.contracts.cycle import CycleState
from shared.contracts.workflow_names import cycle_id
from shared.domain.rules import ProgramRules
from tests.conftest import Stack
from tests.helpers import demo_rules, until
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html
from tests.integration.test_portal_expert import form_body, get, under_review
from workflows.cycle import AnnualCycleWorkflow

PROGRAM = "portal-target-scores"
BASE = "pts-one"
USERS = {e: Principal(name=e, role="expert", program=PROGRAM) for e in driver.EXPERTS}
TARGET = {
    "key": "patents",
    "name_zh": "新增发明专利",
    "name_en": "New invention patents",
    "unit": "件",
    "kind": "yearly",
    "value": 40,
    "start_year": 2000,
    "horizon": 2200,
    "level": "participant",
}


def rules_of_test() -> ProgramRules:
    rules = demo_rules(
        id=PROGRAM, verification=[], calendar__review_window="P10D", calendar__reminders=[]
    )
    document = rules.model_dump(mode="json", by_alias=True)
    document["targets"] = [TARGET]
    document["rubric"]["indicators"][4]["from_target"] = "patents"
    return ProgramRules.model_validate(document)


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    driver.register(stack, rules_of_test(), [BASE])
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


async def test_the_computed_indicator_is_shown_not_asked_for(api: Api, stack: Stack) -> None:
    rules = rules_of_test()
    assert rules.rubric.indicators[4].key == "reporting"
    year, experts = await under_review(stack, rules, [BASE])
    me = experts[BASE]
    url = f"/portal/expert/{year}/{BASE}"

    html = Html((await get(api, me, url)).text)
    inputs = [f["data-key"] for f in html.find("input", data_score=None)]
    assert inputs == ["report_quality", "database", "application", "conditions"]
    shown = html.find("output", data_computed=None)
    assert [(o["data-key"], o["data-value"], o["data-weight"]) for o in shown] == [
        ("reporting", "82.5", "5")
    ]
    assert html.text(id="score-reporting-how") == (
        "由目标完成情况计算，专家不打分：完成率82.5%，得分82.5"
    )
    english = Html((await get(api, me, url + "?lang=en")).text)
    assert english.text(id="score-reporting-how") == (
        "Computed from the target's completion, not scored by experts: 82.5% complete, score 82.5"
    )

    form = html.find("form", id="score-form")[0]
    scores: dict[str, float] = {
        "report_quality": 80,
        "database": 80,
        "application": 80,
        "conditions": 80,
    }
    body = form_body(html, scores, [], "")
    assert body["scores"] == scores  # the computed indicator is not sent

    headers = {**api.auth(me), "Idempotency-Key": "pts-refused"}
    refused = await api.http.post(
        form["action"], json={**body, "scores": {**scores, "reporting": 100}}, headers=headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "computed_indicator"

    sent = await api.http.post(
        form["action"],
        json=body,
        headers={**api.auth(me), "Idempotency-Key": form["data-idempotency"]},
    )
    assert sent.status_code == 201, sent.text

    handle = stack.client.get_workflow_handle(cycle_id(PROGRAM, year, BASE))

    async def state() -> CycleState:
        found: CycleState = await handle.query(AnnualCycleWorkflow.state)
        return found

    graded = await until(state, lambda s: bool(s.decisions), "the decision")
    decision = graded.decisions[0]
    assert decision.target_completion == {"reporting": 82.5}
    assert decision.averaged["reporting"] == 82.5
    assert decision.total == 80.13  # (80 * 95 + 82.5 * 5) / 100 = 80.125, half up

    after = Html((await get(api, me, url)).text)
    assert after.find("p", data_sheet_total="80.13")
