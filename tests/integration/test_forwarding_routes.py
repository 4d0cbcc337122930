"""A CNIPA-style year's chain over HTTP (issue 16): the province's forwarding (汇总报送) at its
aggregation step, POST .../forwardings, and the national step through the plan review route.
The gateway in process on a dated stack (the clock at 1 November), the program year of the
preset cnipa-pilot-2015 (issued at 000000) launched on its time-skipping server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from services.dashboard.app import build_broker as dashboard_broker
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.gateway.identity.tokens import Principal
from shared.db import make_engine
from shared.domain.stages import Stage
from shared.migrations import upgrade
from shared.stream import EVENTS_STREAM
from tests.conftest import Stack
from tests.integration import driver, presets
from tests.integration.gateway_fixture import Api, gateway, problem
from tests.integration.test_portal_officer import open_page, projected, send_form
from tests.integration.test_program_year import cycles, launch
from workflows.program_year import ProgramYearWorkflow

PROGRAM = "cnipa-routes"
UNITS = {"fz": "experimental_zone", "fe": "operation_enterprise"}
REGIONS = {"fz": "410100", "fe": "410300"}  # Zhengzhou and Luoyang, in Henan

USERS = {
    "admin": Principal(name="cnipa-admin", role="province_admin", program=PROGRAM),
    "henan": Principal(name="henan-officer", role="city_officer", region="410000"),
    "hubei": Principal(name="hubei-officer", role="city_officer", region="420000"),
    "zhengzhou": Principal(name="zz-officer", role="city_officer", region="410100"),
}


@pytest.fixture
async def api(
    dated_stack: Stack, nc: NatsClient, nats_url: str, tmp_path: Path
) -> AsyncIterator[Api]:
    """The gateway, and a dashboard service of the test's own for the officer's queue."""
    engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    last = (await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
    broker = dashboard_broker(
        nats_url, engine, start_after=last, consumer=f"fw-dash-{uuid.uuid4().hex[:8]}"
    )
    await broker.start()
    try:
        async with gateway(dated_stack, nc, tmp_path, USERS) as api:
            api.http.timeout = httpx.Timeout(60)
            yield api
    finally:
        await broker.stop()


async def test_a_province_forwards_over_http_and_the_admin_takes_the_national_step(
    api: Api, dated_stack: Stack
) -> None:
    stack = dated_stack
    rules = presets.preset("cnipa-pilot-2015", PROGRAM)
    await presets.register(stack, rules, [])
    for base, kind in UNITS.items():
        presets.register_units(stack, rules, {base: kind}, region=REGIONS[base], name="试点单位")
    year = await presets.this_year(stack) + 1
    program_year = await launch(stack, rules, year, expected=len(UNITS))
    handles = cycles(stack, rules, year, list(UNITS))
    url = f"/v1/programs/{PROGRAM}/years/{year}/forwardings"

    def post(who: str, region: str, key: str | None = None) -> Any:
        headers = {**api.auth(who), **({"Idempotency-Key": key} if key else {})}
        body = {"region": region, "document_id": "henan-letter-1"}
        return api.http.post(url, json=body, headers=headers)

    problem(await post("henan", "410000"), 409, "nothing_to_forward")
    for handle in handles.values():
        await driver.file_plan(stack, handle)
    assert (await program_year.query(ProgramYearWorkflow.state)).awaiting == {
        "410000": ["fe", "fz"]
    }

    # another province's officer; a city is not the step's level; a malformed region
    problem(await post("hubei", "410000"), 403, "forbidden")
    wrong_level = problem(await post("admin", "410100"), 422, "not_a_forwarding_region")
    assert "410100" in wrong_level["detail"] and "不是本项目汇总报送的层级" in wrong_level["detail"]
    problem(await post("admin", "41000"), 422, "invalid_request")

    # the officer's queue: Henan's plans wait to be forwarded, not to be reviewed one by one
    for base in UNITS:
        await projected(stack.nc, PROGRAM, year, base, "plan_review")
    queue = f"/portal/officer?program={PROGRAM}&year={year}"
    for who in ("henan", "admin"):
        shown = await open_page(api, who, queue)
        assert list(shown.rows) == [], who
        assert [f for f in shown.forms if f.startswith("forward-")] == ["forward-410000"], who
    shown = await open_page(api, "henan", queue)
    form = shown.forms["forward-410000"]
    assert form["action"] == url and form["fields"]["region"][0]["value"] == "410000"
    assert "待汇总报送" in shown.words and "汇总报送" in shown.words
    assert "试点单位 fe (fe)" in shown.words and "试点单位 fz (fz)" in shown.words
    hubei = await open_page(api, "hubei", queue)
    assert [f for f in hubei.forms if f.startswith("forward-")] == []

    first = await send_form(api, "henan", form, document_id="henan-letter-1")
    assert first.status_code == 201, first.text
    record = first.json()
    assert (
        record["region"],
        record["level"],
        record["units"],
        record["by"],
        record["document_id"],
        record["filing"],
        record["late"],
    ) == ("410000", "province", ["fe", "fz"], "henan-officer", "henan-letter-1", 1, False)
    again = await send_form(api, "henan", form, document_id="")  # the same key: the first answer
    assert (again.status_code, again.json()) == (201, record)
    repeated = problem(await post("admin", "410000"), 409, "already_forwarded")
    assert repeated["region"] == "410000"

    for base, handle in handles.items():
        state = await driver.state(handle)
        while state.forwarding_region is not None:  # the signal reaches the cycle
            state = await driver.state(handle)
        assert (state.stage, state.verification_step) == (Stage.PLAN_REVIEW, "national"), base

    admin_queue = await open_page(api, "admin", queue)
    assert {b: r["data-step"] for b, r in admin_queue.rows.items()} == {
        "fe": "national",
        "fz": "national",
    }
    assert "国家级核实" in admin_queue.words
    assert [f for f in admin_queue.forms if f.startswith("forward-")] == []

    review = f"/v1/programs/{PROGRAM}/years/{year}/bases/fz/plan/review"
    approve = {"decision": "approve", "step": "national"}
    problem(
        await api.http.post(review, json=approve, headers=api.auth("zhengzhou")), 403, "forbidden"
    )
    problem(await api.http.post(review, json=approve, headers=api.auth("henan")), 403, "forbidden")
    problem(
        await api.http.post(
            review, json={**approve, "step": "province"}, headers=api.auth("admin")
        ),
        409,
        "wrong_stage",
    )
    taken = await api.http.post(review, json=approve, headers=api.auth("admin"))
    assert taken.status_code == 200, taken.text
    assert taken.json() == {"step": "national", "decision": "approve", "stage": "implementing"}
    assert (await driver.state(handles["fz"])).stage == Stage.IMPLEMENTING
    assert (await driver.state(handles["fe"])).stage == Stage.PLAN_REVIEW
