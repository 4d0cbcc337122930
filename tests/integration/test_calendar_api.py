"""Holiday tables through the HTTP API and the CLI, on the test stack's registry and a real
nats-server: who may apply, the 4xx for every bad table, the merge, the audit record and the
``calendar.applied`` event."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from nats.aio.client import Client as NatsClient

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user
from shared.db import make_engine
from shared.eventlog import read_events
from shared.events.envelope import CloudEvent
from shared.events.subjects import event_filter
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.settings import DEPLOY_DIR, Settings
from tests.conftest import DevStack, Stack

CLI = [sys.executable, "-m", "services.cli.main"]
BUNDLED = DEPLOY_DIR / "calendars" / "cn-statutory.yaml"


def _table(calendar: str, years: dict[str, Any]) -> dict[str, Any]:
    return {"id": calendar, "name": "测试节假日表 / test holidays", "years": years}


YEAR_2027 = {
    "2027": {
        "source": "国务院办公厅关于2027年部分节假日安排的通知（测试数据）",
        "holidays": ["2027-01-01", "2027-04-05"],
        "workdays": [],
    }
}


def _bundled_as(calendar: str) -> dict[str, Any]:
    document = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    return json.loads(json.dumps({**document, "id": calendar}, default=str))  # dates as text


async def _events(nc: NatsClient, event_type: str, calendar: str) -> list[CloudEvent]:
    found = await read_events(nc.jetstream(), event_filter("_", None, "_", event_type))
    return [
        e
        for _, e in found
        if e.data.get("target") == f"calendar/{calendar}" or e.data.get("calendar") == calendar
    ]


@pytest.fixture
async def gateway(
    stack: Stack, dev_stack: DevStack, nc: NatsClient, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    users = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(users, GATEWAY_MIGRATIONS)
    people = {
        "admin": Principal(name="cal-admin", role="province_admin", program="henan-nav-base"),
        "operator": Principal(name="cal-operator", role="operator"),
        "viewer": Principal(name="cal-viewer", role="viewer"),
        "base": Principal(name="cal-base", role="base_user", program="henan-nav-base", base="b1"),
    }
    headers = {k: {"Authorization": f"Bearer {add_user(users, p)}"} for k, p in people.items()}
    settings = Settings(_env_file=None, task_queue=dev_stack.task_queue, state_dir=tmp_path)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(settings, dev_stack.client, nc, RpcClient(nc), stack.objects, users)

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http, headers


async def test_a_province_admin_applies_a_table_then_a_year_alone(
    gateway: tuple[httpx.AsyncClient, dict[str, dict[str, str]]], nc: NatsClient
) -> None:
    http, headers = gateway
    calendar = f"cal-{uuid.uuid4().hex[:8]}"
    first = await http.put(
        f"/v1/calendars/{calendar}", json=_bundled_as(calendar), headers=headers["admin"]
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["version"], body["created"], body["years"]) == (1, True, [2024, 2025, 2026])
    assert body["program_years_told"] >= 0

    added = await http.put(
        f"/v1/calendars/{calendar}",
        json={"name": "测试节假日表 / test holidays", "years": YEAR_2027},  # the id from the path
        headers=headers["operator"],
    )
    assert added.status_code == 200, added.text
    assert (added.json()["version"], added.json()["years"]) == (2, [2027])

    again = await http.put(
        f"/v1/calendars/{calendar}", json=_table(calendar, YEAR_2027), headers=headers["admin"]
    )
    assert (again.json()["version"], again.json()["created"]) == (2, False)

    read = await http.get(f"/v1/calendars/{calendar}", headers=headers["base"])
    assert read.status_code == 200
    assert read.json()["version"] == 2
    assert sorted(read.json()["document"]["years"]) == ["2024", "2025", "2026", "2027"]

    audits = await _events(nc, "operator.action", calendar)
    assert [(e.data["actor"], e.data["arguments"]["version"]) for e in audits] == [
        ("cal-admin", 1),
        ("cal-operator", 2),
        ("cal-admin", 2),  # an unchanged apply is still an action someone took
    ]
    applied = await _events(nc, "calendar.applied", calendar)
    assert [(e.data["version"], e.data["years"]) for e in applied] == [
        (1, [2024, 2025, 2026]),
        (2, [2027]),
    ]


async def test_only_operators_and_province_admins_apply(
    gateway: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
) -> None:
    http, headers = gateway
    calendar = f"cal-{uuid.uuid4().hex[:8]}"
    for who in ("viewer", "base"):
        refused = await http.put(
            f"/v1/calendars/{calendar}", json=_table(calendar, YEAR_2027), headers=headers[who]
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    anonymous = await http.put(f"/v1/calendars/{calendar}", json=_table(calendar, YEAR_2027))
    assert anonymous.status_code == 401
    missing = await http.get(f"/v1/calendars/{calendar}", headers=headers["viewer"])
    assert (missing.status_code, missing.json()["code"]) == (404, "calendar_not_found")


@pytest.mark.parametrize(
    ("document", "code", "fields"),
    [
        (
            {"name": "x", "years": {"2027": {"source": "s", "holidays": ["2026-12-31"]}}},
            "invalid_calendar",
            {"years.2027"},
        ),
        (
            {"name": "", "years": {"2027": {"holidays": ["not a date"], "colour": "red"}}},
            "invalid_calendar",
            {"name", "years.2027.source", "years.2027.holidays.0", "years.2027.colour"},
        ),
        (
            {
                "name": "x",
                "years": {
                    "2027": {"source": "s", "holidays": ["2027-01-02"], "workdays": ["2027-01-02"]}
                },
            },
            "invalid_calendar",
            {"years.2027"},
        ),
        ([1, 2, 3], "invalid_calendar", {"(document)"}),
        ({"id": "someone-else", "name": "x"}, "calendar_id_mismatch", set()),
    ],
)
async def test_a_malformed_table_is_refused_with_each_bad_field_and_nothing_stored(
    gateway: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
    document: Any,
    code: str,
    fields: set[str],
) -> None:
    http, headers = gateway
    calendar = f"cal-{uuid.uuid4().hex[:8]}"
    refused = await http.put(f"/v1/calendars/{calendar}", json=document, headers=headers["admin"])
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == code
    assert fields <= {e["field"] for e in problem.get("errors", [])}
    missing = await http.get(f"/v1/calendars/{calendar}", headers=headers["admin"])
    assert missing.status_code == 404


async def test_a_bad_calendar_id_in_the_path_is_a_422(
    gateway: tuple[httpx.AsyncClient, dict[str, dict[str, str]]],
) -> None:
    http, headers = gateway
    bad = await http.get("/v1/calendars/Not%20An%20Id", headers=headers["admin"])
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")


async def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [*CLI, *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_the_cli_applies_and_shows_a_table(
    stack: Stack, dev_stack: DevStack, nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    calendar = f"cal-{uuid.uuid4().hex[:8]}"
    env = dict(
        os.environ,
        NAVCYCLE_STATE_DIR=str(tmp_path),
        NAVCYCLE_NATS_URL=nats_url,
        NAVCYCLE_TEMPORAL_ADDRESS=dev_stack.address,
    )
    bundled = tmp_path / "bundled.yaml"
    bundled.write_text(yaml.safe_dump(_bundled_as(calendar), allow_unicode=True), "utf-8")
    only_2027 = tmp_path / "2027.yaml"
    only_2027.write_text(yaml.safe_dump(_table(calendar, YEAR_2027), allow_unicode=True), "utf-8")

    first = await _run(env, "calendar", "apply", str(bundled))
    assert first.returncode == 0, first.stderr
    assert f"{calendar}: new version 1; years changed: 2024, 2025, 2026" in first.stdout
    second = await _run(env, "calendar", "apply", str(only_2027))
    assert second.returncode == 0, second.stderr
    assert "new version 2; years changed: 2027" in second.stdout
    same = await _run(env, "calendar", "apply", str(only_2027))
    assert same.returncode == 0 and "unchanged, still version 2" in same.stdout

    shown = await _run(env, "calendar", "show", calendar)
    assert shown.returncode == 0, shown.stderr
    assert "version 2" in shown.stdout and "2027: 2 放假日" in shown.stdout
    as_json = await _run(env, "calendar", "show", calendar, "--json")
    assert json.loads(as_json.stdout)["version"] == 2

    audits = await _events(nc, "operator.action", calendar)
    assert [e.data["via"] for e in audits] == ["cli", "cli", "cli"]
    assert audits[0].data["arguments"]["file"] == str(bundled)

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"id: {calendar}\nname: x\nyears:\n  2027:\n    holidays: [2026-12-31]\n")
    refused = await _run(env, "calendar", "apply", str(bad))
    assert refused.returncode == 2
    assert "invalid_calendar" in refused.stderr and "years.2027.source" in refused.stderr
    unknown = await _run(env, "calendar", "show", "no-such-table")
    assert unknown.returncode == 2 and "calendar_not_found" in unknown.stderr
