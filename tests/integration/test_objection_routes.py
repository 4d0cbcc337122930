"""Objections (异议) over HTTP: the gateway in process, the registry on a real nats-server, and the
Temporal test server. Every refusal here comes before any call to the program year's workflow,
which is why a year that was never launched is enough: had the gateway called it, the answer
would be 404 program_year_not_found instead."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from services.gateway.identity.tokens import Principal
from services.gateway.routes import objections
from shared.domain.rules import ProgramRules
from tests.conftest import Stack
from tests.helpers import demo_rules, until
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway, problem
from tests.integration.test_program_year import cycles, launch
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow

PROGRAM = "objections-http"
BASE = "zz-biomed"  # registered in Zhengzhou (410100)
YEAR = 2031  # never launched
_years = itertools.count(2041)  # launched, one per test (the gateway takes years to 2100)
_launched: list[WorkflowHandle[Any, Any]] = []  # the last year launched, and its cycles
URL = f"/v1/programs/{PROGRAM}/years/{YEAR}/objections"
GROUNDS = "该基地自评报告中的专利数据与实际不符"

USERS = {
    "admin": Principal(name="obj-admin", role="province_admin", program=PROGRAM),
    "other_admin": Principal(name="obj-other-admin", role="province_admin", program="demo-fast"),
    "staff": Principal(name="obj-staff", role="base_user", program=PROGRAM, base=BASE),
    "other_staff": Principal(name="obj-other", role="base_user", program=PROGRAM, base="ly-agri"),
    "zz_city": Principal(name="obj-zhengzhou", role="city_officer", region="410100"),
    "ly_city": Principal(name="obj-luoyang", role="city_officer", region="410300"),
    "operator": Principal(name="obj-ops", role="operator"),
    "viewer": Principal(name="obj-viewer", role="viewer"),
}


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    driver.register(stack, demo_rules(id=PROGRAM), [BASE, "ly-agri"])
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


def body(**changes: Any) -> dict[str, Any]:
    return {"base": BASE, "grounds": GROUNDS, **changes}


async def test_a_year_never_launched_is_404_program_year_not_found(api: Api) -> None:
    """The control: a request that gets past the gateway's checks reaches the workflow."""
    problem(
        await api.http.post(URL, json=body(), headers=api.auth("staff")),
        404,
        "program_year_not_found",
    )
    problem(
        await api.http.post(URL, json=body(contact="138-0000-0000")), 404, "program_year_not_found"
    )
    problem(await api.http.get(URL), 404, "program_year_not_found")
    decided = await api.http.post(
        f"{URL}/abc/decision",
        json={"decision": "dismiss", "reason": "理由不成立"},
        headers=api.auth("admin"),
    )
    problem(decided, 404, "program_year_not_found")


async def test_the_public_must_leave_a_contact(api: Api) -> None:
    for missing in ({}, {"contact": ""}, {"contact": "   "}):
        found = problem(await api.http.post(URL, json=body(**missing)), 422, "contact_required")
        assert "联系方式" in found["detail"] and "contact" in found["detail"]


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"grounds": "短"}, "grounds"),
        ({"grounds": "x" * 4001}, "grounds"),
        ({"contact": "x" * 201}, "contact"),
        ({"base": "../etc"}, "base"),
        ({"verdict": "unfair"}, "verdict"),
    ],
)
async def test_a_malformed_objection_is_422_before_anything_else(
    api: Api, sent: dict[str, Any], field: str
) -> None:
    found = problem(
        await api.http.post(URL, json=body(**sent), headers=api.auth("staff")),
        422,
        "invalid_request",
    )
    assert any(e["field"].endswith(field) for e in found["errors"]), found


async def test_a_token_that_does_not_authenticate_is_401_not_the_public(api: Api) -> None:
    bad = {"Authorization": "Bearer nvc_unknown"}
    problem(
        await api.http.post(URL, json=body(contact="x@y.cn"), headers=bad), 401, "invalid_token"
    )
    problem(await api.http.get(URL, headers=bad), 401, "invalid_token")
    problem(
        await api.http.post(URL, json=body(), headers={"Authorization": "Basic x"}),
        401,
        "invalid_token",
    )


