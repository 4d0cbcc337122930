"""Acting out the people of a cycle against a running workflow (bases, officers, experts)."""

from __future__ import annotations

import re
from typing import Any

from temporalio.client import WorkflowHandle

from services.assessment import store as assessment_store
from services.registry import store
from shared.contracts.cycle import (
    CycleState,
    FilePlan,
    FileRectification,
    FileSelfEvaluation,
    ReviewPlan,
    ScoreReceipt,
    SubmitScore,
    Target,
)
from shared.contracts.registry import BaseRegistration
from shared.db import session_scope
from shared.domain.rules import ProgramRules
from tests.conftest import Stack
from tests.helpers import base_actor, expert_actor, step_actor, upload
from workflows.cycle import AnnualCycleWorkflow

TARGETS = [Target(key="patents", name="新增发明专利", target=30, unit="件")]


def scores(rules: ProgramRules, value: float) -> dict[str, float]:
    return dict.fromkeys(rules.rubric.keys, value)


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


async def file_plan(
    stack: Stack, handle: WorkflowHandle[Any, Any], content: bytes = b"%PDF-1.4 plan"
) -> Any:
    doc = await upload(stack.objects, "plan", content, year=hash(handle.id) % 10_000)
    return await handle.execute_update(
        AnnualCycleWorkflow.file_plan,
        FilePlan(upload=doc, targets=TARGETS, actor=base_actor(base_of(handle))),
    )


async def review(
    handle: WorkflowHandle[Any, Any],
    step: str,
    decision: str = "approve",
    comment: str = "",
    region: str = "410100",
) -> Any:
    return await handle.execute_update(
        AnnualCycleWorkflow.review_plan,
        ReviewPlan(
            step=step,  # type: ignore[arg-type]
            decision=decision,  # type: ignore[arg-type]
            comment=comment,
            actor=step_actor(step, region),
        ),
    )


async def approve_all(
    handle: WorkflowHandle[Any, Any], rules: ProgramRules, region: str = "410100"
) -> None:
    for step in rules.verification:
        await review(handle, step, region=region)


async def file_self_evaluation(
    stack: Stack, handle: WorkflowHandle[Any, Any], actual: float = 33
) -> Any:
    doc = await upload(stack.objects, "self_evaluation", b"%PDF-1.4 report " + handle.id.encode())
    return await handle.execute_update(
        AnnualCycleWorkflow.file_self_evaluation,
        FileSelfEvaluation(
            upload=doc, actuals={"patents": actual}, actor=base_actor(base_of(handle))
        ),
    )


async def score(
    handle: WorkflowHandle[Any, Any],
    expert: str,
    values: dict[str, float],
    vetoes: list[str] | None = None,
) -> ScoreReceipt:
    expert = await assigned(handle, expert)
    return await handle.execute_update(
        AnnualCycleWorkflow.submit_score,
        SubmitScore(expert=expert, scores=values, vetoes=vetoes or [], actor=expert_actor(expert)),
    )


async def assigned(handle: WorkflowHandle[Any, Any], expert: str) -> str:
    """``eN`` in a test means the review's N-th assigned expert (the roster assigns in turn)."""
    experts = (await state(handle)).experts
    match = re.fullmatch(r"e(\d)", expert)
    if expert in experts or match is None or int(match[1]) > len(experts):
        return expert
    return experts[int(match[1]) - 1]


def base_of(handle: WorkflowHandle[Any, Any]) -> str:
    return handle.id.rsplit("/", 1)[-1]


async def file_rectification(stack: Stack, handle: WorkflowHandle[Any, Any], n: int = 1) -> Any:
    doc = await upload(stack.objects, "rectification", f"%PDF-1.4 fix {n} {handle.id}".encode())
    return await handle.execute_update(
        AnnualCycleWorkflow.file_rectification,
        FileRectification(upload=doc, actor=base_actor(base_of(handle))),
    )


async def to_implementing(
    stack: Stack, handle: WorkflowHandle[Any, Any], rules: ProgramRules, region: str = "410100"
) -> None:
    await file_plan(stack, handle, f"%PDF-1.4 plan {handle.id}".encode())
    await approve_all(handle, rules, region)
