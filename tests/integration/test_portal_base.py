"""The base pages of the portal on the real stack: the Temporal dev server (real time, so a
filing's arrival and its deadline are judged on one clock), the services on a real nats-server,
the stack's object store, and the gateway in process. Pages are read as a base's staff would
read them and parsed with the stdlib; the plan is filed with the multipart request the page's
own form describes (its action, its field names)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.portal_sessions import issue_link
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user
from services.gateway.portal.base_pages import countdown
from services.gateway.session_cookie import CSRF_HEADER, SESSION_COOKIE
from shared.db import make_engine
from shared.domain.stages import Stage
from shared.domain.wording import BEIJING
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.settings import Settings
from tests.conftest import DevStack, Stack
from tests.helpers import demo_rules, start_cycle, until, until_json
from tests.integration import driver
from tests.integration.gateway_fixture import gateway
from tests.integration.test_program_year import cycles, launch
from workflows.program_year import ProgramYearWorkflow

PROGRAM = "portal-base"
BASE, OTHER = "pb-biomed", "pb-agri"  # both registered in Zhengzhou (410100)
_years = itertools.count(2061)  # each test a cycle of its own (the gateway takes years to 2100)
RETURN_COMMENT = "目标值过低，请将新增发明专利目标提高到40件"

USERS = {
    "staff": Principal(name="pb-staff", role="base_user", program=PROGRAM, base=BASE),
    "other": Principal(name="pb-other", role="base_user", program=PROGRAM, base=OTHER),
    "city": Principal(name="pb-zhengzhou", role="city_officer", region="410100"),
    "far_city": Principal(name="pb-luoyang", role="city_officer", region="410300"),
    "admin": Principal(name="pb-admin", role="province_admin", program=PROGRAM),
}


class Reader(Protocol):
    """A gateway a test reads pages from: this module's, or tests.integration.gateway_fixture's."""

    http: httpx.AsyncClient

    def auth(self, who: str) -> dict[str, str]: ...


@dataclass
class Portal:
    http: httpx.AsyncClient
    tokens: dict[str, str]
    users: Engine

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@asynccontextmanager
async def portal(
    stack: Stack, dev_stack: DevStack, nc: NatsClient, tmp: Path
) -> AsyncIterator[Portal]:
    users = make_engine(f"sqlite:///{tmp / f'gateway-{uuid.uuid4().hex[:6]}.db'}")
    upgrade(users, GATEWAY_MIGRATIONS)
    tokens = {who: add_user(users, p) for who, p in USERS.items()}
    config = Settings(  # type: ignore[call-arg]
        _env_file=None, state_dir=tmp, task_queue=dev_stack.task_queue
    )

    async def build() -> Deps:
        return Deps(config, dev_stack.client, nc, RpcClient(nc), stack.objects, users)

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", timeout=120
        ) as http:
            yield Portal(http, tokens, users)


@pytest.fixture
async def api(stack: Stack, dev_stack: DevStack, nc: NatsClient, tmp_path: Path) -> Any:
    async with portal(stack, dev_stack, nc, tmp_path) as found:
        yield found


async def open_cycle(
    stack: Stack, dev_stack: DevStack, api: Portal, year: int | None = None
) -> tuple[int, str]:
    """A cycle of the base in plan_filing with an hour to file; its API state path."""
    rules = demo_rules(
        id=PROGRAM,
        calendar__reminders=[],
        calendar__plan_window="PT1H",
        calendar__plan_review_window="PT1H",
        calendar__self_evaluation_due="PT2H",
    )
    driver.register(stack, rules, [BASE, OTHER])
    year = year or next(_years)
    await start_cycle(
        dev_stack.client,
        dev_stack.task_queue,
        rules,
        year,
        base=BASE,
        launched_at=datetime.now(UTC),
    )
    path = f"/v1/programs/{PROGRAM}/years/{year}/bases/{BASE}"
    await until_json(api.http, path, api.auth("staff"), lambda s: s["stage"] == "plan_filing")
    return year, path


# ------------------------------------------------------------------------ reading the HTML


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class Page(HTMLParser):
    """Elements with an id, forms with their fields, and the text of each id'd element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, Element] = {}
        self.forms: dict[str, dict[str, Any]] = {}
        self.rows: list[Element] = []
        self._open: list[Element] = []
        self._form: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = Element(tag, {k: v or "" for k, v in attrs})
        if tag == "form" and "id" in found.attrs:
            self._form = found.attrs["id"]
            self.forms[self._form] = {"attrs": found.attrs, "fields": []}
        if tag in ("input", "textarea", "select") and self._form and "name" in found.attrs:
            self.forms[self._form]["fields"].append(found.attrs)
        if tag == "tr" and ("data-receipt" in found.attrs or "data-returned" in found.attrs):
            self.rows.append(found)
        if "id" in found.attrs:
            self.ids[found.attrs["id"]] = found
        if tag not in ("input", "br", "meta", "link", "img"):
            self._open.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def text(self, element_id: str) -> str:
        return " ".join(self.ids[element_id].text.split())


