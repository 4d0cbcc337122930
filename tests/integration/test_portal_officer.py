"""The officers' pages of the portal on the real test stack: the gateway in process, the registry
and filings on a real nats-server, cycles on the Temporal test server. A base files its plan
through the API; the pages are read as each officer would, and the forms' requests are sent as
``static/portal.js`` sends them (the form's action, its fields as JSON, its Idempotency-Key).
The pages read the dashboard's projections (a dashboard service of the test's own, from the
events each test makes), and the gateway's Temporal client counts the workflows it queries."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine
from temporalio.client import Client, Interceptor, OutboundInterceptor, QueryWorkflowInput

from services.dashboard.app import build_broker as dashboard_broker
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.gateway.identity.tokens import Principal
from services.gateway.portal import officer_pages
from services.gateway.portal.officer_pages import BaseCycle, queue_items
from shared.contracts import workflow_names as names
from shared.contracts.cycle import CycleState
from shared.contracts.dashboard import CycleList, CyclesQuery
from shared.db import make_engine
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from shared.domain.wording import BEIJING
from shared.events.subjects import rpc_subject
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.stream import EVENTS_STREAM
from tests.conftest import Stack
from tests.helpers import demo_rules, until
from tests.integration import driver
from tests.integration import test_objection_routes as objection_routes
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.test_objection_routes import published_year
from tests.integration.test_program_year import launch

PROGRAM = "portal-officer"
ZZ = "po-zz-biomed"  # Zhengzhou, 410100
LY = "po-ly-newmat"  # Luoyang, 410300
OBJ_PROGRAM = objection_routes.PROGRAM  # a year in 公示 is built by its tests' helper
PAGES = "portal-officer-pages"  # a program of more plans than a queue page holds
_years = itertools.count(2051)
TARGETS = [
    {"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"},
    {"key": "reports", "name": "导航报告", "target": 4, "unit": "份"},
]

USERS = {
    "admin": Principal(name="po-admin", role="province_admin", program=PROGRAM),
    "zz_city": Principal(name="po-zhengzhou", role="city_officer", region="410100"),
    "ly_city": Principal(name="po-luoyang", role="city_officer", region="410300"),
    "zz_staff": Principal(name="po-zz-staff", role="base_user", program=PROGRAM, base=ZZ),
    "ly_staff": Principal(name="po-ly-staff", role="base_user", program=PROGRAM, base=LY),
    "obj_admin": Principal(name="po-obj-admin", role="province_admin", program=OBJ_PROGRAM),
    "obj_staff": Principal(
        name="po-obj-staff", role="base_user", program=OBJ_PROGRAM, base=objection_routes.BASE
    ),
    "pages_admin": Principal(name="po-pages-admin", role="province_admin", program=PAGES),
}


class Page(HTMLParser):
    """What the tests look at in a page: its forms (with their fields), rows by data-base, the
    text, and elements by id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, Any]] = {}
        self.rows: dict[str, dict[str, str]] = {}
        self.ids: dict[str, dict[str, str]] = {}
        self.text: list[str] = []
        self._form: dict[str, Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids[a["id"]] = {"tag": tag, **a}
        if tag == "form":
            self._form = {**a, "fields": {}}
            self.forms[a.get("id", f"form-{len(self.forms)}")] = self._form
        elif tag in ("input", "select", "textarea") and self._form is not None and a.get("name"):
            self._form["fields"].setdefault(a["name"], []).append(a)
        elif tag == "tr" and "data-base" in a:
            self.rows[a["data-base"]] = a

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    @property
    def words(self) -> str:
        return " ".join(self.text)


class Queries(Interceptor):
    """The workflow ids the gateway's Temporal client queries, in order (a client interceptor:
    the real client asks the real server)."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Counted(next, self.ids)


class _Counted(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, ids: list[str]) -> None:
        super().__init__(next)
        self._ids = ids

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        self._ids.append(input.id)
        return await super().query_workflow(input)


@pytest.fixture
async def dashboard(nats_url: str, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Engine]:
    """A dashboard service of the test's own, projecting the events from here on."""
    engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    last = (await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
    broker = dashboard_broker(
        nats_url, engine, start_after=last, consumer=f"po-dash-{uuid.uuid4().hex[:8]}"
    )
    await broker.start()
    try:
        yield engine
    finally:
        await broker.stop()


@pytest.fixture
def queries() -> Queries:
    return Queries()


@pytest.fixture
async def api(
    stack: Stack, nc: NatsClient, tmp_path: Path, dashboard: Engine, queries: Queries
) -> AsyncIterator[Api]:
    config = stack.client.config()
    config["interceptors"] = [queries]
    counted = Client(**config)
    async with gateway(stack, nc, tmp_path, USERS, temporal=counted) as api:
        api.http.timeout = httpx.Timeout(60)
        yield api


async def projected(nc: NatsClient, program: str, year: int, base: str, stage: str) -> None:
    """Until the dashboard's projection has ``base`` in ``stage`` (it follows the event log)."""
    ask = CyclesQuery(program=program, year=year, stage=stage)
    await until(
        lambda: RpcClient(nc).call("dashboard", "cycles", ask, CycleList),
        lambda listed: base in [c.base for c in listed.cycles],
        f"the projection showing {base} in {stage}",
    )


async def year_with_plan(stack: Stack, api: Api, **rules_changes: Any) -> tuple[ProgramRules, int]:
    """A launched year of the two bases, the Zhengzhou base's plan filed through the API."""
    rules = demo_rules(
        id=PROGRAM,
        **{
            "calendar__reminders": [],
            "calendar__plan_window": "P30D",
            "calendar__plan_review_window": "P10D",
            **rules_changes,
        },
    )
    driver.register(stack, rules, [ZZ], region="410100")
    driver.register(stack, rules, [LY], region="410300")
    year = next(_years)
    await launch(stack, rules, year, expected=2)
    url = f"/v1/programs/{PROGRAM}/years/{year}/bases/{ZZ}"
    filed = await api.http.post(
        f"{url}/plan",
        files={"file": ("实施方案.pdf", b"%PDF-1.4\n% portal officer plan\n", "application/pdf")},
        data={"targets": json.dumps(TARGETS)},
        headers=api.auth("zz_staff"),
    )
    assert filed.status_code in (201, 202), filed.text
    await until(
        lambda: api.http.get(url, headers=api.auth("admin")),
        lambda r: r.status_code == 200 and r.json()["verification_step"] == "city",
        "the plan awaiting the city step",
    )
    await projected(stack.nc, PROGRAM, year, ZZ, "plan_review")
    return rules, year


async def open_page(api: Api, who: str, path: str, status: int = 200) -> Page:
    resp = await api.http.get(path, headers=api.auth(who))
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    return Page(resp.text)


async def send_form(api: Api, who: str, form: dict[str, Any], **values: Any) -> httpx.Response:
    """The request portal.js makes for ``form``: its hidden fields and ``values`` as JSON."""
    body: dict[str, Any] = {}
    for name, elements in form["fields"].items():
        for el in elements:
            if el.get("type") == "hidden" and name != "csrf_token":
                body[name] = el.get("value", "")
    for name, value in values.items():
        assert name in form["fields"], f"the form has no field {name}: {form['fields']}"
        body[name] = value
    headers = {**api.auth(who), "Idempotency-Key": form["data-idempotency"]}
    return await api.http.post(form["action"], json=body, headers=headers)


def queue(program: str, year: int, **more: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in more.items())
    return f"/portal/officer?program={program}&year={year}{extra}"


async def test_the_city_queue_shows_its_regions_plan_and_not_anothers(
    stack: Stack, api: Api
) -> None:
    _, year = await year_with_plan(stack, api)
    zz = await open_page(api, "zz_city", queue(PROGRAM, year))
    row = zz.rows[ZZ]
    assert row["data-step"] == "city" and row["data-overdue"] == "false"
    assert "市级核实" in zz.words and f"基地 {ZZ}" in zz.words
    assert "核实阶段共 1 个方案" in zz.words
    # The step's deadline in words, and what is left of it.
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日24时前", zz.words), zz.words
    assert re.search(r"还剩 \d+ 天", zz.words), zz.words
    assert "410100" in zz.words  # the city filter offers the region's city

    ly = await open_page(api, "ly_city", queue(PROGRAM, year))
    assert ZZ not in ly.rows and "queue-empty" in ly.ids
    # The province sees no province step yet: the city has not decided.
    admin = await open_page(api, "admin", queue(PROGRAM, year))
    assert ZZ not in admin.rows

    en = await open_page(api, "zz_city", queue(PROGRAM, year, lang="en"))
    assert "City verification" in en.words and re.search(r"\d+ days left", en.words)
    # Filtered by another city: the row is not listed.
    other = await open_page(api, "admin", queue(PROGRAM, year, city="410300"))
    assert ZZ not in other.rows


async def test_the_queue_asks_only_the_workflows_of_plans_in_verification(
    stack: Stack, api: Api, queries: Queries
) -> None:
    """The Luoyang base, still filing, is in neither queue: the dashboard's projection says so,
    and its workflow is never asked; the Zhengzhou plan's workflow is asked once a load. The
    province desk asks no workflow while no base is under review."""
    _, year = await year_with_plan(stack, api)
    zz = names.cycle_id(PROGRAM, year, ZZ)
    ask = CyclesQuery(program=PROGRAM, year=year, stage="plan_review")
    listed = await RpcClient(stack.nc).call("dashboard", "cycles", ask, CycleList)
    assert [c.base for c in listed.cycles] == [ZZ]  # the projection's plan_review rows alone
    filed_at = datetime.fromisoformat(str(listed.cycles[0].stage_since))
    now = await stack.env.get_current_time()  # the test server's clock, which skips ahead
    assert abs(filed_at - now) < timedelta(minutes=5)  # as the plan was filed
    for who in ("admin", "zz_city", "ly_city"):
        queries.ids.clear()
        shown = await open_page(api, who, queue(PROGRAM, year))
        asked = [i for i in queries.ids if i.startswith("cycle/")]
        if who == "ly_city":  # the Zhengzhou row is not Luoyang's to see: nothing asked
            assert asked == [] and "queue-empty" in shown.ids
        else:  # the city step is the city's (the province's window to take it over is shut)
            assert asked == [zz], who
            assert (ZZ in shown.rows) == (who == "zz_city") and LY not in shown.rows
    queries.ids.clear()
    desk = await open_page(api, "admin", f"/portal/province?program={PROGRAM}&year={year}")
    assert [i for i in queries.ids if i.startswith("cycle/")] == []
    assert desk.rows[ZZ]["data-stage"] == "plan_review"
    assert "bases-more" not in desk.ids  # two bases: one page


async def test_approving_as_the_form_sends_moves_the_plan_to_the_province(
    stack: Stack, api: Api
) -> None:
    _, year = await year_with_plan(stack, api)
    plan = await open_page(api, "zz_city", f"/portal/officer/{year}/{ZZ}?program={PROGRAM}")
    assert plan.ids["plan-facts-list"]["data-step"] == "city"
    # The document opens from the API's download route; the targets are beside it.
    link = plan.ids["plan-document-link"]["href"]
    assert re.fullmatch(r"/v1/documents/[0-9a-f-]{36}\?disposition=inline", link), link
    # Shown in the page on request only (a PDF viewer takes the keyboard focus once loaded).
    assert plan.ids["plan-document-show"]["data-show-frame"] == link
    assert "plan-document-frame" not in plan.ids
    doc = await api.http.get(link, headers=api.auth("zz_city"))
    assert doc.status_code == 200 and doc.content.startswith(b"%PDF-1.4\n% portal officer plan")
    assert doc.headers["content-disposition"].startswith("inline; filename*=UTF-8''")
    # The route's default is still a download; another region's officer reads nothing.
    plain = await api.http.get(link.split("?")[0], headers=api.auth("zz_city"))
    assert plain.headers["content-disposition"].startswith("attachment;")
    assert (await api.http.get(link, headers=api.auth("ly_city"))).status_code == 404
    assert "新增发明专利" in plan.words and "导航报告" in plan.words
    form = plan.forms["review-form"]
    assert form["action"] == f"/v1/programs/{PROGRAM}/years/{year}/bases/{ZZ}/plan/review"
    assert "data-api" in form and "take_over" not in form["fields"]

    approved = await send_form(api, "zz_city", form, decision="approve", comment="同意")
    assert approved.status_code == 200, approved.text
    assert approved.json()["stage"] == "plan_review"

    province = await open_page(api, "admin", queue(PROGRAM, year))
    assert province.rows[ZZ]["data-step"] == "province"
    assert ZZ not in (await open_page(api, "zz_city", queue(PROGRAM, year))).rows
    # The same request again (the same key) is answered once, not applied twice.
    again = await send_form(api, "zz_city", form, decision="approve", comment="同意")
    assert again.status_code == 200, again.text
    city_again = await open_page(api, "zz_city", f"/portal/officer/{year}/{ZZ}?program={PROGRAM}")
    assert "review-form" not in city_again.forms and "review-not-yours" in city_again.ids


async def test_returning_with_a_comment_sends_the_plan_back_to_the_base(
    stack: Stack, api: Api
) -> None:
    _, year = await year_with_plan(stack, api)
    plan = await open_page(api, "zz_city", f"/portal/officer/{year}/{ZZ}?program={PROGRAM}")
    comment = "目标值偏低，请补充导航报告的具体选题"
    returned = await send_form(
        api, "zz_city", plan.forms["review-form"], decision="return", comment=comment
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["stage"] == "plan_filing"
    state = await api.http.get(
        f"/v1/programs/{PROGRAM}/years/{year}/bases/{ZZ}", headers=api.auth("zz_staff")
    )
    assert state.json()["stage"] == "plan_filing" and state.json()["verification_step"] is None
    after = await open_page(api, "zz_city", f"/portal/officer/{year}/{ZZ}?program={PROGRAM}")
    assert after.ids["plan-facts-list"]["data-stage"] == "plan_filing"
    assert comment in after.words and "退回修改" in after.words
    assert ZZ not in (await open_page(api, "zz_city", queue(PROGRAM, year))).rows


async def test_a_refusal_comes_back_with_its_code_for_the_form(stack: Stack, api: Api) -> None:
    """The province may not take the city step without a reason: the route's 422, which
    portal.js shows beside the reason field."""
    _, year = await year_with_plan(stack, api)
    plan = await open_page(api, "admin", f"/portal/officer/{year}/{ZZ}?program={PROGRAM}")
    form = plan.forms["review-form"]
    assert {"take_over", "reason", "decision", "comment"} <= set(form["fields"])
    refused = await send_form(api, "admin", form, decision="approve", take_over=True, reason="")
    assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
    assert (
        'data-error-for="reason"'
        in (
            await api.http.get(
                f"/portal/officer/{year}/{ZZ}?program={PROGRAM}", headers=api.auth("admin")
            )
        ).text
    )


async def test_the_province_desk_lists_its_forms(stack: Stack, api: Api) -> None:
    _, year = await year_with_plan(stack, api)
    desk = await open_page(api, "admin", f"/portal/province?program={PROGRAM}&year={year}")
    base = f"/v1/programs/{PROGRAM}/years/{year}"
    assert desk.forms["launch-form"]["action"] == f"{base}/launch"
    extend = desk.forms["extend-form"]
    assert extend["data-build"] == "extend" and {"deadline", "until", "reason"} <= set(
        extend["fields"]
    )
    assert extend["action"].startswith(f"{base}/bases/") and extend["action"].endswith("/deadlines")
    assert desk.ids["extend-base"]["data-action-template"] == f"{base}/bases/{{base}}/deadlines"
    reassign = desk.forms["reassign-form"]
    assert reassign["action"].endswith("/review/experts") and "replace" in reassign["fields"]
    assert "objections-section" in desk.ids and "本年度没有异议" in desk.words
    assert desk.ids["dashboard-link"]["href"] == "/dashboard"
    assert desk.ids["year-summary-section"]["data-phase"] != ""
    assert desk.rows[ZZ]["data-stage"] == "plan_review" and desk.rows[LY]["data-stage"] == (
        "plan_filing"
    )
    # The extension as the form sends it (officer.js: Beijing time and the chosen base).
    extended = await api.http.post(
        f"{base}/bases/{LY}/deadlines",
        json={"deadline": "plan", "until": "2099-05-01T18:00:00+08:00", "reason": "系统故障"},
        headers=api.auth("admin"),
    )
    assert extended.status_code == 200, extended.text


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("zz_staff", "/portal/officer?program={p}&year={y}", 403),
        ("zz_staff", "/portal/officer/{y}/" + ZZ + "?program={p}", 403),
        ("zz_staff", "/portal/province?program={p}&year={y}", 403),
        ("zz_city", "/portal/province?program={p}&year={y}", 403),
        ("ly_city", "/portal/officer/{y}/" + ZZ + "?program={p}", 404),
    ],
)
async def test_who_may_not_is_refused(
    stack: Stack, api: Api, who: str, path: str, status: int
) -> None:
    year = 2050  # the refusals come before any cycle is read
    rules = demo_rules(id=PROGRAM, calendar__reminders=[])
    driver.register(stack, rules, [ZZ], region="410100")
    driver.register(stack, rules, [LY], region="410300")
    page = await open_page(api, who, path.format(p=PROGRAM, y=year), status=status)
    assert page.ids["problem"]["data-problem-status"] == str(status)
    if who == "zz_staff":
        assert "此页面供市、省知识产权局使用" in page.words
    assert "review-form" not in page.forms and ZZ not in page.rows


async def test_without_a_session_the_pages_send_to_sign_in(api: Api) -> None:
    for path in ("/portal/officer", f"/portal/officer/2050/{ZZ}", "/portal/province"):
        resp = await api.http.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].startswith(
            "/portal/signin?next="
        ), path