@pytest.mark.parametrize("who", ["other_staff", "ly_city", "other_admin", "operator", "viewer"])
async def test_who_may_not_lodge_against_this_base_is_403(api: Api, who: str) -> None:
    problem(await api.http.post(URL, json=body(), headers=api.auth(who)), 403, "forbidden")


async def test_an_unregistered_base_is_refused_before_the_workflow(api: Api) -> None:
    resp = await api.http.post(URL, json=body(base="no-such-base"), headers=api.auth("staff"))
    assert resp.status_code == 404 and resp.json()["code"] != "program_year_not_found", resp.text


@pytest.mark.parametrize("who", ["staff", "zz_city", "operator", "other_admin"])
async def test_only_the_programs_province_admin_decides(api: Api, who: str) -> None:
    decision = {"decision": "uphold", "reason": "数据确有出入"}
    resp = await api.http.post(f"{URL}/abc/decision", json=decision, headers=api.auth(who))
    problem(resp, 403, "forbidden")
    problem(await api.http.post(f"{URL}/abc/decision", json=decision), 401, "unauthenticated")


@pytest.mark.parametrize(
    "sent",
    [{"decision": "accept", "reason": "数据确有出入"}, {"decision": "uphold", "reason": ""}],
)
async def test_a_malformed_decision_is_422(api: Api, sent: dict[str, Any]) -> None:
    resp = await api.http.post(f"{URL}/abc/decision", json=sent, headers=api.auth("admin"))
    problem(resp, 422, "invalid_request")
    bad_id = await api.http.post(f"{URL}/a.b/decision", json=sent, headers=api.auth("admin"))
    assert bad_id.status_code == 422, bad_id.text


