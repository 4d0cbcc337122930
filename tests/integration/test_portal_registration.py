"""The province's base registration page: the program's bases and the form that posts to
``POST /v1/programs/{p}/bases``; read through the same ``administer`` check the API applies.
The gateway in process on the test stack (the registry on a real nats-server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from tests.conftest import Stack
from tests.helpers import demo_rules
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html

PROGRAM = "portal-reg"
PAGE = f"/portal/province/bases?program={PROGRAM}"
USERS = {
    "province": Principal(name="reg-province", role="province_admin", program=PROGRAM),
    "elsewhere": Principal(name="reg-elsewhere", role="province_admin", program="demo-fast"),
    "city": Principal(name="reg-city", role="city_officer", program=PROGRAM, region="410100"),
    "staff": Principal(name="reg-staff", role="base_user", program=PROGRAM, base="reg-one"),
}


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    driver.register(stack, demo_rules(id=PROGRAM), ["reg-one"])
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


def _registration(base: str, staff: int) -> dict[str, object]:
    return {
        "id": base,
        "name": f"{base} 专利导航服务基地",
        "region": "410102",
        "domain": "新能源",
        "host_type": "园区",
        "staff": {"total": staff, "senior_full_time": 3},
        "pct_minimum_data": True,
    }


async def test_the_province_sees_the_bases_and_a_form_posting_to_the_registration_route(
    api: Api,
) -> None:
    shown = await api.http.get(PAGE, headers=api.auth("province"))
    assert shown.status_code == 200, shown.text
    html = Html(shown.text)
    assert html.find("tr", data_base="reg-one", data_status="active")
    form = html.find("form", id="register-base")[0]
    assert form["action"] == f"/v1/programs/{PROGRAM}/bases" and "data-api" in form
    # Every control has its label; the domains are the program's.
    for control in html.find("input") + html.find("select"):
        if control.get("type") != "hidden":
            assert html.find("label", **{"for": control["id"]}), control
    domains = [o["value"] for o in html.find("option")]
    assert domains == demo_rules().eligibility.domains
    assert "不少于 8 人" in html.text(id="register-rules")

    # What the form sends, the API registers (or refuses in words); the page then lists it.
    refused = await api.http.post(
        f"/v1/programs/{PROGRAM}/bases",
        json=_registration("reg-small", 3),
        headers=api.auth("province"),
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "not_eligible")
    created = await api.http.post(
        f"/v1/programs/{PROGRAM}/bases",
        json=_registration("reg-two", 10),
        headers=api.auth("province"),
    )
    assert created.status_code == 201, created.text
    again = Html((await api.http.get(f"{PAGE}&lang=en", headers=api.auth("province"))).text)
    assert again.find("tr", data_base="reg-two", data_status="active")
    assert not again.find("tr", data_base="reg-small")
    assert again.text("h1") == "Register bases"


async def test_the_page_refuses_whom_the_registration_route_refuses(api: Api) -> None:
    body = _registration("reg-never", 10)
    for who in ("elsewhere", "city", "staff"):
        page = await api.http.get(PAGE, headers=api.auth(who))
        route = await api.http.post(
            f"/v1/programs/{PROGRAM}/bases", json=body, headers=api.auth(who)
        )
        assert page.status_code == route.status_code == 403, (who, page.status_code, route.text)
        problem = Html(page.text).find("div", id="problem")[0]
        assert problem["data-problem-code"] == route.json()["code"] == "forbidden"
        assert "reg-one" not in page.text  # no base is listed to them
    unsigned = await api.http.get(PAGE)
    assert unsigned.status_code == 303
    assert unsigned.headers["location"].startswith("/portal/signin?next=")
