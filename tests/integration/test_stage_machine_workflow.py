"""The cycle workflow moves its stage only along the stage machine's table (issue 13): a move the
table lacks fails the cycle, non-retryably, rather than leave it in a stage nobody else knows."""

from __future__ import annotations

import dataclasses

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from shared.domain import stage_machine
from shared.domain.stage_machine import CYCLE, Transition
from shared.domain.stages import Stage
from shared.events.types import EventType
from tests.conftest import Stack
from tests.helpers import demo_rules, event_types, fresh_year, start_cycle
from tests.integration import driver


async def _excluded_cycle(stack: Stack):  # type: ignore[no-untyped-def]
    """A cycle whose plan is never filed: the rules exclude it once the window has passed."""
    year, rules = fresh_year(), demo_rules(outcomes__plan_overdue="exclude")
    driver.register(stack, rules, ["zz-biomed"])
    now = await stack.env.get_current_time()
    handle = await start_cycle(stack.client, stack.task_queue, rules, year, launched_at=now)
    return year, rules, handle


async def test_the_cycle_follows_the_table_to_its_final_stage(stack: Stack) -> None:
    _, _, handle = await _excluded_cycle(stack)
    assert (await handle.result()).stage == Stage.EXCLUDED


async def test_a_move_the_table_does_not_have_fails_the_cycle_non_retryably(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    exclusion = Transition(Stage.PLAN_FILING, EventType.CYCLE_EXCLUDED, Stage.EXCLUDED)
    without = tuple(t for t in CYCLE.transitions if t != exclusion)
    assert len(without) == len(CYCLE.transitions) - 1
    monkeypatch.setattr(stage_machine, "CYCLE", dataclasses.replace(CYCLE, transitions=without))

    year, rules, handle = await _excluded_cycle(stack)
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == ("stage_move_refused", True)
    assert "plan_filing" in cause.message and "cycle.excluded" in cause.message
    # Refused before the event: nothing says the cycle was excluded.
    types = await event_types(stack.nc.jetstream(), rules.id, year)
    assert types[-1] == "plan.overdue" and "cycle.excluded" not in types
