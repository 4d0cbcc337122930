"""Starting workflows from outside them (gateway, activities, CLI), idempotently, by name:
client code, which needs the contracts and not the workflow classes."""

from __future__ import annotations

from typing import Literal

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from shared.contracts import search_attributes as sa
from shared.contracts import workflow_names as names
from shared.contracts.program_year import ProgramYearInput, ProgramYearState

LaunchStatus = Literal["launched", "already_launched"]


async def start_program_year(
    client: Client, *, program: str, year: int, task_queue: str, search_attributes: bool = True
) -> LaunchStatus:
    """Open a program year once: a second launch, even after the year ended, changes nothing."""
    attrs = None
    if search_attributes:
        attrs = TypedSearchAttributes(
            [SearchAttributePair(sa.PROGRAM, program), SearchAttributePair(sa.YEAR, year)]
        )
    try:
        await client.start_workflow(
            names.PROGRAM_YEAR_WORKFLOW,
            ProgramYearInput(program=program, year=year),
            id=names.program_year_id(program, year),
            result_type=ProgramYearState,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=attrs,
        )
    except WorkflowAlreadyStartedError:
        return "already_launched"
    return "launched"
