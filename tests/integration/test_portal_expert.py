"""The experts' portal pages on the real test stack: the gateway in process, the registry and
the assessment service on a real nats-server, the cycles on the time-skipping Temporal server.

A year of two bases is brought to the expert review (plans and self-evaluations filed, the
self-evaluation deadline passed); each base gets one expert from the roster in turn. The expert
of one base sees that review and its rubric form, not the other base (404 as the API answers);
the scores sent as the form builds them are then shown as their own sheet.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from shared.domain.grading import ScoreSheet, average_scores, total_score
from shared.domain.rules import ProgramRules
from tests.conftest import Stack
from tests.helpers import demo_rules, until
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html
from tests.integration.test_program_year import cycles, launch
from workflows.cycle import AnnualCycleWorkflow

PROGRAM = "portal-expert"
BASES = ["pe-alpha", "pe-beta"]
_years = itertools.count(2061)

USERS = {
    **{e: Principal(name=e, role="expert", program=PROGRAM) for e in driver.EXPERTS},
    "staff": Principal(name="pe-staff", role="base_user", program=PROGRAM, base=BASES[0]),
    "admin": Principal(name="pe-admin", role="province_admin", program=PROGRAM),
}


def rules_of_test() -> ProgramRules:
    # No verification steps; a review window long enough that no expert is replaced for
    # silence while the test runs; two veto items with definitions, as experts read them.
    rules = demo_rules(
        id=PROGRAM,
        verification=[],
        calendar__review_window="P10D",
        calendar__reminders=[],
    )
    document = rules.model_dump(mode="json", by_alias=True)
    document["rubric"]["veto_definitions"] = {
        "false_materials": {
            "key": "false_materials",
            "name_zh": "材料弄虚作假",
            "name_en": "False materials",
            "definition_zh": "提交的材料存在伪造、篡改数据的情形",
            "definition_en": "The materials forge or alter data",
        }
    }
    return ProgramRules.model_validate(document)


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    driver.register(stack, rules_of_test(), BASES)
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


async def under_review(
    stack: Stack, rules: ProgramRules, bases: list[str] = BASES
) -> tuple[int, dict[str, str]]:
    """A launched year whose cycles (of ``bases``) are under review: the year and each base's
    expert."""
    year = next(_years)
    await launch(stack, rules, year, expected=len(bases))
    handles = cycles(stack, rules, year, bases)
    for handle in handles.values():
        await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
        await driver.file_self_evaluation(stack, handle, actual=33)
    await stack.env.sleep(timedelta(seconds=61))
    experts = {}
    for base, handle in handles.items():

        async def cycle_state(h: Any = handle) -> Any:
            return await h.query(AnnualCycleWorkflow.state)

        state = await until(
            cycle_state,
            lambda s: s.stage.value == "under_review" and s.experts,
            f"{base} under review with its expert",
        )
        experts[base] = state.experts[0]
    return year, experts


async def get(api: Api, who: str, path: str) -> Any:
    return await api.http.get(path, headers=api.auth(who))


def form_body(form: Html, scores: dict[str, float], vetoes: list[str], comment: str) -> Any:
    """The JSON body as static/expert.js builds it from the form's fields."""
    built: dict[str, Any] = {"scores": {}, "vetoes": [], "comment": comment}
    for field in form.find("input", data_score=None):
        assert field["name"] == f"scores.{field['data-key']}"
        built["scores"][field["data-key"]] = scores[field["data-key"]]
    for box in form.find("input", data_veto=None):
        assert box["type"] == "checkbox" and box["name"] == "vetoes"
        if box["value"] in vetoes:
            built["vetoes"].append(box["value"])
    assert form.find("textarea", id="score-comment", name="comment")
    return built


