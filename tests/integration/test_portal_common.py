"""The portal's pages for everyone on the real test stack: the gateway in process, the registry
(and, for the inbox, the notifier) on a real nats-server. The home page sends each role to its
own pages; the rules page renders the program's pinned rules (its own grade thresholds, not
defaults); the inbox shows a notice the notifier made from an event; the help page reads in
both languages; what a caller may not read is refused as the API refuses it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from services.gateway.portal import common_pages
from services.notifier.app import Notifier, build_notifier
from services.notifier.outbox import Recipients
from services.notifier.sender import OutboxSender, SenderLimits
from services.notifier.tables import MIGRATIONS as NOTIFIER_MIGRATIONS
from shared.db import make_engine
from shared.events.envelope import new_event
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from shared.stream import EVENTS_STREAM
from tests.conftest import Stack
from tests.helpers import demo_rules, until
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.portal_html import Html

PROGRAM = "portal-common"
BASE = "pc-base"

USERS = {
    "admin": Principal(name="pc-admin", role="province_admin", program=PROGRAM),
    "other_admin": Principal(name="pc-other-admin", role="province_admin", program="demo-fast"),
    "staff": Principal(name="pc-staff", role="base_user", program=PROGRAM, base=BASE),
    "city": Principal(name="pc-city", role="city_officer", region="410100", program=PROGRAM),
    "expert": Principal(name="pc-expert", role="expert", program=PROGRAM),
    "viewer": Principal(name="pc-viewer", role="viewer", program=PROGRAM),
    "operator": Principal(name="pc-ops", role="operator", program=PROGRAM),
}


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    # Thresholds of this program's own, so the page cannot pass by showing the defaults.
    rules = demo_rules(id=PROGRAM, rubric__grades={"excellent": 88, "pass": 61.5})
    driver.register(stack, rules, [BASE])
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


@pytest.mark.parametrize(
    ("who", "home"),
    [
        ("staff", "/portal/base"),
        ("city", "/portal/officer"),
        ("admin", "/portal/officer"),
        ("expert", "/portal/expert"),
    ],
)
async def test_the_home_page_sends_each_role_to_its_pages(api: Api, who: str, home: str) -> None:
    sent = await api.http.get("/portal", headers=api.auth(who))
    assert sent.status_code == 303 and sent.headers["location"] == home


@pytest.mark.parametrize("who", ["viewer", "operator"])
async def test_viewers_and_operators_get_a_home_page_linking_the_dashboard(
    api: Api, who: str
) -> None:
    shown = await api.http.get("/portal", headers=api.auth(who))
    assert shown.status_code == 200
    html = Html(shown.text)
    assert html.find("a", id="home-dashboard", href="/dashboard")
    assert len(html.find("h1")) == 1


async def test_without_a_session_every_page_sends_to_sign_in(api: Api) -> None:
    for path in ("/portal", "/portal/inbox", "/portal/rules", "/portal/help"):
        sent = await api.http.get(path)
        assert sent.status_code == 303, path
        assert sent.headers["location"].startswith(f"/portal/signin?next={path}")


async def test_the_rules_page_shows_the_programs_own_thresholds_and_rubric(api: Api) -> None:
    shown = await api.http.get("/portal/rules", headers=api.auth("staff"))
    assert shown.status_code == 200, shown.text
    html = Html(shown.text)
    version = html.find("p", id="rules-version")[0]
    assert version["data-program"] == PROGRAM and int(version["data-rules-version"]) >= 1
    assert "总分不低于 88 分" in html.text("tr", data_grade="excellent")
    assert "总分不低于 61.5 分" in html.text("tr", data_grade="pass")
    assert "61.5" in html.text("tr", data_grade="fail")
    rules = demo_rules(id=PROGRAM)
    rows = html.find("tr", data_indicator=None)
    assert [r["data-indicator"] for r in rows] == rules.rubric.keys
    for indicator in rules.rubric.indicators:
        assert html.text("tr", data_indicator=indicator.key) == (
            f"{indicator.name} {indicator.weight:g} {indicator.maximum(rules.rubric.scale):g}"
        )
    windows = {w["data-window"] for w in html.find("tr", data_window=None)}
    assert {"plan_window", "self_evaluation_due", "review_window", "publication_period"} <= windows
    assert html.text("tr", data_window="plan_window").endswith("20秒")
    assert [d["data-veto"] for d in html.find("dt", data_veto=None)] == rules.rubric.vetoes

    english = Html((await api.http.get("/portal/rules?lang=en", headers=api.auth("staff"))).text)
    assert "total at least 88" in english.text("tr", data_grade="excellent")
    assert english.text("tr", data_window="plan_window").endswith("20 seconds")


async def test_the_rules_of_another_program_are_not_found(api: Api) -> None:
    refused = await api.http.get("/portal/rules", headers=api.auth("other_admin"))
    assert refused.status_code == 200  # its own program's rules (demo-fast)
    other = await api.http.get(f"/portal/rules?program={PROGRAM}", headers=api.auth("other_admin"))
    assert other.status_code == 404
    assert Html(other.text).find(id="problem", data_problem_code="program_not_found")


async def test_the_help_page_reads_in_chinese_and_english(api: Api) -> None:
    zh = Html((await api.http.get("/portal/help", headers=api.auth("expert"))).text)
    assert zh.texts("h1") == ["使用帮助"]
    headings = zh.texts("h2")
    assert headings == [
        "如何登录",
        "各方在周期中做什么",
        "期限从何而来",
        "如何提出异议",
        "遇到问题找谁",
    ]
    assert "一次性登录链接" in zh.text(id="help-signin")
    en = Html((await api.http.get("/portal/help?lang=en", headers=api.auth("expert"))).text)
    assert en.texts("h1") == ["Help"] and "one-time sign-in link" in en.text(id="help-signin")


@pytest.fixture
async def notifier(nats_url: str, nc: NatsClient, tmp_path: Path) -> AsyncIterator[None]:
    """The notifier with no channels, reading the log from now on under a consumer of its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'notifier.db'}")
    upgrade(engine, NOTIFIER_MIGRATIONS)
    last = (await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
    sender = OutboxSender(engine, webhooks=None, email=None, limits=SenderLimits(poll_s=0.05))
    service: Notifier = build_notifier(
        nats_url,
        engine,
        sender,
        Recipients(),
        consumer=f"portal-{uuid.uuid4().hex[:8]}",
        start_after=last,
    )
    await service.start()
    yield
    await service.stop()


async def test_the_inbox_shows_a_notice_addressed_to_the_base(
    api: Api, nc: NatsClient, notifier: None
) -> None:
    empty = await api.http.get("/portal/inbox", headers=api.auth("staff"))
    assert empty.status_code == 200
    year = 2031
    event = new_event(
        event_type=EventType.RECTIFICATION_ORDERED,
        program=PROGRAM,
        year=year,
        base=BASE,
        time=datetime.now(UTC),
        stream_key=f"cycle/{PROGRAM}/{year}/{BASE}/{uuid.uuid4().hex[:6]}",
        sequence=9,
        data={"round": 1, "due": "2031-09-01T00:00:00+08:00", "region": "410100"},
    )
    await EventPublisher(nc.jetstream()).publish(event)

    async def inbox() -> Html:
        return Html((await api.http.get("/portal/inbox", headers=api.auth("staff"))).text)

    html = await until(
        inbox,
        lambda h: h.find("tr", data_notice_kind=None, data_notice_year=str(year)),
        "the rectification notice in the base's inbox",
    )
    row = html.text("tr", data_notice_year=str(year))
    assert "整改通知" in row and "2031年8月31日24时前" in row and f"基地 {BASE}" in row
    assert html.find("a", data_notice_link=None, href=f"/portal/base/{year}")
    english = Html((await api.http.get("/portal/inbox?lang=en", headers=api.auth("staff"))).text)
    assert "Rectification ordered" in english.text("tr", data_notice_year=str(year))
    # Another base's staff in the program does not see it (the inbox route's audiences).
    expert_view = Html((await api.http.get("/portal/inbox", headers=api.auth("expert"))).text)
    assert not expert_view.find("tr", data_notice_year=str(year), data_notice_base=BASE)


async def test_the_inbox_pages_to_older_notices(
    api: Api, nc: NatsClient, notifier: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common_pages, "INBOX_PAGE", 2)
    year = 2032
    for n in range(3):
        await EventPublisher(nc.jetstream()).publish(
            new_event(
                event_type=EventType.RECTIFICATION_ORDERED,
                program=PROGRAM,
                year=year,
                base=BASE,
                time=datetime.now(UTC),
                stream_key=f"cycle/{PROGRAM}/{year}/{BASE}/{uuid.uuid4().hex[:6]}",
                sequence=9,
                data={"round": 1, "due": f"2032-09-0{n + 1}T00:00:00+08:00", "region": "410100"},
            )
        )

    async def page(path: str) -> Html:
        return Html((await api.http.get(path, headers=api.auth("staff"))).text)

    first = await until(
        lambda: page("/portal/inbox"),
        lambda h: h.find("a", id="inbox-older"),
        "a first page of two with a link to older notices",
    )
    newest = [r["data-notice-year"] for r in first.find("tr", data_notice_kind=None)]
    assert newest == [str(year)] * 2
    assert "2032年9月2日24时前" in first.all_text()  # the newest first: 3 September's notice
    older = await page(first.find("a", id="inbox-older")[0]["href"])
    rows = older.find("tr", data_notice_kind=None)
    assert len(rows) == 1 and "2032年8月31日24时前" in older.all_text()
    assert older.find("a", id="inbox-newest", href="/portal/inbox")
    assert not older.find("a", id="inbox-older")
