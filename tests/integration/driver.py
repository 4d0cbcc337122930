"""Acting out the people of a cycle against a running workflow (bases, officers, experts).

The acts and their order are :mod:`services.sim.people`'s; here they go straight to one
cycle's workflow handle, one try each, with the tests' cast (:data:`tests.helpers` actors).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from services.assessment import store as assessment_store
from services.registry import store
from services.sim.people import TARGETS, Cast, People, TemporalChannel, scores
from shared.contracts.cycle import CycleState, ScoreReceipt
from shared.contracts.registry import BaseRegistration
from shared.db import session_scope
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from tests.conftest import Stack
from workflows.cycle import AnnualCycleWorkflow

__all__ = ["TARGETS", "scores"]


EXPERTS = ["e1", "e2", "e3", "e4", "e5", "e6"]


def register(stack: Stack, rules: ProgramRules, bases: list[str], region: str = "410100") -> None:
    """The program's rules and bases in the registry, and its expert roster (e1..e6)."""
    with session_scope(stack.assessment_db) as session:
        for expert in EXPERTS:
            assessment_store.add_expert(session, program=rules.id, expert=expert)
    with session_scope(stack.registry_db) as session:
        store.apply_rules(session, rules=rules)
        for base in bases:
            row = store.get_base(session, program=rules.id, base=base)
            if row is not None:
                # Tests share the registry: each starts its base afresh (an earlier test's year
                # may have de-listed it, and a de-listed base stays de-listed).
                row.status, row.delisted_at, row.delisted_in_year = "active", None, None
                session.add(row)
                continue
            if row is None:
                store.add_base(
                    session,
                    program=rules.id,
                    reg=BaseRegistration.model_validate(
                        {
                            "id": base,
                            "name": f"基地 {base}",
                            "region": region,
                            "domain": "新材料",
                            "staff": {"total": 10, "senior_full_time": 3},
                        }
                    ),
                )


def base_status(stack: Stack, program: str, base: str) -> str:
    with session_scope(stack.registry_db) as session:
        row = store.get_base(session, program=program, base=base)
        assert row is not None
        return row.status


async def state(handle: WorkflowHandle[Any, Any]) -> CycleState:
    return await handle.query(AnnualCycleWorkflow.state)


def base_of(handle: WorkflowHandle[Any, Any]) -> str:
    return handle.id.rsplit("/", 1)[-1]


def people(
    handle: WorkflowHandle[Any, Any],
    rules: ProgramRules | None = None,
    stack: Stack | None = None,
    region: str = "410100",
) -> People:
    """The people of ``handle``'s cycle (``rules`` for the acts that follow the program's
    verification steps or rubric)."""
    channel = TemporalChannel(lambda _: handle, stack.objects if stack else None)
    return People(channel, rules, Cast(region=region))


async def file_plan(
    stack: Stack, handle: WorkflowHandle[Any, Any], content: bytes = b"%PDF-1.4 plan"
) -> Any:
    return await people(handle, stack=stack).file_plan(base_of(handle), data=content)


async def review(
    handle: WorkflowHandle[Any, Any],
    step: str,
    decision: str = "approve",
    comment: str = "",
    region: str = "410100",
) -> Any:
    return await people(handle, region=region).review(base_of(handle), step, decision, comment)


async def approve_all(
    handle: WorkflowHandle[Any, Any], rules: ProgramRules, region: str = "410100"
) -> None:
    await people(handle, rules, region=region).approve(base_of(handle))


async def file_self_evaluation(
    stack: Stack, handle: WorkflowHandle[Any, Any], actual: float = 33
) -> Any:
    data = b"%PDF-1.4 report " + handle.id.encode()
    return await people(handle, stack=stack).report(base_of(handle), actual, data=data)


async def score(
    handle: WorkflowHandle[Any, Any],
    expert: str,
    values: dict[str, float],
    vetoes: list[str] | None = None,
) -> ScoreReceipt:
    expert = await assigned(handle, expert)
    cycle = people(handle)
    actor = cycle.cast.expert(expert)
    receipt: ScoreReceipt = await cycle.channel.submit_score(
        base_of(handle), actor, values, vetoes or [], key=f"score-{expert}"
    )
    return receipt


async def assigned(handle: WorkflowHandle[Any, Any], expert: str) -> str:
    """``eN`` in a test means the review's N-th assigned expert (the roster assigns in turn)."""
    experts = (await state(handle)).experts
    match = re.fullmatch(r"e(\d)", expert)
    if expert in experts or match is None or int(match[1]) > len(experts):
        return expert
    return experts[int(match[1]) - 1]


async def file_rectification(stack: Stack, handle: WorkflowHandle[Any, Any], n: int = 1) -> Any:
    data = f"%PDF-1.4 fix {n} {handle.id}".encode()
    return await people(handle, stack=stack).file_rectification(base_of(handle), n, data)


async def to_implementing(
    stack: Stack, handle: WorkflowHandle[Any, Any], rules: ProgramRules, region: str = "410100"
) -> None:
    """The plan filed and approved at every step."""
    data = f"%PDF-1.4 plan {handle.id}".encode()
    await people(handle, rules, stack, region).plan(base_of(handle), data=data)


async def to_review(
    stack: Stack,
    handles: list[WorkflowHandle[Any, Any]],
    rules: ProgramRules,
    region: str = "410100",
) -> None:
    """Each cycle's plan accepted at every step and its self-evaluation filed, then time skipped
    a minute past the self-evaluation's due date (the first cycle's), when the review opens."""
    for handle in handles:
        await to_implementing(stack, handle, rules, region)
        await file_self_evaluation(stack, handle)
    first = await state(handles[0])
    assert first.stage == Stage.IMPLEMENTING
    wait = first.deadlines["self_evaluation"] - await stack.env.get_current_time()
    await stack.env.sleep(wait + timedelta(minutes=1))