async def test_a_silent_city_step_is_offered_to_the_province_to_take_over(
    stack: Stack, api: Api
) -> None:
    """With plan_review_silence: province, a city step silent past its window is the
    province's: its queue lists it as a take-over, and its form sends take_over and reason."""
    _, year = await year_with_plan(
        stack, api, calendar__plan_review_window="PT1H", outcomes__plan_review_silence="province"
    )
    state_url = f"/v1/programs/{PROGRAM}/years/{year}/bases/{ZZ}"
    before = await open_page(api, "admin", queue(PROGRAM, year))
    assert ZZ not in before.rows  # the city's window is still open
    await stack.env.sleep(timedelta(minutes=61))
    await until(
        lambda: api.http.get(state_url, headers=api.auth("admin")),
        lambda r: r.json()["step_taken_by"] == "province",
        "the silent city step handed to the province",
    )
    province = await open_page(api, "admin", queue(PROGRAM, year))
    assert province.rows[ZZ]["data-step"] == "city"
    assert "可由省局代为核实" in province.words
    plan = await open_page(api, "admin", f"/portal/officer/{year}/{ZZ}?program={PROGRAM}")
    taken = await send_form(
        api,
        "admin",
        plan.forms["review-form"],
        decision="approve",
        comment="方案可行",
        take_over=True,
        reason="市局逾期未核实，由省局代为核实",
    )
    assert taken.status_code == 200, taken.text
    after = await open_page(api, "admin", queue(PROGRAM, year))
    assert after.rows[ZZ]["data-step"] == "province"


