"""A preset year run through the program's kinds of participant under time skipping: one unit of
each kind (or several), each to its review and scored on its own kind's rubric (its experts
score the indicators they score; those scored from a target, ``from_target``, are computed from
the unit's account of the year)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from shared.contracts import workflow_names as names
from shared.contracts.targets import ReportTargetActuals, TargetProgressView
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
    refused: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)
    """base -> the code and problems a sheet scoring every indicator was refused with, for a
    unit whose rubric has indicators scored from targets (tried before the real sheets)."""
    program_year: WorkflowHandle[Any, Any] | None = None
    reported: list[TargetProgressView] = field(default_factory=list)
    """What the program year answered each report of ``program_reports`` with, in order."""


def target_horizon(rules: ProgramRules, year: int, *keys: str) -> ProgramRules:
    """``rules`` with the named targets (the program's or a kind's) running to ``year``: a preset
    written for its own years, measured in the year a dated test runs."""
    document = rules.model_dump(mode="json", by_alias=True)
    lists = [document["targets"]] + [k["targets"] for k in document["participants"].values()]
    for target in (t for targets in lists for t in targets if t["key"] in keys):
        target["horizon"] = year
    return ProgramRules.model_validate(document)


async def file_account(
    stack: Stack, handle: WorkflowHandle[Any, Any], actuals: Mapping[str, float]
) -> Any:
    """The unit's self-evaluation with ``actuals`` (target key -> the year's figure)."""
    cycle = driver.people(handle, stack=stack)
    base = driver.base_of(handle)
    data = b"%PDF-1.4 report " + handle.id.encode()
    staff = cycle.cast.staff(base)
    return await cycle.channel.file_self_evaluation(base, staff, data, dict(actuals), "report")


async def _refusal(handle: WorkflowHandle[Any, Any], expert: str, rules: ProgramRules) -> Any:
    cycle = driver.people(handle)
    every = dict.fromkeys(rules.rubric.keys, 50.0)
    base, actor = driver.base_of(handle), cycle.cast.expert(expert)
    try:
        await cycle.channel.submit_score(base, actor, every, [], key=f"computed-{expert}")
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        assert isinstance(cause, ApplicationError)
        return cause.type, list(cause.details[0]["problems"])
    raise AssertionError("a sheet scoring a computed indicator was accepted")


async def run_kinds_year(
    stack: Stack,
    rules: ProgramRules,
    units: dict[str, str],
    scores: Mapping[str, float],
    *,
    region: str,
    name: str,
    actuals: Mapping[str, Mapping[str, float]] | None = None,
    program_reports: Sequence[Mapping[str, Any]] = (),
) -> KindsYear:
    """``units`` (base -> kind) registered in ``region``; the year after the clock's (a dated
    stack stands at 1 November) launched; each unit's plan accepted at every step and its
    account filed with ``actuals[base]`` (the driver's ``{"patents": 33}`` by default); time
    skipped to the review; every assigned expert gives ``scores[base]`` to each indicator of
    the unit's own kind's rubric that experts score; the program year's end awaited. Once the
    year is launched, each of ``program_reports`` is reported in turn against the program-level
    targets (the program year's ``report_target_actuals``; a report replaces the one before)."""
    await presets.register(stack, rules, [])
    presets.register_units(stack, rules, units, region=region, name=name)
    year = await presets.this_year(stack) + 1
    program_year = await launch(stack, rules, year, expected=len(units))
    reported = [
        await program_year.execute_update(
            names.REPORT_TARGET_ACTUALS,
            ReportTargetActuals(actuals=dict(report), by="district-admin"),
            result_type=TargetProgressView,
        )
        for report in program_reports
    ]
    handles = cycles(stack, rules, year, list(units))
    for base, handle in handles.items():
        await driver.to_implementing(stack, handle, rules, region)
        await file_account(stack, handle, (actuals or {}).get(base, {"patents": 33}))
    first = await driver.state(next(iter(handles.values())))
    assert first.stage == Stage.IMPLEMENTING
    wait = first.deadlines["self_evaluation"] - await stack.env.get_current_time()
    await stack.env.sleep(wait + timedelta(minutes=1))
    refused = {}
    for base, handle in handles.items():
        own = pinned_rules(rules, units[base])
        experts = (await driver.state(handle)).experts
        assert (await driver.state(handle)).stage == Stage.UNDER_REVIEW, base
        if any(i.from_target is not None for i in own.rubric.indicators):
            refused[base] = await _refusal(handle, experts[0], own)
        for expert in experts:
            await driver.score(handle, expert, driver.scores(own, scores[base]))
    result = await program_year.result()
    return KindsYear(
        year=year,
        result=result,
        handles=handles,
        refused=refused,
        program_year=program_year,
        reported=reported,
    )
