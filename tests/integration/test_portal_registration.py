"""The province's base registration page: the program's bases and the form that posts to
``POST /v1/programs/{p}/bases``; read through the same ``administer`` check the API applies.
The gateway in process on the test stack (the registry on a real nats-server)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from services.gateway.portal import registration_pages
from tests.conftest import Stack
from tests.helpers import demo_rules
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html
from tests.integration.presets import preset

PROGRAM = "portal-reg"
PAGE = f"/portal/province/bases?program={PROGRAM}"
CNIPA = "portal-reg-cnipa"
CNIPA_PAGE = f"/portal/province/bases?program={CNIPA}"
NODE = shutil.which("node")
USERS = {
    "province": Principal(name="reg-province", role="province_admin", program=PROGRAM),
    "elsewhere": Principal(name="reg-elsewhere", role="province_admin", program="demo-fast"),
    "city": Principal(name="reg-city", role="city_officer", program=PROGRAM, region="410100"),
    "staff": Principal(name="reg-staff", role="base_user", program=PROGRAM, base="reg-one"),
    "cnipa": Principal(name="reg-cnipa", role="province_admin", program=CNIPA),
}


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    driver.register(stack, demo_rules(id=PROGRAM), ["reg-one"])
    driver.register(stack, preset("cnipa-pilot-2015", CNIPA), [])
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


def _form_request(html: Html, kind: str, typed: dict[str, Any]) -> dict[str, Any]:
    """The body static/portal.js builds from the registration form once ``kind`` is chosen
    (static/registration.js enables that kind's controls only): each named control outside the
    kinds' fieldsets and inside the chosen one; a checkbox sends whether it is ticked, a number
    field a number, an optional field left empty nothing. ``typed``: what the person enters, by
    name (a checkbox's True: ticked)."""
    body: dict[str, Any] = {}
    for control in html.find("input") + html.find("select"):
        name, ident = control.get("name", ""), control.get("id", "")
        if not name or name == "csrf_token":
            continue
        in_kind = ident.startswith("reg-decl-")
        if in_kind and not ident.startswith(f"reg-decl-{kind}-"):
            continue
        if not in_kind:
            assert "disabled" not in control, control
        if name == "kind":
            value: Any = kind
        elif control.get("type") == "checkbox":
            value = bool(typed.get(name, False))
        elif name not in typed and "data-optional" in control:
            continue
        elif control.get("type") == "number":
            value = int(typed[name])
        else:
            value = typed.get(name, "")
        at = body
        parts = re.sub(r"\[(\d+)\]", r".\1", name).split(".")
        for i, part in enumerate(parts[:-1]):
            at = at.setdefault(part, [] if parts[i + 1].isdigit() else {})
        if isinstance(at, list):
            at.append(value)
        else:
            at[parts[-1]] = value
    return body


def _reasons_shown(problem: dict[str, Any], lang: str) -> list[str]:
    """The reasons static/registration.js lists under the form for ``problem``."""
    script = files("services.gateway.portal").joinpath("static", "registration.js").read_text()
    program = (
        "globalThis.window = {};\n"
        + script
        + f"\nconsole.log(JSON.stringify(window.registrationReasons({json.dumps(problem)},"
        + f" {json.dumps(lang)})));"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", program], capture_output=True, text=True, timeout=30, check=True
    )
    shown: list[str] = json.loads(done.stdout)
    return shown


async def test_a_program_with_kinds_offers_its_kinds_and_registers_the_chosen_one(
    api: Api,
) -> None:
    rules = preset("cnipa-pilot-2015", CNIPA)
    kinds = ["experimental_zone", "collaborative_pilot", "operation_enterprise", "trading_centre"]
    assert list(rules.participants) == kinds
    shown = await api.http.get(CNIPA_PAGE, headers=api.auth("cnipa"))
    assert shown.status_code == 200, shown.text
    html = Html(shown.text)
    options = html.find("option")
    assert [o["value"] for o in options] == kinds
    assert [(o["data-name-zh"], o["data-name-en"]) for o in options] == [
        (rules.participants[k].name_zh, rules.participants[k].name_en) for k in kinds
    ]
    assert (
        html.texts("option")[2]
        == "国家专利运营试点企业 / National patent operation pilot enterprise"
    )
    # Every control has its label; the first kind's controls are on, the others' off.
    for control in html.find("input") + html.find("select"):
        if control.get("type") != "hidden":
            assert html.find("label", **{"for": control["id"]}), control
    for kind in kinds:
        fieldset = html.find("fieldset", data_kind=kind)[0]
        assert ("hidden" in fieldset) == (kind != kinds[0]), kind
        declared = [
            c["name"].split(".")[1]
            for c in html.find("input", type="checkbox")
            if c["id"].startswith(f"reg-decl-{kind}-")
        ]
        eligibility = rules.participants[kind].eligibility
        assert eligibility is not None
        assert declared == [d.key for d in eligibility.declarations], kind
    zone = rules.participants["experimental_zone"].eligibility
    assert zone is not None
    assert html.find("input", id="reg-decl-experimental_zone-ip_alliance-file", type="file")
    assert html.find(
        "input",
        id="reg-decl-experimental_zone-ip_alliance-ref",
        name="declarations.ip_alliance.evidence[0]",
    )
    assert html.text("label", **{"for": "reg-decl-experimental_zone-ip_alliance"}) == (
        f"{zone.declarations[4].text_zh} （需附证明材料）"
    )
    assert html.text(id="register-rules-experimental_zone") == (
        "本项目要求：专（兼）职人员不少于 0 人，其中专职高级人员不少于 0 人。"
    )
    english = Html((await api.http.get(f"{CNIPA_PAGE}&lang=en", headers=api.auth("cnipa"))).text)
    assert (
        english.texts("option")[2]
        == "National patent operation pilot enterprise / 国家专利运营试点企业"
    )
    assert english.text("legend") == (
        "Conditions for a National patent navigation experimental zone for industrial development"
    )

    enterprise = rules.participants["operation_enterprise"].eligibility
    assert enterprise is not None
    keys = [d.key for d in enterprise.declarations]
    unit = f"reg-ent-{uuid.uuid4().hex[:8]}"
    typed: dict[str, Any] = {
        "id": unit,
        "name": "某专利运营试点企业",
        "region": "320100",
        "domain": "新材料",
        "host_type": "企业",
        "staff.total": 12,
        "staff.senior_full_time": 3,
    }
    for key in keys:
        typed[f"declarations.{key}.affirmed"] = True
        typed[f"declarations.{key}.evidence[0]"] = f"{key}-plan.pdf"
    # The last declaration's evidence is missing: refused with every reason in both languages.
    short = {k: v for k, v in typed.items() if k != f"declarations.{keys[-1]}.evidence[0]"}
    body = _form_request(html, "operation_enterprise", short)
    assert body["kind"] == "operation_enterprise"
    assert sorted(body["declarations"]) == sorted(keys)
    assert body["declarations"][keys[-1]] == {"affirmed": True}
    refused = await api.http.post(
        f"/v1/programs/{CNIPA}/bases", json=body, headers=api.auth("cnipa")
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "not_eligible"
    last = enterprise.declarations[-1]
    assert [(r["code"], r["message_zh"], r["message"]) for r in problem["reasons"]] == [
        (
            "evidence_missing",
            f"“{last.text_zh}”未附证明材料",
            f"declaration {last.key!r} names no evidence document: {last.text_en}",
        )
    ]
    # The page's script lists them in the page's language (run in node on the API's answer).
    assert html.find("div", id="register-reasons", hidden="")
    if NODE is not None:
        assert _reasons_shown(problem, "zh") == [f"“{last.text_zh}”未附证明材料"]
        assert _reasons_shown(problem, "en") == [
            f"declaration {last.key!r} names no evidence document: {last.text_en}"
        ]

    created = await api.http.post(
        f"/v1/programs/{CNIPA}/bases",
        json=_form_request(html, "operation_enterprise", typed),
        headers=api.auth("cnipa"),
    )
    assert created.status_code == 201, created.text
    stored = created.json()
    assert (stored["id"], stored["kind"]) == (unit, "operation_enterprise")
    assert stored["declarations"] == {
        key: {"affirmed": True, "evidence": [f"{key}-plan.pdf"]} for key in keys
    }
    listed = await api.http.get(f"/v1/programs/{CNIPA}/bases", headers=api.auth("cnipa"))
    [mine] = [b for b in listed.json()["bases"] if b["id"] == unit]
    assert mine["kind"] == "operation_enterprise"


async def test_a_program_without_kinds_shows_no_kind_selector(api: Api) -> None:
    html = Html((await api.http.get(PAGE, headers=api.auth("province"))).text)
    assert not html.find("select", id="reg-kind")
    assert not html.find("fieldset", data_kind=None)
    assert not html.find("input", name="kind")
    assert "registration.js" not in str(html.find("script"))


async def test_the_bases_are_listed_a_page_at_a_time_none_lost_or_repeated(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two bases a page: the "next page" links give every base the API lists, once each."""
    monkeypatch.setattr(registration_pages, "BASES_PAGE", 2)
    driver.register(stack, demo_rules(id=PROGRAM), [f"reg-paged-{n}" for n in range(4)])
    listed = await api.http.get(f"/v1/programs/{PROGRAM}/bases", headers=api.auth("province"))
    everyone = [b["id"] for b in listed.json()["bases"]]
    assert len(everyone) >= 5 and listed.json()["next_cursor"] is None
    seen: list[str] = []
    path: str | None = PAGE
    while path is not None:
        shown = await api.http.get(path, headers=api.auth("province"))
        assert shown.status_code == 200, shown.text
        html = Html(shown.text)
        rows = [r["data-base"] for r in html.find("tr", data_base=None)]
        assert 0 < len(rows) <= 2
        assert bool(html.find("a", id="registered-first")) == bool(seen)
        seen += rows
        more = html.find("a", id="registered-more")
        path = f"/portal/province/bases{more[0]['href']}" if more else None
    assert seen == everyone
    first = Html((await api.http.get(PAGE, headers=api.auth("province"))).text)
    assert first.text("a", id="registered-more") == "下一页基地"
