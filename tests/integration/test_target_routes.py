"""Program-level target reports over HTTP (issue 16): the gateway in process on the test stack, a
Xing'an program year (its targets and span) launched on the time-skipping server, the dashboard
service answering the year view's counts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.dashboard.app import build_broker
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.gateway.identity.tokens import Principal
from shared.db import make_engine
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.migrations import upgrade
from tests.conftest import Stack
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway, problem
from tests.integration.test_program_year import launch
from tests.integration.test_xingan_years import ACTUALS, lines, xingan_years

PROGRAM = "xingan-years"  # the rules of test_xingan_years, in years of this test's own
BASE = "xa-centre"
YEAR = 2096  # the gateway takes years to 2100; fresh_year() runs past it

USERS = {
    "admin": Principal(name="targets-admin", role="province_admin", program=PROGRAM),
    "other_admin": Principal(name="targets-other", role="province_admin", program="demo-fast"),
    "staff": Principal(name="targets-staff", role="base_user", program=PROGRAM, base=BASE),
}


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, nats_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    broker = build_broker(nats_url, engine, consumer=f"dashboard-{uuid.uuid4().hex[:8]}")
    await broker.start()
    try:
        async with gateway(stack, nc, tmp_path, USERS) as api:
            yield api
    finally:
        await broker.stop()


async def test_the_province_admin_reports_actuals_and_the_year_view_shows_progress(
    api: Api, stack: Stack
) -> None:
    year = YEAR
    rules = xingan_years(year)
    driver.register(stack, rules, [BASE])
    url = f"/v1/programs/{PROGRAM}/years/{year}/target-actuals"
    problem(
        await api.http.put(url, json={"actuals": ACTUALS[0]}, headers=api.auth("admin")),
        404,
        "program_year_not_found",
    )
    program_year = await launch(stack, rules, year, expected=1)

    keyed = {**api.auth("admin"), "Idempotency-Key": "targets-1"}
    first = await api.http.put(url, json={"actuals": ACTUALS[0]}, headers=keyed)
    assert first.status_code == 200, first.text
    view = first.json()
    assert (view["year"], view["revision"], view["years_read"]) == (year, 1, [year])
    assert view["actuals"]["pledge_financing"] == 6000
    measured = lines(view["targets"])
    assert len(measured) == 13
    assert measured["new_invention_patents"] == (35.0, 30.0, 100.0, "met")
    words = {t["key"]: (t["status_zh"], t["status_en"]) for t in view["targets"]}
    assert words["new_invention_patents"] == ("已完成", "met")
    again = await api.http.put(url, json={"actuals": ACTUALS[0]}, headers=api.auth("admin"))
    assert again.status_code == 200 and again.json() == view

    for who in ("staff", "other_admin"):
        sent = await api.http.put(url, json={"actuals": ACTUALS[0]}, headers=api.auth(who))
        problem(sent, 403, "forbidden")
    unknown = await api.http.put(
        url, json={"actuals": {"no_such_target": 1}}, headers=api.auth("admin")
    )
    assert problem(unknown, 422, "unknown_target")["keys"] == ["no_such_target"]
    wrong = await api.http.put(
        url,
        json={"actuals": {"ip_insurance": 1, "pledge_financing": "6000"}},
        headers=api.auth("admin"),
    )
    assert problem(wrong, 422, "invalid_actual")["keys"] == ["ip_insurance", "pledge_financing"]
    problem(
        await api.http.put(url, json={"actual": {}}, headers=api.auth("admin")),
        422,
        "invalid_request",
    )

    audited = await read_events(
        stack.nc.jetstream(), event_filter(PROGRAM, year, "_", "operator.action")
    )
    reports = [e.data for _, e in audited if e.data["action"] == "targets.report"]
    assert [(r["actor"], r["arguments"]["revision"]) for r in reports] == [
        ("targets-admin", 1),
        ("targets-admin", 1),
    ]

    shown = await api.http.get(f"/v1/programs/{PROGRAM}/years/{year}", headers=api.auth("staff"))
    assert shown.status_code == 200, shown.text
    assert shown.json()["targets"] == view

    await program_year.terminate("the test ends the year")
    closed = await api.http.put(url, json={"actuals": ACTUALS[1]}, headers=api.auth("admin"))
    problem(closed, 409, "year_closed")