async def test_the_province_decides_an_objection_from_its_desk(stack: Stack, api: Api) -> None:
    """A year in 公示 (the objection routes' own program); an objection lodged by a base is
    listed with its form, and the decision the form sends is recorded."""
    _, year, _ = await published_year(stack, [objection_routes.BASE, "ly-agri"])
    program = objection_routes.PROGRAM
    url = f"/v1/programs/{program}/years/{year}/objections"
    lodged = await api.http.post(
        url,
        json={"base": objection_routes.BASE, "grounds": "自评报告中的专利数量与实际不符"},
        headers=api.auth("obj_staff"),
    )
    assert lodged.status_code == 201, lodged.text
    objection_id = lodged.json()["objection_id"]
    desk = await open_page(api, "obj_admin", f"/portal/province?program={program}&year={year}")
    assert "自评报告中的专利数量与实际不符" in desk.words and "待处理" in desk.words
    form = desk.forms[f"objection-{objection_id}-form"]
    assert form["action"] == f"{url}/{objection_id}/decision"
    decided = await send_form(
        api, "obj_admin", form, decision="dismiss", reason="专利数量经核对无误"
    )
    assert decided.status_code == 200 and decided.json()["status"] == "dismissed", decided.text
    again = await open_page(api, "obj_admin", f"/portal/province?program={program}&year={year}")
    assert f"objection-{objection_id}-form" not in again.forms
    assert "异议不成立" in again.words


