"""The province_admin's routes for bases and reviews, and the launch's roster check, through the
gateway on a real nats-server with the registry and assessment services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user
from shared.contracts.assessment import AddExpert, Assignments, OpenAssignments
from shared.contracts.registry import BaseStatusChange, BaseStatusResult
from shared.db import make_engine
from shared.eventlog import read_events
from shared.events.envelope import CloudEvent
from shared.events.subjects import event_filter
from shared.migrations import upgrade
from shared.rpc import Empty
from shared.settings import Settings
from tests.helpers import demo_rules
from tests.integration.bases_roster import Services, add_base, add_program, running_services

P = "demo-fast"


@dataclass
class Api:
    http: httpx.AsyncClient
    svc: Services
    headers: dict[str, dict[str, str]]


YEAR_SIZE = 3  # max_bases_per_year here


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_services("sqlite", tmp_path) as svc:
        users = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
        upgrade(users, GATEWAY_MIGRATIONS)
        people = {
            "admin": Principal(name="admin-wang", role="province_admin", program=P),
            "other": Principal(name="admin-li", role="province_admin", program="henan-nav-base"),
            "viewer": Principal(name="viewer-zhao", role="viewer"),
            "expert": Principal(name="e1", role="expert", program=P),
        }
        headers = {k: {"Authorization": f"Bearer {add_user(users, p)}"} for k, p in people.items()}
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            state_dir=tmp_path,
            max_bases_per_year=YEAR_SIZE,
        )

        async def build() -> Deps:
            # No Temporal: these routes never reach it (a refused launch stops before).
            return Deps(settings, None, svc.nc, svc.rpc, None, users)  # type: ignore[arg-type]

        async def close(_: Deps) -> None:
            pass

        app = create_app(build, close)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
                yield Api(http, svc, headers)


async def _events(api: Api, base: str, event_type: str) -> list[CloudEvent]:
    found = await read_events(api.svc.nc.jetstream(), event_filter(P, None, base, event_type))
    return [e for _, e in found]


async def _post(api: Api, path: str, who: str, body: dict[str, Any]) -> httpx.Response:
    return await api.http.post(path, json=body, headers=api.headers[who])


async def test_reinstating_a_base_through_the_api(api: Api) -> None:
    add_program(api.svc.registry_db, demo_rules(outcomes__reapplication_ban="P1M"))
    add_base(api.svc.registry_db, P, "b1")
    path = f"/v1/programs/{P}/bases/b1/reinstate"
    body = {"reason": "行政复议撤销了摘牌决定"}

    for who in ("viewer", "other", "expert"):
        refused = await _post(api, path, who, body)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), who
    missing = await _post(api, path, "admin", {})
    assert (missing.status_code, missing.json()["code"]) == (422, "invalid_request")
    blank = await _post(api, path, "admin", {"reason": "  "})
    assert (blank.status_code, blank.json()["code"]) == (422, "reason_required")
    active = await _post(api, path, "admin", body)
    assert (active.status_code, active.json()["code"]) == (409, "not_delisted")
    unknown = await _post(api, f"/v1/programs/{P}/bases/nobody/reinstate", "admin", body)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "base_not_found")

    now = datetime.now(UTC)
    await api.svc.rpc.call(
        "registry",
        "bases.status",
        BaseStatusChange(program=P, base="b1", status="delisted", year=2026, at=now),
        BaseStatusResult,
    )
    banned = await _post(api, path, "admin", body)
    assert (banned.status_code, banned.json()["code"]) == (409, "reapplication_ban_running")
    assert await _events(api, "b1", "base.reinstated") == []
    assert await _events(api, "b1", "operator.action") == []

    await api.svc.rpc.call(  # de-listed again, long enough ago for the ban to have run
        "registry",
        "bases.status",
        BaseStatusChange(program=P, base="b1", status="active", by="fixture"),
        BaseStatusResult,
    )
    with api.svc.registry_db.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE registry_bases SET status='delisted', delisted_at=?, delisted_in_year=2026"
            " WHERE id='b1'",
            ((now - timedelta(days=40)).isoformat(),),
        )
    done = await _post(api, path, "admin", body)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["by"]) == ("active", "admin-wang")

    [event] = await _events(api, "b1", "base.reinstated")
    assert event.data["reason"] == body["reason"] and event.data["by"] == "admin-wang"
    assert event.data["delisted_in_year"] == 2026
    [audit] = await _events(api, "b1", "operator.action")
    assert audit.data["action"] == "base.reinstate" and audit.data["actor"] == "admin-wang"
    assert audit.data["reason"] == body["reason"] and audit.data["via"] == "api"
    assert audit.data["target"] == f"base/{P}/b1"
    again = await _post(api, path, "admin", body)
    assert (again.status_code, again.json()["code"]) == (409, "not_delisted")


async def test_reassigning_experts_and_launching_need_a_long_enough_roster(api: Api) -> None:
    add_program(api.svc.registry_db, demo_rules(rubric__experts_required=2))
    add_base(api.svc.registry_db, P, "b1")
    launch = await _post(api, f"/v1/programs/{P}/years/2026/launch", "admin", {})
    assert (launch.status_code, launch.json()["code"]) == (409, "roster_too_short")
    assert (launch.json()["needed"], launch.json()["size"]) == (2, 0)
    assert "专家库人数不足" in launch.json()["detail"]

    for expert in ("e1", "e2", "e3"):
        await api.svc.rpc.call(
            "assessment", "experts.add", AddExpert(program=P, expert=expert), Empty
        )
    await api.svc.rpc.call(
        "assessment",
        "assignments.open",
        OpenAssignments(program=P, year=2026, base="b1", round=0, needed=2),
        Assignments,
    )
    path = f"/v1/programs/{P}/years/2026/bases/b1/review/experts"
    forbidden = await _post(api, path, "expert", {"replace": ["e2"], "reason": "r"})
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    both = await _post(api, path, "admin", {"replace": ["e2"], "keep": ["e1"], "reason": "r"})
    assert (both.status_code, both.json()["code"]) == (422, "invalid_request")
    no_reason = await _post(api, path, "admin", {"replace": ["e2"]})
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "invalid_request")

    moved = await _post(api, path, "admin", {"replace": ["e2"], "reason": "逾期未评审"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["experts"], moved.json()["replaced"]) == (["e1", "e3"], ["e2"])
    [audit] = await _events(api, "b1", "operator.action")
    assert audit.data["action"] == "review.reassign" and audit.data["reason"] == "逾期未评审"
    assert audit.data["arguments"]["experts"] == ["e1", "e3"]
    [event] = await _events(api, "b1", "expert.reassigned")
    assert (event.data["replaced"], event.data["expert"], event.data["by"]) == (
        "e2",
        "e3",
        "admin-wang",
    )

    short = await _post(api, path, "admin", {"keep": [], "reason": "全部回避"})
    assert (short.status_code, short.json()["code"]) == (409, "roster_too_short")
    gone = await _post(api, path, "admin", {"replace": ["e2"], "reason": "r"})
    assert (gone.status_code, gone.json()["code"]) == (422, "not_assigned")


async def test_a_program_larger_than_one_year_can_carry_is_refused_at_launch(api: Api) -> None:
    add_program(api.svc.registry_db, demo_rules())
    for expert in ("e1", "e2", "e3"):
        await api.svc.rpc.call(
            "assessment", "experts.add", AddExpert(program=P, expert=expert), Empty
        )
    for n in range(YEAR_SIZE + 1):
        add_base(api.svc.registry_db, P, f"b{n}")
    launch = await _post(api, f"/v1/programs/{P}/years/2026/launch", "admin", {})
    # Refused before the engine is reached (this gateway has none: that would be a 500).
    assert (launch.status_code, launch.json()["code"]) == (409, "program_too_large")
    assert (launch.json()["size"], launch.json()["limit"]) == (YEAR_SIZE + 1, YEAR_SIZE)
    assert "请拆分项目" in launch.json()["detail"]
    # A de-listed base does not count: the same program at the limit passes this check, and
    # goes on to the engine, which this gateway lacks.
    await api.svc.rpc.call(
        "registry",
        "bases.status",
        BaseStatusChange(program=P, base="b0", status="delisted", by="fixture"),
        BaseStatusResult,
    )
    with pytest.raises(AttributeError):  # None.start_workflow: the check let it through
        await _post(api, f"/v1/programs/{P}/years/2026/launch", "admin", {})


async def test_the_rubric_states_its_scale_where_scores_are_entered(api: Api) -> None:
    add_program(
        api.svc.registry_db,
        demo_rules(
            rubric__scale="points",
            rubric__indicators=[
                {"key": "report_quality", "name": "导航报告质量", "weight": 30},
                {"key": "database", "name": "数据库建设水平", "weight": 70, "max": 70},
            ],
        ),
    )
    got = await api.http.get(f"/v1/programs/{P}/rubric", headers=api.headers["expert"])
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["scale"] == "points" and "满分" in body["description_zh"]
    maxima = {i["key"]: i["max"] for i in body["indicators"]}
    assert maxima == {"report_quality": 30, "database": 70}
    refused = await api.http.get(f"/v1/programs/{P}/rubric")
    assert refused.status_code == 401
