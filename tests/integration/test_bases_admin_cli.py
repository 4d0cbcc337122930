"""``navcycle base reinstate``, ``navcycle experts reassign`` and the expert side of
``navcycle user revoke``, run as the operator runs them, against real services."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.contracts.assessment import (
    AssignmentQuery,
    Assignments,
    OpenAssignments,
    RosterQuery,
    RosterStatus,
)
from shared.contracts.registry import BaseStatusChange, BaseStatusResult
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from tests.helpers import demo_rules
from tests.integration.bases_roster import Services, add_base, add_program, running_services

CLI = [sys.executable, "-m", "services.cli.main"]
P = "demo-fast"


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    async with running_services("sqlite", tmp_path) as services:
        yield services


async def _run(svc: Services, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        NAVCYCLE_STATE_DIR=str(state),
        NAVCYCLE_NATS_URL=svc.nats_url,
        LOGNAME="ops-li",
        USER="ops-li",
    )
    return await asyncio.to_thread(
        subprocess.run, [*CLI, *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_reinstating_and_reassigning_from_the_cli_are_audited(
    svc: Services, tmp_path: Path
) -> None:
    add_program(svc.registry_db, demo_rules())
    add_base(svc.registry_db, P, "b1")
    args = ("base", "reinstate", "--program", P, "--base", "b1", "--reason", "复核恢复")
    refused = await _run(svc, tmp_path, *args)
    assert refused.returncode == 2 and "not_delisted" in refused.stderr
    await svc.rpc.call(
        "registry",
        "bases.status",
        BaseStatusChange(program=P, base="b1", status="delisted", year=2026),
        BaseStatusResult,
    )
    done = await _run(svc, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert "reinstated" in done.stdout
    js = svc.nc.jetstream()
    [(_, event)] = await read_events(js, event_filter(P, None, "b1", "base.reinstated"))
    assert event.data["reason"] == "复核恢复" and event.data["by"].startswith("ops-li@")
    [(_, record)] = await read_events(js, event_filter(P, None, "b1", "operator.action"))
    assert (record.data["action"], record.data["via"]) == ("base.reinstate", "cli")

    for name in ("e1", "e2", "e3"):
        added = await _run(
            svc, tmp_path, "user", "add", "--name", name, "--role", "expert", "--program", P
        )
        assert added.returncode == 0, added.stderr
    await svc.rpc.call(
        "assessment",
        "assignments.open",
        OpenAssignments(program=P, year=2026, base="b1", round=0, needed=2),
        Assignments,
    )
    moved = await _run(
        svc, tmp_path, "experts", "reassign", "--program", P, "--year", "2026",
        "--base", "b1", "--replace", "e2", "--reason", "逾期未评审",
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip().endswith("e1, e3")
    records = await read_events(js, event_filter(P, 2026, "b1", "operator.action"))
    assert [r.data["action"] for _, r in records][-1] == "review.reassign"

    second = await svc.rpc.call(
        "assessment",
        "assignments.open",
        OpenAssignments(program=P, year=2026, base="b2", round=0, needed=2),
        Assignments,
    )
    assert second.experts == ["e1", "e2"]
    revoked = await _run(svc, tmp_path, "user", "revoke", "--name", "e1")
    assert revoked.returncode == 0, revoked.stderr
    assert f"reassigned: {P}/2026/b2 round 0" in revoked.stdout
    roster = await svc.rpc.call(
        "assessment", "roster.check", RosterQuery(program=P, needed=2), RosterStatus
    )
    assert roster.size == 2  # e2 and e3
    now = await svc.rpc.call(
        "assessment",
        "assignments.current",
        AssignmentQuery(program=P, year=2026, base="b1"),
        Assignments,
    )
    # e1 revoked; e2 replaced earlier: the roster has no one left who was not on this review.
    assert now.experts == ["e1", "e3"]
    assert f"{P}/2026/b1 round 0 keeps e1" in revoked.stderr and "专家库人数不足" in revoked.stderr
    b2 = await svc.rpc.call(
        "assessment",
        "assignments.current",
        AssignmentQuery(program=P, year=2026, base="b2"),
        Assignments,
    )
    assert (b2.experts, b2.replaced) == (["e2", "e3"], ["e1"])