async def test_the_public_is_limited_per_address(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(objections, "PUBLIC_LIMIT", 2)
    sent = body(contact="138-0000-0000")
    for _ in range(2):  # counted, then refused by the workflow side: no such year
        problem(await api.http.post(URL, json=sent), 404, "program_year_not_found")
    limited = await api.http.post(URL, json=sent)
    found = problem(limited, 429, "too_many_objections")
    assert int(limited.headers["retry-after"]) == found["retry_after_s"] > 3500
    assert "秒后再试" in found["detail"] and "retry in" in found["detail"]
    # A signed-in objector is accountable and not limited by address.
    problem(
        await api.http.post(URL, json=body(), headers=api.auth("staff")),
        404,
        "program_year_not_found",
    )


async def test_an_oversized_body_is_413(api: Api) -> None:
    resp = await api.http.post(
        URL,
        content=b'{"base": "' + b"x" * (1024 * 1024 + 1) + b'"}',
        headers={"content-type": "application/json"},
    )
    problem(resp, 413, "body_too_large")


# ------------------------------------------------------------ against the real program year


async def year_alone(
    stack: Stack, rules: ProgramRules, bases: list[str]
) -> tuple[int, WorkflowHandle[Any, Any], dict[str, WorkflowHandle[Any, Any]]]:
    """A new year of these bases, launched with no earlier test's year of them still running.

    The tests share one time-skipping server: a year left open (plans never filed, a review an
    upheld objection reopened) runs on, and when a later test's sleep skips past its deadlines
    the base fails, is not rectified and is de-listed, which ends the later year's cycle too."""
    for earlier in _launched:
        with contextlib.suppress(RPCError):
            await earlier.terminate("the next test's year of the same bases")
    _launched.clear()
    driver.register(stack, rules, bases)  # after the terminations: active again
    year = next(_years)
    program_year = await launch(stack, rules, year, expected=len(bases))
    handles = cycles(stack, rules, year, bases)
    _launched.extend([program_year, *handles.values()])
    return year, program_year, handles


async def published_year(stack: Stack, bases: list[str]) -> tuple[ProgramRules, int, Any]:
    """A program year of these bases in 公示 (an hour long), on the time-skipping server."""
    rules = demo_rules(
        id=PROGRAM, verification=[], calendar__publication_period="PT1H", calendar__reminders=[]
    )
    year, program_year, handles = await year_alone(stack, rules, bases)
    for handle in handles.values():
        await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    for base, handle in handles.items():
        # An expert the review is assigned to: which one depends on the roster other tests of
        # the program left (random order); a name not on the review asks the assessment
        # service from inside the update, which the time-skipping server answers "not found".
        state = await until(
            lambda h=handle: h.query(AnnualCycleWorkflow.state),  # type: ignore[misc]
            lambda state: state.experts,
            "the review's experts",
        )
        await driver.score(
            handle, state.experts[0], driver.scores(rules, 80 if base == BASE else 70)
        )
    await until(
        lambda: program_year.query(ProgramYearWorkflow.state),
        lambda state: state.phase == "publication",
        "the year's 公示",
    )
    return rules, year, program_year


async def test_objections_lodged_listed_and_decided_through_the_api(api: Api, stack: Stack) -> None:
    _, year, _ = await published_year(stack, [BASE, "ly-agri"])
    url = f"/v1/programs/{PROGRAM}/years/{year}/objections"
    keyed = {"Idempotency-Key": "objection-public-1"}
    public = body(contact="138-0000-0000")

    first = await api.http.post(url, json=public, headers=keyed)
    assert first.status_code == 201, first.text
    lodged = first.json()
    assert lodged["status"] == "lodged" and lodged["role"] == "public"
    assert lodged["by"] == "public" and lodged["contact"] == "138-0000-0000"
    arrived = datetime.fromisoformat(lodged["received_at"])
    assert arrived.utcoffset() == timedelta(hours=8)
    again = await api.http.post(url, json=public, headers=keyed)  # a retry lodges once
    assert again.status_code == 201 and again.json() == lodged

    by_staff = await api.http.post(
        url,
        json=body(base="ly-agri", grounds="评分未考虑本基地新增专利"),
        headers=api.auth("other_staff"),
    )
    assert by_staff.status_code == 201, by_staff.text
    problem(
        await api.http.post(url, json=body(base="no-result", contact="x@y.cn")),
        404,
        "unknown_base",
    )

    seen = (await api.http.get(url)).json()["objections"]
    assert len(seen) == 2 and all(o["by"] == "" and o["contact"] == "" for o in seen)
    full = (await api.http.get(url, headers=api.auth("admin"))).json()["objections"]
    assert {o["objection_id"]: o["contact"] for o in full}[lodged["objection_id"]] == (
        "138-0000-0000"
    )
    own = (await api.http.get(url, headers=api.auth("staff"))).json()["objections"]
    assert [o["objection_id"] for o in own] == [lodged["objection_id"]]

    decide = f"{url}/{lodged['objection_id']}/decision"
    upheld = await api.http.post(
        decide,
        json={"decision": "uphold", "reason": "数据确有出入，重新评审"},
        headers=api.auth("admin"),
    )
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld" and upheld.json()["decided_by"] == "obj-admin"
    twice = await api.http.post(
        decide, json={"decision": "dismiss", "reason": "改判"}, headers=api.auth("admin")
    )
    problem(twice, 409, "already_decided")
    dismissed = await api.http.post(
        f"{url}/{by_staff.json()['objection_id']}/decision",
        json={"decision": "dismiss", "reason": "新增专利不在本年度"},
        headers=api.auth("admin"),
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    problem(
        await api.http.post(
            f"{url}/nosuch/decision",
            json={"decision": "dismiss", "reason": "查无此异议"},
            headers=api.auth("admin"),
        ),
        404,
        "unknown_objection",
    )
    outcomes = {
        o["objection_id"]: o["status"] for o in (await api.http.get(url)).json()["objections"]
    }
    assert sorted(outcomes.values()) == ["dismissed", "upheld"]


async def test_an_objection_outside_publication_is_409_not_in_publication(
    api: Api, stack: Stack
) -> None:
    rules = demo_rules(id=PROGRAM, verification=[], calendar__reminders=[])
    year, _, _ = await year_alone(stack, rules, [BASE, "ly-agri"])  # cycles open: no results
    resp = await api.http.post(
        f"/v1/programs/{PROGRAM}/years/{year}/objections", json=body(), headers=api.auth("staff")
    )
    found = problem(resp, 409, "not_in_publication")
    assert "公示" in found["detail"]
