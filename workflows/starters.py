"""Starting workflows from outside them (gateway, activities, CLI), idempotently."""

from __future__ import annotations

from typing import Literal

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from shared.contracts.program_year import ProgramYearInput
from workflows import search_attributes as sa
from workflows.ids import program_year_id

LaunchStatus = Literal["launched", "already_launched"]


async def start_program_year(
    client: Client, *, program: str, year: int, task_queue: str, search_attributes: bool = True
) -> LaunchStatus:
    """Open a program year once: a second launch, even after the year ended, changes nothing."""
    from workflows.program_year import ProgramYearWorkflow

    attrs = None
    if search_attributes:
        attrs = TypedSearchAttributes(
            [SearchAttributePair(sa.PROGRAM, program), SearchAttributePair(sa.YEAR, year)]
        )
    try:
        await client.start_workflow(
            ProgramYearWorkflow.run,
            ProgramYearInput(program=program, year=year),
            id=program_year_id(program, year),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=attrs,
        )
    except WorkflowAlreadyStartedError:
        return "already_launched"
    return "launched"