async def page(api: Reader, path: str, who: str = "staff") -> tuple[Page, str]:
    resp = await api.http.get(path, headers=api.auth(who))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    parsed = Page()
    parsed.feed(resp.text)
    return parsed, resp.text


def multipart_of(form: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
    """The request portal.js sends for this form: FormData of its named fields (the CSRF token
    left out), the file parts with the given bytes."""
    data: dict[str, str] = {}
    sent: dict[str, tuple[str, bytes, str]] = {}
    for f in form["fields"]:
        name = f["name"]
        if name == "csrf_token":
            continue
        if f.get("type") == "file":
            sent[name] = ("实施方案.pdf", files[name], "application/pdf")
        else:
            data[name] = f.get("value", "")
    return {"data": data, "files": sent}


# ------------------------------------------------------------------------------- the tests


async def test_a_launched_cycle_shows_its_stage_deadline_and_what_to_do_in_both_languages(
    api: Portal, stack: Stack, dev_stack: DevStack
) -> None:
    year, path = await open_cycle(stack, dev_stack, api)
    state = (await api.http.get(path, headers=api.auth("staff"))).json()
    zh, html = await page(api, f"/portal/base/{year}")
    assert '<html lang="zh-CN">' in html
    assert zh.text("base-h1") == f"基地 {BASE}：{year}年度工作 编号 {BASE}"  # its registered name
    assert zh.text("base-stage") == "实施方案备案"
    assert zh.ids["base-glance"].attrs["data-stage"] == "plan_filing"
    counted = zh.text("base-countdown")
    # An hour to file: a countdown in minutes, then the deadline as the API words it.
    assert re.fullmatch(r"还剩约 \d+ 分钟，.+", counted), counted
    assert counted.endswith(state["deadline_words"]["plan"]["zh"]), (counted, state)
    assert zh.ids["base-countdown"].attrs["data-overdue"] == "false"
    assert "请填写目标表并上传实施方案" in zh.text("base-expected")
    assert "plan-form" in zh.forms and "尚未提交任何材料" in zh.text("receipts-none")

    en, html = await page(api, f"/portal/base/{year}?lang=en")
    assert '<html lang="en">' in html
    assert en.text("base-stage") == "Filing the implementation plan"
    counted = en.text("base-countdown")
    assert re.fullmatch(r"About \d+ minutes left, .+", counted), counted
    assert counted.endswith(state["deadline_words"]["plan"]["en"])
    assert "upload the implementation plan" in en.text("base-expected")


async def test_a_plan_filed_as_the_form_sends_it_is_shown_with_its_receipt_then_returned(
    api: Portal, stack: Stack, dev_stack: DevStack
) -> None:
    year, path = await open_cycle(stack, dev_stack, api)
    before, _ = await page(api, f"/portal/base/{year}")
    form = before.forms["plan-form"]
    assert form["attrs"]["action"] == f"{path}/plan"
    assert form["attrs"]["enctype"] == "multipart/form-data"
    assert "data-api" in form["attrs"]
    names = {f["name"] for f in form["fields"]}
    assert names == {"csrf_token", "targets", "file"}, names

    # What base.js puts in the hidden field once the person has filled in two rows.
    targets = [
        {"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"},
        {"key": "reports", "name": "导航报告", "target": 4, "unit": "份"},
    ]
    for f in form["fields"]:
        if f["name"] == "targets":
            f["value"] = json.dumps(targets, ensure_ascii=False)
    plan = f"%PDF-1.4\n% portal plan {uuid.uuid4().hex}\n".encode()
    resp = await api.http.post(
        form["attrs"]["action"],
        headers={**api.auth("staff"), "Idempotency-Key": form["attrs"]["data-idempotency"]},
        **multipart_of(form, {"file": plan}),
    )
    assert resp.status_code in (201, 202), resp.text
    await until_json(api.http, path, api.auth("staff"), lambda s: s["stage"] == "plan_review")

    filed, _ = await page(api, f"/portal/base/{year}")
    assert filed.text("base-stage") == "方案核实"
    assert "等待市知识产权局核实" in filed.text("base-expected")
    assert "plan-form" not in filed.forms  # filed: nothing to file now
    receipts = [r for r in filed.rows if "data-receipt" in r.attrs]
    assert len(receipts) == 1
    digest = hashlib.sha256(plan).hexdigest()
    assert receipts[0].attrs["data-sha256"] == digest
    row = " ".join(receipts[0].text.split())
    assert row.startswith("实施方案 1 实施方案.pdf " + digest), row
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日\d{1,2}时", row), row  # arrival in words
    assert filed.text("targets-filed").count("件") == 1 and "导航报告" in filed.text(
        "targets-filed"
    )

    # The city returns it with a comment: the page shows the comment and the form again.
    returned = await api.http.post(
        f"{path}/plan/review",
        json={"decision": "return", "comment": RETURN_COMMENT},
        headers=api.auth("city"),
    )
    assert returned.status_code == 200, returned.text
    await until_json(api.http, path, api.auth("staff"), lambda s: s["stage"] == "plan_filing")
    again, html = await page(api, f"/portal/base/{year}")
    comments = [r for r in again.rows if "data-returned" in r.attrs]
    assert len(comments) == 1 and RETURN_COMMENT in comments[0].text
    assert "市级核实" in comments[0].text
    assert "实施方案已被退回" in again.text("base-expected")
    assert "plan-form" in again.forms  # to refile, with the targets filed before
    assert 'value="导航报告"' in html
    en, _ = await page(api, f"/portal/base/{year}?lang=en")
    assert "City verification" in " ".join(r.text for r in en.rows if "data-returned" in r.attrs)
    assert "Implementation plan" in en.text("receipts-table")


async def test_signed_in_with_a_link_the_form_posts_with_the_session_and_its_csrf_token(
    api: Portal, stack: Stack, dev_stack: DevStack
) -> None:
    """As the browser does it: a one-time link for a session cookie, the page's CSRF token
    (its meta tag) in X-CSRF-Token beside the cookie, as portal.js sends the form; without the
    token the API refuses the filing and nothing is filed."""
    year, path = await open_cycle(stack, dev_stack, api)
    issued = issue_link(api.users, USERS["staff"].name, lifetime=timedelta(minutes=5))
    signed = await api.http.post("/portal/signin", data={"token": issued.token})
    assert signed.status_code == 303, signed.text
    session = api.http.cookies.get(SESSION_COOKIE)
    api.http.cookies.clear()
    assert session
    jar = {"Cookie": f"{SESSION_COOKIE}={session}"}
    resp = await api.http.get(f"/portal/base/{year}", headers=jar)
    assert resp.status_code == 200, resp.text
    shown = Page()
    shown.feed(resp.text)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', resp.text)
    assert token, resp.text
    form = shown.forms["plan-form"]
    for f in form["fields"]:
        if f["name"] == "targets":
            f["value"] = json.dumps([{"key": "patents", "name": "新增发明专利", "target": 30}])
    plan = f"%PDF-1.4\n% session plan {uuid.uuid4().hex}\n".encode()
    refused = await api.http.post(
        form["attrs"]["action"], headers=jar, **multipart_of(form, {"file": plan})
    )
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed", refused.text
    filed = await api.http.post(
        form["attrs"]["action"],
        headers={**jar, CSRF_HEADER: token[1]},
        **multipart_of(form, {"file": plan}),
    )
    assert filed.status_code in (201, 202), filed.text
    state = await until_json(api.http, path, api.auth("staff"), lambda s: s["plan_filed"])
    assert [d["sha256"] for d in state["documents"]] == [sha256_of(plan)]  # filed once


async def test_another_base_and_other_readers_get_what_the_api_gives_them(
    api: Portal, stack: Stack, dev_stack: DevStack
) -> None:
    year, path = await open_cycle(stack, dev_stack, api)
    mine = f"/portal/base/{year}/{BASE}?program={PROGRAM}"
    for who in ("other", "far_city"):
        api_answer = await api.http.get(path, headers=api.auth(who))
        resp = await api.http.get(mine, headers=api.auth(who))
        assert api_answer.status_code == resp.status_code == 404, (who, resp.text)
        assert 'data-code="base_not_found"' in resp.text
    # The other base's own page does not show this base either.
    resp = await api.http.get(f"/portal/base/{year}", headers=api.auth("other"))
    assert resp.status_code == 404, resp.text
    # Whoever may read the cycle sees it, without the forms only the base may send.
    city, _ = await page(api, mine, "city")
    assert city.text("base-stage") == "实施方案备案" and "plan-form" not in city.forms
    staff, _ = await page(api, mine, "staff")
    assert "plan-form" in staff.forms
    # No session: sent to sign in and back.
    resp = await api.http.get(mine)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/portal/signin?next=")
    # An officer has no base page of its own.
    resp = await api.http.get("/portal/base", headers=api.auth("city"))
    assert resp.status_code == 404


async def test_the_base_home_opens_the_latest_launched_year(
    api: Portal, stack: Stack, dev_stack: DevStack
) -> None:
    latest = datetime.now(BEIJING).year + 1
    year, _ = await open_cycle(stack, dev_stack, api, year=latest)
    home, _ = await page(api, "/portal/base")
    assert home.ids["base-glance"].attrs["data-year"] == str(year)
    assert home.text("base-stage") == "实施方案备案"
    # Another base of the program, with no cycle: no year found, said in words.
    none, _ = await page(api, "/portal/base", "other")
    assert "尚未找到本基地已启动的年度" in none.text("base-no-year")


def test_countdowns_in_words() -> None:
    now = datetime(2027, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 Beijing time
    by_day = datetime(2027, 4, 1, 16, 0, tzinfo=UTC)  # 24:00 of 1 April, Beijing time
    said = countdown(by_day, None, now, "zh")
    assert (said.text, said.overdue) == ("还剩 13 天，2027年4月1日24时前", False)
    assert countdown(by_day, None, now, "en").text == "13 days left, by end of 1 April 2027"
    last_day = now.replace(month=4, day=1)
    assert countdown(by_day, None, last_day, "zh").text == "今天截止，2027年4月1日24时前"
    late = countdown(by_day, None, by_day + timedelta(days=3, hours=2), "en")
    assert (late.text, late.overdue) == ("3 days overdue (by end of 1 April 2027)", True)
    soon = countdown(now + timedelta(minutes=30), None, now, "zh")
    assert soon.text.startswith("还剩约 30 分钟，2027年3月20日12时30分前")
    last = countdown(now + timedelta(seconds=40), None, now, "en")
    assert last.text.startswith("Less than a minute left, by 12:00:40 on 20 March 2027")
    hours = countdown(now + timedelta(hours=5), None, now, "en")
    assert hours.text.startswith("About 5 hours left, by 17:00 on 20 March 2027")


async def test_the_self_evaluation_is_filed_against_the_targets_with_the_completion_shown(
    api: Portal, stack: Stack, dev_stack: DevStack
) -> None:
    year, path = await open_cycle(stack, dev_stack, api)
    first, _ = await page(api, f"/portal/base/{year}")
    form = first.forms["plan-form"]
    for f in form["fields"]:
        if f["name"] == "targets":
            f["value"] = json.dumps([{"key": "patents", "name": "新增发明专利", "target": 30}])
    plan = f"%PDF-1.4\n% plan {uuid.uuid4().hex}\n".encode()
    filed = await api.http.post(
        form["attrs"]["action"], headers=api.auth("staff"), **multipart_of(form, {"file": plan})
    )
    assert filed.status_code in (201, 202), filed.text
    for step, who in (("city", "city"), ("province", "admin")):

        def awaits(s: dict[str, Any], step: str = step) -> bool:
            return s["verification_step"] == step

        await until_json(api.http, path, api.auth("staff"), awaits)
        approved = await api.http.post(
            f"{path}/plan/review", json={"decision": "approve"}, headers=api.auth(who)
        )
        assert approved.status_code == 200, approved.text
    await until_json(api.http, path, api.auth("staff"), lambda s: s["stage"] == "implementing")

    now, _ = await page(api, f"/portal/base/{year}")
    assert now.text("base-stage") == "实施建设"
    assert "填报目标完成情况" in now.text("base-expected")
    form = now.forms["selfeval-form"]
    assert form["attrs"]["action"] == f"{path}/self-evaluation"
    assert {f["name"] for f in form["fields"]} == {"csrf_token", "actuals", "file"}
    assert now.ids["actual-1"].attrs["data-actual-key"] == "patents"
    for f in form["fields"]:
        if f["name"] == "actuals":
            f["value"] = json.dumps({"patents": 33})  # what base.js keeps there
    report = f"%PDF-1.4\n% report {uuid.uuid4().hex}\n".encode()
    resp = await api.http.post(
        form["attrs"]["action"], headers=api.auth("staff"), **multipart_of(form, {"file": report})
    )
    assert resp.status_code in (201, 202), resp.text
    await until_json(api.http, path, api.auth("staff"), lambda s: s["actuals"] == {"patents": 33})
    after, _ = await page(api, f"/portal/base/{year}")
    assert "110.0%" in after.text("targets-filed")  # 33 of 30, as the review computes it
    kinds = [r.text.split()[0] for r in after.rows if "data-receipt" in r.attrs]
    assert kinds == ["实施方案", "年度自评报告"]
    assert hashlib.sha256(report).hexdigest() in {r.attrs["data-sha256"] for r in after.rows}


# ------------------------------------------------------------ after the 公示 (time-skipping)

PUBLISHED = "portal-base-pub"
_published_years = itertools.count(2081)


FAILING = "pb-fix"


async def test_after_publication_the_grade_averages_an_objection_then_the_rectification(
    stack: Stack, nc: NatsClient, tmp_path: Path
) -> None:
    """A program year in 公示 on the time-skipping server: the base sees its grade and the
    indicator averages (never the sheets), lodges an objection with the form's own fields, and
    sees it listed; the other base sees neither this base's grade nor its objection. Once the
    results are final, the failed base files its rectification report with its form."""
    rules = demo_rules(
        id=PUBLISHED,
        verification=[],
        calendar__publication_period="PT1H",
        calendar__rectification_period="PT1H",
        calendar__reminders=[],
    )
    driver.register(stack, rules, [BASE, OTHER, FAILING])
    year = next(_published_years)
    program_year = await launch(stack, rules, year, expected=3)
    handles = cycles(stack, rules, year, [BASE, OTHER, FAILING])
    for handle in handles.values():
        await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    totals = {BASE: 80, OTHER: 70, FAILING: 40}
    for base, handle in handles.items():
        await driver.score(handle, "e1", driver.scores(rules, totals[base]))
    await until(
        lambda: program_year.query(ProgramYearWorkflow.state),
        lambda state: state.phase == "publication",
        "the year's 公示",
    )
    users = {
        "staff": Principal(name="pbp-staff", role="base_user", program=PUBLISHED, base=BASE),
        "other": Principal(name="pbp-other", role="base_user", program=PUBLISHED, base=OTHER),
        "fix": Principal(name="pbp-fix", role="base_user", program=PUBLISHED, base=FAILING),
        "admin": Principal(name="pbp-admin", role="province_admin", program=PUBLISHED),
    }
    async with gateway(stack, nc, tmp_path, users) as api:
        shown, _ = await page(api, f"/portal/base/{year}")
        assert shown.text("result-grade") == "合格"
        assert shown.text("result-total") == "80.0"
        averages = shown.text("averages")
        for indicator in rules.rubric.indicators:
            assert indicator.name in averages
        assert "结果公示中" in shown.text("base-expected")
        form = shown.forms["objection-form"]
        assert form["attrs"]["action"] == f"/v1/programs/{PUBLISHED}/years/{year}/objections"
        fields = {f["name"]: f.get("value", "") for f in form["fields"]}
        assert set(fields) == {"csrf_token", "base", "grounds", "contact"}
        body = {"base": fields["base"], "grounds": "专家评分未计入本基地新增的导航报告"}
        lodged = await api.http.post(form["attrs"]["action"], json=body, headers=api.auth("staff"))
        assert lodged.status_code == 201, lodged.text
        listed, _ = await page(api, f"/portal/base/{year}")
        assert "专家评分未计入" in listed.text("objections-table")
        assert "已受理，待处理" in listed.text("objections-table")
        en, _ = await page(api, f"/portal/base/{year}?lang=en")
        assert en.text("result-grade") == "Pass"
        # The switch is kept in a cookie: Chinese again only when asked.
        path = f"/portal/base/{year}?lang=zh"
        other, html = await page(api, path, "other")
        assert other.text("result-grade") == "合格" and "专家评分未计入" not in html
        assert other.text("result-total") == "70.0"

        # The objection decided and the 公示 over: the failed base is ordered to rectify.
        decided = await api.http.post(
            f"{form['attrs']['action']}/{lodged.json()['objection_id']}/decision",
            json={"decision": "dismiss", "reason": "导航报告不在本年度评估范围内"},
            headers=api.auth("admin"),
        )
        assert decided.status_code == 200, decided.text
        state = await program_year.query(ProgramYearWorkflow.state)
        assert state.publication_until is not None
        await stack.env.sleep(state.publication_until - await stack.env.get_current_time())
        await stack.env.sleep(timedelta(minutes=1))
        await until(
            lambda: driver.state(handles[FAILING]),
            lambda s: s.stage == Stage.RECTIFYING,
            "the rectification",
        )
        decided_page, _ = await page(api, f"/portal/base/{year}")
        assert "异议不成立" in decided_page.text("objections-table")
        fix, _ = await page(api, f"/portal/base/{year}", "fix")
        assert fix.text("base-stage").startswith("限期整改")
        assert "请按要求整改" in fix.text("base-expected")
        assert fix.text("result-grade") == "不合格"
        rect = fix.forms["rect-form"]
        cycle_path = f"/v1/programs/{PUBLISHED}/years/{year}/bases/{FAILING}"
        assert rect["attrs"]["action"] == f"{cycle_path}/rectification"
        assert {f["name"] for f in rect["fields"]} == {"csrf_token", "file"}
        report = f"%PDF-1.4\n% rectified {uuid.uuid4().hex}\n".encode()
        resp = await api.http.post(
            rect["attrs"]["action"],
            headers=api.auth("fix"),
            **multipart_of(rect, {"file": report}),
        )
        assert resp.status_code in (201, 202), resp.text
        await until(
            lambda: driver.state(handles[FAILING]),
            lambda s: any(d.kind == "rectification" for d in s.documents),
            "the rectification report recorded",
        )
        filed, _ = await page(api, f"/portal/base/{year}", "fix")
        assert "rect-form" not in filed.forms
        # Filed: the re-review opens at once, and the stage says which round it is.
        assert filed.text("base-stage") == "绩效评估（整改复评第 1 轮）"
        assert "专家正在评审" in filed.text("base-expected")
        receipt = [r for r in filed.rows if r.attrs.get("data-sha256") == sha256_of(report)]
        assert len(receipt) == 1 and receipt[0].text.split()[0] == "整改报告"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------- in a real browser

CHROMIUM = os.environ.get("NAVCYCLE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
ORIGIN = "http://portal.test"


async def _through_gateway(api: Portal, route: Any) -> None:
    """Chromium's request answered by the in-process gateway, as a server would answer it."""
    request = route.request
    headers = {k: v for k, v in (await request.all_headers()).items() if not k.startswith(":")}
    answer = await api.http.request(
        request.method,
        request.url.removeprefix(ORIGIN),
        headers=headers,
        content=request.post_data_buffer,
    )
    kept = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
    }
    await route.fulfill(status=answer.status_code, headers=kept, body=answer.content)


async def test_in_chromium_the_target_editor_checks_as_one_types_and_the_plan_is_filed(
    api: Portal, stack: Stack, dev_stack: DevStack, tmp_path: Path
) -> None:
    """The page's own scripts at work (base.js and portal.js), in headless Chromium on a phone's
    screen, against the gateway in process: a duplicate key and a missing name are said next to
    their fields as they are typed and keep the form from being sent; a removed row takes its
    problem with it; the plan goes with the session cookie and the CSRF token, with its
    progress bar, and comes back as a receipt with the file's sha256. axe-core (WCAG 2.0/2.1
    A and AA) finds nothing on the page before or after."""
    from playwright.async_api import FilePayload, async_playwright

    from tests.e2e.portal_people import axe_violations

    assert HAVE_CHROMIUM, f"no chromium at {CHROMIUM}: make browser"
    year, path = await open_cycle(stack, dev_stack, api)
    issued = issue_link(api.users, USERS["staff"].name, lifetime=timedelta(minutes=5))
    signed = await api.http.post("/portal/signin", data={"token": issued.token})
    assert signed.status_code == 303, signed.text
    session = api.http.cookies.get(SESSION_COOKIE)
    api.http.cookies.clear()
    assert session
    plan = f"%PDF-1.4\n% browser plan {uuid.uuid4().hex}\n".encode()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844})
            await context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": ORIGIN}])
            page = await context.new_page()
            failures: list[str] = []
            page.on("pageerror", lambda e: failures.append(str(e)))
            await page.route("**/*", lambda route: _through_gateway(api, route))
            await page.goto(f"{ORIGIN}/portal/base/{year}")
            assert await page.text_content("#base-stage") == "实施方案备案"
            assert await axe_violations(page) == []

            await page.fill("#target-1-key", "patents")
            await page.fill("#target-1-name", "新增发明专利")
            await page.fill("#target-1-target", "30")
            await page.fill("#target-1-unit", "件")
            await page.click("#add-target")
            await page.fill("#target-2-key", "patents")
            await page.locator("#target-2-key").blur()
            assert await page.text_content("#target-2-key-error") == "编号与其他行重复。"
            assert await page.get_attribute("#target-2-key", "aria-invalid") == "true"
            chosen: FilePayload = {
                "name": "实施方案.pdf",
                "mimeType": "application/pdf",
                "buffer": plan,
            }
            await page.set_input_files("#plan-file", files=[chosen])
            await page.click("#plan-submit")  # refused by the page: nothing is sent
            assert await page.text_content("#plan-form [data-form-error]") == "请先改正标出的问题。"
            assert await page.text_content("#target-2-name-error") == "请填写名称（1–200 个字符）。"
            state = (await api.http.get(path, headers=api.auth("staff"))).json()
            assert state["documents"] == []

            await page.click("#targets-rows tr:nth-child(2) [data-remove-row]")
            assert await page.locator("#targets-rows tr").count() == 1
            sent = json.loads(await page.input_value("#plan-targets"))
            assert sent == [{"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"}]
            async with page.expect_request(f"{ORIGIN}{path}/plan") as posting:
                async with page.expect_navigation():  # portal.js reloads the page once filed
                    await page.click("#plan-submit")
            posted = await posting.value
            assert posted.method == "POST"
            assert (await posted.all_headers())["x-csrf-token"]
            assert posted.headers["content-type"].startswith("multipart/form-data")
            state = await until_json(api.http, path, api.auth("staff"), lambda s: s["plan_filed"])
            assert state["targets"] == sent
            await page.reload()
            receipt = page.locator("tr[data-receipt]")
            assert await receipt.get_attribute("data-sha256") == sha256_of(plan)
            assert await axe_violations(page) == []
            await page.screenshot(path=str(tmp_path / "base-filed-phone.png"), full_page=True)
            assert failures == []
        finally:
            await browser.close()
