"""No orphaned object after a refused filing: the cycle's validator refusing a plan whose bytes
were already stored removes them (the object store lists nothing new), but never the bytes an
accepted filing uses. Against the Temporal dev server, the services on a real nats-server, and
the gateway in process."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from shared.contracts.cycle import CycleState
from shared.contracts.workflow_names import cycle_id
from tests.conftest import DevStack, Stack
from tests.helpers import until
from tests.integration.test_filing_answers import (
    BASE,
    PROGRAM,
    GatedActivities,
    gated,  # noqa: F401 - the fixture
    gateway,
    open_cycle,
    plan_form,
)
from workflows.cycle import AnnualCycleWorkflow


def _objects(stack: Stack) -> set[str]:
    root: Path = stack.objects._root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


async def _until(dev_stack: DevStack, year: int, check: Callable[[CycleState], bool]) -> None:
    handle = dev_stack.client.get_workflow_handle(cycle_id(PROGRAM, year, BASE))
    # A failing query is a cycle not started yet.
    await until(
        lambda: handle.query(AnnualCycleWorkflow.state),
        check,
        "the cycle's state",
        every=0.2,
        ignoring=Exception,
    )


async def test_a_refused_filing_leaves_no_object_and_an_accepted_ones_stays(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task_queue, acts = gated
    year, path = await open_cycle(stack, dev_stack, task_queue)
    settings = {"task_queue": task_queue, "update_answer_wait_s": 0}
    async with gateway(stack, dev_stack, nc, tmp_path, **settings) as (http, who):
        await _until(dev_stack, year, lambda s: s.stage == "plan_filing")
        first_bytes, first = plan_form(f"accepted {year}")
        assert (await http.post(f"{path}/plan", headers=who, **first)).status_code == 202
        acts.gate.set()
        await _until(dev_stack, year, lambda s: s.plan_filed)

        # The workflow's validator is the one judge: it sees the plan is already filed.
        before = _objects(stack)
        second_bytes, second = plan_form(f"refused {year}")
        refused = await http.post(f"{path}/plan", headers=who, **second)
        assert (refused.status_code, refused.json()["code"]) == (409, "duplicate_filing")
        assert _objects(stack) == before
        key = f"documents/{PROGRAM}/{year}/{BASE}/plan/{hashlib.sha256(second_bytes).hexdigest()}"
        assert await stack.objects.stat(f"{key}.pdf") is None

        # The same bytes as the accepted plan, refused: the accepted plan's object stays.
        again = await http.post(f"{path}/plan", headers=who, **first)
        assert again.json()["code"] == "duplicate_filing"
        kept = f"documents/{PROGRAM}/{year}/{BASE}/plan/{hashlib.sha256(first_bytes).hexdigest()}"
        assert await stack.objects.stat(f"{kept}.pdf") is not None
        assert _objects(stack) == before