class Asked:
    """The requests made of dashboard actions, counted on the real NATS (a plain subscription
    hears every request its service's queue group answers)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.subscriptions: list[Any] = []

    async def listen(self, nc: NatsClient, *actions: str) -> None:
        for action in actions:
            self.counts[action] = 0

            async def heard(_: Any, action: str = action) -> None:
                self.counts[action] += 1

            self.subscriptions.append(
                await nc.subscribe(rpc_subject("dashboard", action), cb=heard)
            )


@pytest.fixture
async def asked() -> AsyncIterator[Asked]:
    listening = Asked()
    yield listening
    for subscription in listening.subscriptions:
        await subscription.unsubscribe()


async def test_a_city_officer_reads_its_citys_plans_a_page_at_a_time(
    stack: Stack,
    api: Api,
    nc: NatsClient,
    queries: Queries,
    asked: Asked,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five plans in verification, four of them in Zhengzhou (one in a county of it), two a
    page: the Zhengzhou officer's queue asks the dashboard for one page of its city's plans
    (and their count, and counts by city) and the workflows of that page alone; its "next
    page" link gives the other two, in the order the plans were filed; Luoyang's officer sees
    its one plan only."""
    monkeypatch.setattr(officer_pages, "PAGE_SIZE", 2)
    rules = demo_rules(
        id=PAGES,
        calendar__reminders=[],
        calendar__plan_window="P30D",
        calendar__plan_review_window="P10D",
    )
    zz = ["pp-zz-a", "pp-zz-b", "pp-zz-c"]
    driver.register(stack, rules, zz, region="410100")
    driver.register(stack, rules, ["pp-zz-county"], region="410102")
    driver.register(stack, rules, ["pp-ly"], region="410300")
    year = next(_years)
    await launch(stack, rules, year, expected=5)
    filed = ["pp-zz-c", "pp-ly", "pp-zz-a", "pp-zz-county", "pp-zz-b"]  # not in base order
    for base in filed:
        handle = stack.client.get_workflow_handle(names.cycle_id(PAGES, year, base))
        await driver.file_plan(stack, handle)
        await projected(stack.nc, PAGES, year, base, "plan_review")
        await stack.env.sleep(timedelta(minutes=1))  # each entered verification later
    zz_order = [b for b in filed if b != "pp-ly"]
    await asked.listen(nc, "cycles", "cities")

    queries.ids.clear()
    first = await open_page(api, "zz_city", queue(PAGES, year))
    assert list(first.rows) and set(first.rows) == set(zz_order[:2])
    assert {i.rsplit("/", 1)[-1] for i in queries.ids if i.startswith("cycle/")} == set(
        zz_order[:2]
    )  # the workflows of the page's plans, no other
    assert "核实阶段共 4 个方案" in first.words
    assert "410100 (4)" in first.words and "410300" not in first.words
    assert "queue-first" not in first.ids and first.ids["queue-more"]
    await until(lambda: dict(asked.counts), lambda c: c == {"cycles": 1, "cities": 1})

    second = await open_page(api, "zz_city", first.ids["queue-more"]["href"])
    assert set(second.rows) == set(zz_order[2:])  # the rest, none again
    assert "queue-more" not in second.ids and "queue-first" in second.ids
    assert "核实阶段共 4 个方案" in second.words
    back = await open_page(api, "zz_city", second.ids["queue-first"]["href"])
    assert set(back.rows) == set(zz_order[:2])

    county = await open_page(api, "zz_city", queue(PAGES, year, city="410100"))
    assert set(county.rows) == set(zz_order[:2])  # the city's own and its county's plans

    ly = await open_page(api, "ly_city", queue(PAGES, year))
    assert list(ly.rows) == ["pp-ly"] and "queue-pager" not in ly.ids
    assert "核实阶段共 1 个方案" in ly.words
    outside = await open_page(api, "ly_city", queue(PAGES, year, city="410100"))
    assert not outside.rows and "queue-empty" in outside.ids

    # The province sees every plan counted and every city (none awaits its step yet).
    province = await open_page(api, "pages_admin", queue(PAGES, year))
    assert "核实阶段共 5 个方案" in province.words and not province.rows
    assert "410100 (4)" in province.words and "410300 (1)" in province.words
    assert "queue-more" in province.ids

    en = await open_page(api, "zz_city", queue(PAGES, year, lang="en"))  # kept from here on
    assert "Next page" in en.words and "4 plan(s) in verification" in en.words