async def test_an_expert_sees_its_review_scores_it_and_then_sees_its_sheet(
    api: Api, stack: Stack
) -> None:
    rules = rules_of_test()
    year, experts = await under_review(stack, rules)
    mine, other = BASES
    me = experts[mine]
    assert experts[other] != me  # one expert each, in turn from the roster

    listed = await get(api, me, "/portal/expert")
    assert listed.status_code == 200, listed.text
    rows = Html(listed.text).find("tr", data_review_year=str(year))
    assert [(r["data-review-base"], r["data-review-state"]) for r in rows] == [(mine, "to_score")]

    # Not assigned to the other base: the page answers as the API does, 404.
    hidden = await get(api, me, f"/portal/expert/{year}/{other}")
    assert hidden.status_code == 404
    assert Html(hidden.text).find(id="problem", data_problem_code="base_not_found")
    api_hidden = await get(api, me, f"/v1/programs/{PROGRAM}/years/{year}/bases/{other}")
    assert api_hidden.status_code == 404

    page_url = f"/portal/expert/{year}/{mine}"
    shown = await get(api, me, page_url)
    assert shown.status_code == 200, shown.text
    html = Html(shown.text)
    assert html.find("dl", id="review-facts", data_stage="under_review")
    # The plan's targets against the self-evaluation's actuals, and the documents linked.
    assert html.texts("tr", data_target="patents") == ["新增发明专利 30 件 33 件 110.0%"]
    kinds = [d["data-document-kind"] for d in html.find("tr", data_document_id=None)]
    assert sorted(kinds) == ["plan", "self_evaluation"]
    links = [a["href"] for a in html.find("a") if a.get("href", "").startswith("/v1/documents/")]
    assert len(links) == 2
    assert (await get(api, me, links[0])).status_code == 200  # the expert may open them

    # The rubric as a form: every indicator with its weight and maximum, the vetoes defined.
    inputs = {f["data-key"]: f for f in html.find("input", data_score=None)}
    assert list(inputs) == rules.rubric.keys
    for indicator in rules.rubric.indicators:
        field = inputs[indicator.key]
        assert float(field["max"]) == indicator.maximum(rules.rubric.scale)
        assert float(field["data-weight"]) == indicator.weight
        assert html.text("td", data_weight_of=indicator.key) == f"{indicator.weight:g}"
        assert html.find("label", **{"for": field["id"]})  # every control labelled
    assert [b["value"] for b in html.find("input", data_veto=None)] == rules.rubric.vetoes
    assert "提交的材料存在伪造、篡改数据的情形" in html.text(id="veto-false_materials-def")
    assert html.find("button", id="score-submit", disabled=None)  # until every score is valid
    form = html.find("form", id="score-form")[0]
    action = form["action"]
    assert action == f"/v1/programs/{PROGRAM}/years/{year}/bases/{mine}/scores"

    scores = dict(zip(rules.rubric.keys, [80, 72.5, 90, 66, 100], strict=True))
    body = form_body(html, scores, ["false_materials"], "报告数据翔实")
    sent = await api.http.post(
        action,
        json=body,
        headers={**api.auth(me), "Idempotency-Key": form["data-idempotency"]},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "graded"

    assert form["data-next"] == f"{page_url}?sent=1"  # where portal.js goes after a 2xx
    after = Html((await get(api, me, form["data-next"])).text)
    assert not after.find(id="score-pending")  # recorded (201): the sheet, not "being recorded"
    assert not after.find("form", id="score-form")  # sent once: no second form
    sheet = after.find("section", data_sheet_round="0")
    assert sheet, "the expert's own sheet"
    keys = [r["data-sheet-score"] for r in after.find("tr", data_sheet_score=None)]
    values = [float(v["data-sheet-value"]) for v in after.find("td", data_sheet_value=None)]
    shown_scores = dict(zip(keys, values, strict=True))
    assert shown_scores == scores
    expected_total = total_score(
        rules.rubric, average_scores(rules.rubric, [ScoreSheet(expert=me, scores=scores)])
    )
    assert after.find("p", data_sheet_total=f"{expected_total:g}")
    assert after.find("p", data_sheet_vetoes="false_materials")
    assert "报告数据翔实" in after.text("p", data_sheet_comment=None)

    relisted = Html((await get(api, me, "/portal/expert")).text)
    states = [r["data-review-state"] for r in relisted.find("tr", data_review_base=mine)]
    assert states in (["scored"], ["decided"])


async def test_the_expert_pages_are_for_signed_in_experts(api: Api) -> None:
    unsigned = await api.http.get("/portal/expert")
    assert unsigned.status_code == 303
    assert unsigned.headers["location"].startswith("/portal/signin?next=/portal/expert")
    staff = await get(api, "staff", "/portal/expert")
    assert staff.status_code == 403
    assert Html(staff.text).find(id="problem", data_problem_code="forbidden")
    # A base's staff reading a review page of another base: 404, as the API answers.
    other = await get(api, "staff", f"/portal/expert/2061/{BASES[1]}")
    assert other.status_code == 404


async def test_on_points_with_two_experts_each_sees_only_its_own_sheet(
    api: Api, stack: Stack
) -> None:
    document = rules_of_test().model_dump(mode="json", by_alias=True)
    document["rubric"] |= {"scale": "points", "experts_required": 2}
    rules = ProgramRules.model_validate(document)
    driver.register(stack, rules, BASES)
    year = next(_years)
    await launch(stack, rules, year, expected=len(BASES))
    handle = cycles(stack, rules, year, BASES)[BASES[0]]
    for h in cycles(stack, rules, year, BASES).values():
        await driver.file_plan(stack, h, f"%PDF-1.4 {h.id}".encode())
        await driver.file_self_evaluation(stack, h)
    await stack.env.sleep(timedelta(seconds=61))
    state = await until(
        lambda: handle.query(AnnualCycleWorkflow.state),
        lambda s: s.stage.value == "under_review" and len(s.experts) == 2,
        "two experts on the review",
    )
    first, second = state.experts
    url = f"/portal/expert/{year}/{BASES[0]}"

    # Points: each indicator out of its own maximum, no weight column.
    html = Html((await get(api, first, url)).text)
    inputs = html.find("input", data_score=None)
    assert [float(f["max"]) for f in inputs] == [
        i.maximum("points") for i in rules.rubric.indicators
    ]
    assert not html.find("td", data_weight_of=None)
    assert html.find("form", id="score-form", data_scale="points")

    sheets: dict[str, dict[str, float]] = {
        first: dict(zip(rules.rubric.keys, [25, 12.5, 27, 18, 4.5], strict=True)),
        second: dict(zip(rules.rubric.keys, [20, 10, 22, 15, 3], strict=True)),
    }
    for expert, scores in sheets.items():
        page_ = Html((await get(api, expert, url)).text)
        form = page_.find("form", id="score-form")[0]
        sent = await api.http.post(
            form["action"],
            json=form_body(page_, scores, [], f"{expert} 的意见"),
            headers={**api.auth(expert), "Idempotency-Key": form["data-idempotency"]},
        )
        assert sent.status_code == 201, sent.text

    for expert, scores in sheets.items():
        after = Html((await get(api, expert, url)).text)
        values = [float(v["data-sheet-value"]) for v in after.find("td", data_sheet_value=None)]
        assert values == list(scores.values())  # its own sheet, and no co-reviewer's
        shown = after.all_text()
        other = next(e for e in sheets if e != expert)
        assert f"{expert} 的意见" in shown and f"{other} 的意见" not in shown
        assert after.find("p", data_sheet_total=f"{sum(scores.values()):g}")
