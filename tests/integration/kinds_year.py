"""A preset year run through the program's kinds of participant under time skipping: one unit of
each kind (or several), each to its review and scored on its own kind's rubric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.client import WorkflowHandle

from shared.domain.participants import pinned_rules
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from tests.conftest import Stack
from tests.integration import driver, presets
from tests.integration.test_program_year import cycles, launch


@dataclass(frozen=True)
class KindsYear:
    year: int
    result: Any
    """The program year's result: its workflow ended."""
    handles: dict[str, WorkflowHandle[Any, Any]]


async def run_kinds_year(
    stack: Stack,
    rules: ProgramRules,
    units: dict[str, str],
    scores: Mapping[str, float],
    *,
    region: str,
    name: str,
) -> KindsYear:
    """``units`` (base -> kind) registered in ``region``; the year after the clock's (a dated
    stack stands at 1 November) launched; each unit's plan accepted at every step and its
    account filed; time skipped to the review; every assigned expert gives ``scores[base]`` to
    each indicator of the unit's own kind's rubric; the program year's end awaited."""
    await presets.register(stack, rules, [])
    presets.register_units(stack, rules, units, region=region, name=name)
    year = await presets.this_year(stack) + 1
    program_year = await launch(stack, rules, year, expected=len(units))
    handles = cycles(stack, rules, year, list(units))
    await driver.to_review(stack, list(handles.values()), rules, region)
    for base, handle in handles.items():
        own = pinned_rules(rules, units[base])
        assert (await driver.state(handle)).stage == Stage.UNDER_REVIEW, base
        for expert in (await driver.state(handle)).experts:
            await driver.score(handle, expert, driver.scores(own, scores[base]))
    return KindsYear(year=year, result=await program_year.result(), handles=handles)