def test_overdue_items_come_first() -> None:
    now = datetime.now(UTC)
    officer = USERS["zz_city"]

    def row(base: str, due: datetime) -> BaseCycle:
        state = CycleState(
            program=PROGRAM,
            year=2050,
            base=base,
            rules_version=1,
            stage=Stage.PLAN_REVIEW,
            verification_step="city",
            deadlines={"plan_review": due},
        )
        return BaseCycle(base, base, "410100", "410100", state)

    rows = [
        row("b-later", now + timedelta(days=5)),
        row("b-late", now - timedelta(days=2)),
        row("b-soon", now + timedelta(hours=3)),
        row("b-later-still", now + timedelta(days=9)),
    ]
    items = queue_items(officer, rows, "zh")
    assert [i.base for i in items] == ["b-late", "b-soon", "b-later", "b-later-still"]
    assert items[0].overdue and items[0].left_words == "已逾期 2 天"
    assert items[1].left_words == "还剩 2 小时" and not items[1].overdue
    assert [i.left_words for i in queue_items(officer, rows, "en")][2] == "4 days left"


async def test_the_province_desk_of_a_year_not_launched(stack: Stack, api: Api) -> None:
    rules = demo_rules(id=PROGRAM, calendar__reminders=[])
    driver.register(stack, rules, [ZZ], region="410100")
    desk = await open_page(api, "admin", f"/portal/province?program={PROGRAM}&year=2049")
    assert desk.ids["year-summary-section"]["data-phase"] == ""
    assert "本年度尚未启动" in desk.words and "objections-none" in desk.ids
    assert desk.forms["launch-form"]["action"] == f"/v1/programs/{PROGRAM}/years/2049/launch"
    assert not desk.rows  # no cycle of any base yet
    empty = await open_page(api, "zz_city", queue(PROGRAM, 2049))
    assert "queue-empty" in empty.ids


async def test_without_a_year_the_queue_shows_the_latest_launched_one(
    stack: Stack, api: Api
) -> None:
    rules = demo_rules(id="portal-officer-now", calendar__reminders=[])
    driver.register(stack, rules, ["po-now-base"], region="410100")
    this_year = datetime.now(BEIJING).year
    first = await open_page(api, "zz_city", "/portal/officer?program=portal-officer-now")
    assert first.ids["filter-year"]["value"] == str(this_year)  # none launched: this year
    await launch(stack, rules, this_year + 1, expected=1)
    shown = await open_page(api, "zz_city", "/portal/officer?program=portal-officer-now")
    assert shown.ids["filter-year"]["value"] == str(this_year + 1)
