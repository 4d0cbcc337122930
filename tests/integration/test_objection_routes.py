"""Objections (异议) over HTTP: the gateway in process, the registry on a real nats-server, and the
Temporal test server. Every refusal here comes before any call to the program year's workflow,
which is why a year that was never launched is enough: had the gateway called it, the answer
would be 404 program_year_not_found instead."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tokens import Principal, add_user
from services.gateway.routes import objections
from shared.db import make_engine
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.settings import Settings
from tests.conftest import Stack
from tests.helpers import demo_rules
from tests.integration import driver

PROGRAM = "objections-http"
BASE = "zz-biomed"  # registered in Zhengzhou (410100)
YEAR = 2031  # never launched
URL = f"/v1/programs/{PROGRAM}/years/{YEAR}/objections"
GROUNDS = "该基地自评报告中的专利数据与实际不符"


@dataclass
class Api:
    http: httpx.AsyncClient
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


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
    users = make_engine(f"sqlite:///{tmp_path / f'gateway-{uuid.uuid4().hex[:6]}.db'}")
    upgrade(users, "gateway")
    tokens = {who: add_user(users, p) for who, p in USERS.items()}
    config = Settings(_env_file=None, state_dir=tmp_path)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(config, stack.client, nc, RpcClient(nc), stack.objects, users)

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Api(http, tokens)


def body(**changes: Any) -> dict[str, Any]:
    return {"base": BASE, "grounds": GROUNDS, **changes}


def problem(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    found: dict[str, Any] = resp.json()
    assert found["code"] == code, found
    return found


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
