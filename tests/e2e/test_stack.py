"""The whole stack through ``navcycle up``: file a plan over HTTP, see the event on NATS; exactly
the processes it should run (the e2e fixture's finalizer stops them with Ctrl-C and checks none
is left)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import nats

from services.cli.stack import SERVICES
from shared.domain.rules import load_rules_file
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.settings import DEPLOY_DIR
from tests.e2e.conftest import Process, RunningStack, bearer, processes_using
from tests.helpers import until

PDF = b"%PDF-1.4\n% plan for e2e\n"
TARGETS = [{"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"}]
PROGRAM = "stack-fast"


def _rules() -> dict[str, Any]:
    """demo-fast's rules as they ship, under this module's program id."""
    doc = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    doc["id"] = PROGRAM
    return doc


def test_healthz_reports_every_component(running_stack: RunningStack) -> None:
    body = httpx.get(f"{running_stack.url}/healthz", timeout=10).json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {
        "temporal",
        "worker",
        "nats",
        "registry",
        "filings",
        "assessment",
        "notifier",
        "dashboard",
        "object_store",
    }


async def test_plan_filed_over_http_lands_on_the_event_stream(running_stack: RunningStack) -> None:
    """On a program of its own (the demo-fast rules under another id): the session's other
    tests, in random order, share neither its bases nor its experts (an expert added to
    demo-fast here could be given another test's review)."""
    url, year, base = running_stack.url, 2031, "e2e-stack"
    admin = bearer(running_stack.token("stack-admin", "province_admin", program=PROGRAM))
    filer = bearer(running_stack.token("stack-base", "base_user", program=PROGRAM, base=base))
    # A launch needs a roster long enough for a review (roster_too_short otherwise).
    running_stack.token("stack-expert", "expert", program=PROGRAM)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        applied = await http.put(f"/v1/programs/{PROGRAM}", json=_rules(), headers=admin)
        assert applied.status_code == 200, applied.text
        registered = await http.post(
            f"/v1/programs/{PROGRAM}/bases",
            headers=admin,
            json={
                "id": base,
                "name": "南阳新能源专利导航服务基地",
                "region": "411300",
                "domain": "新能源",
                "host_type": "园区",
                "staff": {"total": 9, "senior_full_time": 3},
                "pct_minimum_data": True,
            },
        )
        assert registered.status_code == 201, registered.text
        assert (await http.post(f"/v1/programs/{PROGRAM}/years/{year}/launch")).status_code == 401
        launched = await http.post(f"/v1/programs/{PROGRAM}/years/{year}/launch", headers=admin)
        assert launched.status_code == 202, launched.text
        again = await http.post(f"/v1/programs/{PROGRAM}/years/{year}/launch", headers=admin)
        assert again.json()["status"] == "already_launched"

        cycle = f"/v1/programs/{PROGRAM}/years/{year}/bases/{base}"
        await until(
            lambda: http.get(cycle, headers=filer), lambda resp: resp.status_code == 200, every=0.1
        )
        filed = await http.post(
            f"{cycle}/plan",
            files={"file": ("plan.pdf", PDF, "application/pdf")},
            data={"targets": json.dumps(TARGETS)},
            headers=filer,
        )
        assert filed.status_code == 201, filed.text
        receipt = filed.json()
        assert receipt["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert receipt["document_id"]

        refiled = await http.post(
            f"{cycle}/plan",
            files={"file": ("plan.pdf", PDF, "application/pdf")},
            data={"targets": json.dumps(TARGETS)},
            headers=filer,
        )
        assert refiled.status_code == 409
        assert refiled.headers["content-type"] == "application/problem+json"
        assert refiled.json()["code"] == "duplicate_filing"

    nc = await nats.connect(running_stack.nats_url)
    try:
        events = await read_events(nc.jetstream(), event_filter(PROGRAM, year, base, "plan.filed"))
    finally:
        await nc.close()
    assert len(events) == 1
    event = events[0][1].model_dump(mode="json")
    assert event["specversion"] == "1.0" and event["type"] == "navcycle.plan.filed"
    assert event["subject"] == f"{PROGRAM}/{year}/{base}"
    assert event["data"]["document"]["sha256"] == receipt["sha256"]


async def test_each_program_gets_its_yearly_launch_schedule(running_stack: RunningStack) -> None:
    from shared.temporal import connect_temporal

    client = await connect_temporal(running_stack.temporal_address)
    ids = {s.id async for s in await client.list_schedules()}
    assert {"launch/demo-fast", "launch/henan-nav-base", "launch/inner-mongolia-nav-base"} <= ids


def _role(process: Process) -> str:
    argv = process.argv
    return argv[argv.index("serve") + 1] if "serve" in argv else Path(argv[0]).name


def test_up_runs_exactly_its_two_servers_and_seven_services(running_stack: RunningStack) -> None:
    """What Ctrl-C must stop (the session fixture's finalizer checks that it does)."""
    found = processes_using(str(running_stack.state_dir))
    up = running_stack.proc.pid
    children = {pid: p for pid, p in found.items() if p.ppid == up}
    assert Counter(_role(p) for p in children.values()) == Counter(
        ["temporal", "nats-server", *SERVICES]
    ), [p.argv for p in children.values()]
    (gateway,) = (pid for pid, p in children.items() if _role(p) == "gateway")
    # Besides: only the gateway's render process and its resource tracker, once it has rendered.
    others = [p for pid, p in found.items() if pid != up and pid not in children]
    assert all(p.ppid == gateway and "multiprocessing" in " ".join(p.argv) for p in others), [
        p.argv for p in others
    ]
    assert len(others) <= 2, [p.argv for p in others]
