"""No reply grows with the program, beyond the bases: each of the other lists — the dashboard's
years, rows (cycles), objections and a base's timeline (events), the inbox, and a base's
documents — holds more than one NATS message here, and is read back whole, page by page, over
NATS (each reply measured) and through the API, every page within the reply budget."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from services.dashboard.app import build_broker as dashboard_broker
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.dashboard.tables import CycleRow, ObjectionRow, TimelineRow
from services.filings.tables import DocumentRow
from services.gateway.identity.tokens import Principal
from services.notifier.app import build_broker as notifier_broker
from services.notifier.tables import MIGRATIONS as NOTIFIER_MIGRATIONS
from services.notifier.tables import NoticeRow
from services.registry import store
from services.registry.tables import BaseRow
from shared.db import make_engine, session_scope
from shared.events.subjects import rpc_subject
from shared.migrations import upgrade
from shared.paging import MAX_PAGE, REPLY_BUDGET_BYTES
from shared.rpc import ERROR_HEADER
from shared.stream import EVENTS_STREAM
from tests.conftest import Stack
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.presets import preset

NATS_DEFAULT_MAX_PAYLOAD = 1024 * 1024
ENVELOPE = 1024  # a page's fields besides its list
YEAR = 2026
BASE = "b00000"  # the base whose timeline and documents are long
CYCLES = 500  # each row with long reasons: ~3 KB
OBJECTIONS = 700  # each with long grounds: ~2 KB
EVENTS = 4_000  # ~330 B each
DOCUMENTS = 2_000  # ~800 B each
NOTICES = 300  # ~5 KB each
YEAR_PROGRAMS, YEARS_EACH = 60, 180  # 10,800 program years of ~105 B
START = datetime(2026, 3, 1, tzinfo=UTC)
LUOYANG = "410300"  # every fifth base's city: its officer sees those only


def years_program(program: str, n: int) -> str:
    return f"{program}-{n:02d}".ljust(64, "y")


@dataclass
class Walked:
    ids: list[str]
    sizes: list[int]


IdOf = str | Callable[[dict[str, Any]], str]


def _id(item: dict[str, Any], id_of: IdOf) -> str:
    return str(item[id_of]) if isinstance(id_of, str) else id_of(item)


async def over_nats(
    nc: NatsClient, service: str, action: str, ask: dict[str, Any], key: str, id_of: IdOf
) -> Walked:
    """Every page of a list, asked for on the service's subject; each reply's bytes kept."""
    walked = Walked([], [])
    cursor: str | None = None
    while True:
        body = json.dumps({**ask, "cursor": cursor}).encode()
        reply = await nc.request(rpc_subject(service, action), body, timeout=30)
        assert ERROR_HEADER not in (reply.headers or {}), reply.data[:300]
        walked.sizes.append(len(reply.data))
        page = json.loads(reply.data)
        walked.ids += [_id(item, id_of) for item in page[key]]
        cursor = page["next_cursor"]
        if cursor is None:
            return walked


async def over_api(
    api: Api, who: str, path: str, key: str, id_of: IdOf, limit: int | None = None
) -> Walked:
    walked = Walked([], [])
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"cursor": cursor} if cursor else {}
        if limit:
            params["limit"] = limit
        answer = await api.http.get(path, params=params, headers=api.auth(who))
        assert answer.status_code == 200, answer.text[:300]
        walked.sizes.append(len(answer.content))
        page = answer.json()
        walked.ids += [_id(item, id_of) for item in page[key]]
        cursor = page["next_cursor"]
        if cursor is None:
            return walked


async def city_pages(
    api: Api, who: str, path: str, limit: int
) -> tuple[list[str], list[int], set[int]]:
    """Every page of the dashboard's rows as ``who`` reads them: the bases, each page's size and
    the totals the pages gave."""
    bases: list[str] = []
    sizes: list[int] = []
    totals: set[int] = set()
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = (await api.http.get(path, params=params, headers=api.auth(who))).json()
        bases += [c["base"] for c in page["cycles"]]
        sizes.append(len(page["cycles"]))
        totals.add(page["total"])
        cursor = page["next_cursor"]
        if cursor is None:
            return bases, sizes, totals


def year_program(item: dict[str, Any]) -> str:
    return f"{item['year']}/{item['program']}"


def assert_paged(walked: Walked, expected: list[str]) -> None:
    # Together more than one NATS message could carry; each page within the budget.
    assert sum(walked.sizes) > NATS_DEFAULT_MAX_PAYLOAD
    assert max(walked.sizes) <= REPLY_BUDGET_BYTES + ENVELOPE
    assert len(walked.sizes) >= 4
    assert walked.ids == expected  # whole, in order, once each


@dataclass
class World:
    program: str
    cycles: list[str]
    objections: list[str]
    events: list[str]
    years: list[str]
    documents: list[str]
    notices: list[str]


def _dashboard_rows(program: str) -> tuple[list[Any], World]:
    long_zh = "因材料不完整，补充公示后维持原等次。" * 30
    long_en = "Kept its grade after the supplementary notice. " * 20
    cycles = [
        CycleRow(program=program, year=YEAR, base=f"b{n:05d}", stage="graded", grade="pass",
                 region=LUOYANG if n % 5 == 2 else "410100", total=80.0, reason_zh=long_zh,
                 reason_en=long_en)
        for n in range(CYCLES)
    ]  # fmt: skip
    objections = [
        ObjectionRow(
            objection_id=f"o{n:05d}",
            program=program,
            year=YEAR,
            base=f"b{n % 50:05d}",
            role="public",
            grounds="对评定结果有异议，请求复核。" * 40,
            # Some with no time: they come first within their base.
            received_at=None if n % 7 == 0 else (START + timedelta(minutes=-n)).isoformat(),
        )
        for n in range(OBJECTIONS)
    ]  # fmt: skip
    events = [
        TimelineRow(event_id=f"e-{program}-{n}", program=program, year=YEAR, base=BASE,
                    sequence=n + 1, type="navcycle.plan.filed", time=START + timedelta(seconds=n),
                    stream_seq=10 * n + 3, document_id=str(uuid.UUID(int=n)), detail="说明" * 60)
        for n in range(EVENTS)
    ]  # fmt: skip
    years = [
        CycleRow(program=years_program(program, p), year=2001 + y, base="b0",
                 stage="held")
        for p in range(YEAR_PROGRAMS)
        for y in range(YEARS_EACH)
    ]  # fmt: skip
    order = sorted(objections, key=lambda o: (o.base, o.received_at or "", o.objection_id))
    every_year = {(r.program, r.year) for r in [*cycles, *years]}
    world = World(
        program=program,
        cycles=[c.base for c in cycles],
        objections=[o.objection_id for o in order],
        events=[str(e.stream_seq) for e in events],
        years=[f"{y}/{p}" for p, y in sorted(every_year, key=lambda py: (-py[1], py[0]))],
        documents=[],
        notices=[],
    )
    return [*cycles, *objections, *events, *years], world


def _documents(program: str) -> list[DocumentRow]:
    return [
        DocumentRow(
            document_id=str(uuid.UUID(int=(7 << 64) + n)),
            program=program,
            year=YEAR,
            base=BASE,
            kind="plan",
            version=n + 1,
            key=f"documents/{program}/{YEAR}/{BASE}/" + "k" * 400 + f"/{n}",
            sha256="ab" * 32,
            size=1000 + n,
            content_type="application/pdf",
            filename="专利导航服务基地年度工作计划（修订稿）.pdf",
            filed_by="staff",
            # Two filed in the same instant: the id orders them.
            filed_at=START + timedelta(seconds=n // 2),
        )
        for n in range(DOCUMENTS)
    ]


def _notices(program: str) -> list[NoticeRow]:
    return [
        NoticeRow(event_id=f"n-{program}-{n}", program=program, year=YEAR, base=BASE,
                  region="410100", audience="province", kind="deadline",
                  title_zh="整改期限临近", title_en=f"Rectification due soon ({n})",
                  body_zh="请于期限前提交整改报告。" * 150, body_en="File the report. " * 100)
        for n in range(NOTICES)
    ]  # fmt: skip


@pytest.fixture
async def world(
    stack: Stack, nc: NatsClient, nats_url: str, tmp_path: Path
) -> AsyncIterator[World]:
    """The lists' rows, written straight into the owning services' tables; a dashboard and a
    notifier of the test's own serve them."""
    program = f"pages-{uuid.uuid4().hex[:8]}"
    dashboard_db = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    upgrade(dashboard_db, DASHBOARD_MIGRATIONS)
    notifier_db = make_engine(f"sqlite:///{tmp_path / 'notifier.db'}")
    upgrade(notifier_db, NOTIFIER_MIGRATIONS)
    rows, found = _dashboard_rows(program)
    with session_scope(dashboard_db) as session:
        session.add_all(rows)
    with session_scope(stack.registry_db) as session:
        store.apply_rules(session, rules=preset("demo-fast", program))
        session.add(BaseRow(program=program, id=BASE, name="长列表基地", region="410100",
                            domain="领域", host_type="高校院所"))  # fmt: skip
    documents = _documents(program)
    with session_scope(stack.filings_db) as session:
        session.add_all(documents)
    found.documents = [d.document_id for d in documents]
    with session_scope(notifier_db) as session:
        session.add_all(_notices(program))
    with session_scope(notifier_db) as session:
        notices = session.exec(select(NoticeRow).where(NoticeRow.program == program)).all()
        newest_first = sorted(notices, key=lambda r: r.id or 0, reverse=True)
        found.notices = [r.title_en for r in newest_first]

    last = (await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
    suffix = uuid.uuid4().hex[:8]
    services = [
        dashboard_broker(nats_url, dashboard_db, start_after=last, consumer=f"dash-{suffix}"),
        notifier_broker(nats_url, notifier_db, consumer=f"note-{suffix}", start_after=last),
    ]
    for service in services:
        await service.start()
    try:
        yield found
    finally:
        for service in services:
            await service.stop()


async def test_every_list_past_one_message_is_read_back_whole_page_by_page(
    stack: Stack, nc: NatsClient, tmp_path: Path, world: World
) -> None:
    program = world.program
    year = {"program": program, "year": YEAR}

    # Over NATS: each service's own subject, each reply measured.
    lists: list[tuple[str, str, dict[str, Any], str, IdOf, list[str]]] = [
        ("dashboard", "cycles", year, "cycles", "base", world.cycles),
        ("dashboard", "objections", year, "objections", "objection_id", world.objections),
        ("dashboard", "timeline", {**year, "base": BASE}, "events", "stream_seq", world.events),
        ("dashboard", "years", {}, "years", year_program, world.years),
        ("filings", "documents.list", {**year, "base": BASE}, "documents", "document_id",
         world.documents),
        ("notifier", "inbox.list", {"audiences": ["province"], "program": program}, "notices",
         "title_en", world.notices),
    ]  # fmt: skip
    for service, action, ask, key, id_of, expected in lists:
        if action == "inbox.list":
            ask = {**ask, "limit": MAX_PAGE}
        walked = await over_nats(nc, service, action, ask, key, id_of)
        if action == "years":
            # The only list not narrowed to this test's programs: the test's dashboard reads
            # the session's shared log from its end, where a year another test left running
            # may still publish (seen: 2065/filing-answers). Only those others are dropped.
            ours = {y.split("/", 1)[1] for y in expected}
            walked.ids = [y for y in walked.ids if y.split("/", 1)[1] in ours]
        assert_paged(walked, expected)

    # Through the API, as the province sees them.
    many_years = years_program(program, 0)
    users = {
        "admin": Principal(name=f"admin-{program}", role="province_admin", program=program),
        "years": Principal(name=f"years-{program}", role="province_admin", program=many_years),
        "luoyang": Principal(
            name=f"luoyang-{program}", role="city_officer", program=program, region=LUOYANG
        ),
        "staff": Principal(
            name=f"staff-{program}", role="base_user", program=program, base=world.cycles[412]
        ),
        "expert": Principal(name=f"expert-{program}", role="expert", program=program),
    }
    base = f"/v1/programs/{program}/years/{YEAR}"
    async with gateway(stack, nc, tmp_path, users) as api:
        for path, key, id_of, expected in [
            (f"{base}/dashboard/cycles", "cycles", "base", world.cycles),
            (f"{base}/dashboard/objections", "objections", "objection_id", world.objections),
            (f"{base}/bases/{BASE}/timeline", "events", "stream_seq", world.events),
            ("/v1/inbox", "notices", "title_en", world.notices),
        ]:
            assert_paged(await over_api(api, "admin", path, key, id_of), expected)
        # A city's officer pages through its city's rows only (the dashboard filters them: a
        # page is not the whole year's page cut down), and is told how many there are. Pages
        # of bases with many objections are cut to the reply budget, so some hold fewer.
        bases, sizes, totals = await city_pages(api, "luoyang", f"{base}/dashboard/cycles", 30)
        assert bases == [world.cycles[n] for n in range(CYCLES) if n % 5 == 2]
        assert totals == {CYCLES // 5}
        assert len(sizes) <= 6 and min(sizes) > 0, sizes  # 17 pages if filtered after
        everyone = await api.http.get(f"{base}/dashboard/cycles", headers=api.auth("admin"))
        assert everyone.json()["total"] == CYCLES
        # A base's staff get their own row on the first page, not after paging the year's; an
        # expert, who sees no base's row, an empty page.
        for who, expected in [("staff", [world.cycles[412]]), ("expert", [])]:
            assert await city_pages(api, who, f"{base}/dashboard/cycles", 30) == (
                expected,
                [len(expected)],
                {len(expected)},
            )
        # A user reads one program's years (at most one per year): in pages too.
        years = await over_api(api, "years", "/v1/dashboard/years", "years", year_program, 50)
        mine = [y for y in world.years if y.endswith(f"/{many_years}")]
        assert (len(mine), len(years.sizes), years.ids) == (YEARS_EACH, 4, mine)
        only = await over_api(api, "admin", "/v1/dashboard/years", "years", year_program)
        assert only.ids == [f"{YEAR}/{program}"]

        # A cursor the list never gave, or one out of shape, is a 422 with a stable code.
        refusals: list[tuple[str, dict[str, str | int], str]] = [
            (f"{base}/dashboard/objections", {"cursor": "o99999"}, "unknown_cursor"),
            (f"{base}/dashboard/objections", {"cursor": "no/such"}, "invalid_request"),
            (f"{base}/bases/{BASE}/timeline", {"cursor": "x1"}, "invalid_request"),
            ("/v1/dashboard/years", {"cursor": "2026"}, "invalid_request"),
            (f"{base}/dashboard/objections", {"limit": MAX_PAGE + 1}, "invalid_request"),
        ]
        for path, params, code in refusals:
            refused = await api.http.get(path, params=params, headers=api.auth("admin"))
            assert (refused.status_code, refused.json()["code"]) == (422, code), path
        # A page size asked for is kept.
        small = await api.http.get(
            f"{base}/dashboard/objections", params={"limit": 3}, headers=api.auth("admin")
        )
        assert [o["objection_id"] for o in small.json()["objections"]] == world.objections[:3]
        assert small.json()["next_cursor"] == world.objections[2]

    # Over NATS an unknown document cursor is refused the same way.
    reply = await nc.request(
        rpc_subject("filings", "documents.list"),
        json.dumps({**year, "base": BASE, "cursor": "nope"}).encode(),
        timeout=10,
    )
    assert (reply.headers or {}).get(ERROR_HEADER) == "unknown_cursor"
