"""A three-year Xing'an run on the time-skipping server (seed 001's targets): the province reports
each year's actuals against the program-level targets, every year is a checkpoint, the middle
year is the mid-term evaluation and the last the final one, which reads all three years.

The rules are the Xing'an preset's targets and span under demo-fast's calendar of seconds (the
preset's own calendar counts months on holiday tables that the years a test runs in do not
have), shortened to three years: the span and the targets start with the first year run, the
2021 baseline of the high-value patents stays two years before it. The years are the test's own
(``fresh_year``): the run's 2023, 2024 and 2025 are ``Y``, ``Y + 1`` and ``Y + 2``, the baseline
``Y - 2``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from shared.contracts import workflow_names as names
from shared.contracts.targets import ReportTargetActuals, TargetProgressView
from shared.domain.rules import ProgramRules, load_rules_file
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.settings import DEPLOY_DIR
from tests.conftest import Stack
from tests.helpers import demo_rules, fresh_year, record_history
from tests.integration import driver
from tests.integration.test_program_year import cycles, launch
from tests.integration.test_results_story import score_open_review

PROGRAM = "xingan-years"
BASE = "xa-centre"

# The actuals of the run's three years, as the league's bureau would report them.
ACTUALS: list[dict[str, Any]] = [
    {
        "high_value_patents": 32,
        "pledge_financing": 6000,
        "navigation_projects": 0,
        "new_invention_patents": 35,
        "mediation_cases": 12,
        "key_enterprises_selected": 10,
        "key_enterprises_total": 10,
        "cultivation_centre": 0,
        "patent_portfolios": 0,
        "standard_adopters": 1,
        "ip_insurance": False,
        "patent_award": False,
        "patent_agency": False,
    },
    {
        "high_value_patents": 41,
        "pledge_financing": 7000,
        "navigation_projects": 1,
        "new_invention_patents": 28,
        "mediation_cases": 10,
        "key_enterprises_selected": 10,
        "key_enterprises_total": 20,
        "cultivation_centre": 1,
        "patent_portfolios": 1,
        "standard_adopters": 1,
        "ip_insurance": True,
        "patent_award": False,
        "patent_agency": False,
    },
    {
        "high_value_patents": 52,
        "pledge_financing": 8000,
        "navigation_projects": 0,
        "new_invention_patents": 25,
        "mediation_cases": 11,
        "key_enterprises_selected": 12,
        "key_enterprises_total": 32,
        "cultivation_centre": 1,
        "patent_portfolios": 2,
        "standard_adopters": 2,
        "ip_insurance": False,
        "patent_award": False,
        "patent_agency": False,
    },
]


def xingan_years(first: int) -> ProgramRules:
    """The Xing'an targets and span on demo-fast's calendar, moved to run from ``first``."""
    shift = first - 2023
    preset = load_rules_file(DEPLOY_DIR / "programs" / "xingan-high-value-patents.yaml")
    targets = []
    for target in preset.model_dump(mode="json")["targets"]:
        target.update(start_year=first, horizon=target["horizon"] + shift)
        if target["baseline_year"] is not None:
            target["baseline_year"] += shift
        targets.append(target)
    return demo_rules(
        id=PROGRAM,
        verification=[],
        calendar__reminders=[],
        targets=targets,
        span={"start_year": first, "end_year": first + 2, "mid_term": first + 1},
    )


async def report(handle: WorkflowHandle[Any, Any], actuals: dict[str, Any]) -> TargetProgressView:
    return await handle.execute_update(
        names.REPORT_TARGET_ACTUALS,
        ReportTargetActuals(actuals=actuals, by="province-admin"),
        result_type=TargetProgressView,
    )


def refusal(error: WorkflowUpdateFailedError) -> tuple[str | None, str, list[str]]:
    """The refusal's code, and the reason and the keys at fault in its details."""
    cause = error.cause
    assert isinstance(cause, ApplicationError)
    details = cause.details[0]
    return cause.type, details["reason"], details["keys"]


async def events(stack: Stack, year: int, event_type: str) -> list[Any]:
    found = await read_events(stack.nc.jetstream(), event_filter(PROGRAM, year, "_", event_type))
    return [e for _, e in found]


async def play_year(stack: Stack, rules: ProgramRules, year: int, actuals: dict[str, Any]) -> Any:
    """One year: the actuals reported, the base's plan and self-evaluation filed and scored, the
    results final; the year's program workflow and its final state."""
    program_year = await launch(stack, rules, year, expected=1)
    reported = await report(program_year, actuals)
    assert reported.revision == 1
    handle = cycles(stack, rules, year, [BASE])[BASE]
    await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
    await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))  # the self-evaluation falls due
    await score_open_review(handle, rules, 80, [])
    return program_year, await program_year.result()


def lines(targets: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """key -> (figure, target, completion, status) of each target's line."""
    return {
        t["key"]: (
            t["progress"]["figure"],
            t["progress"]["target"],
            t["progress"]["completion"],
            t["progress"]["status"],
        )
        for t in targets
    }


async def test_three_xingan_years_end_in_a_final_evaluation_of_all_three(stack: Stack) -> None:
    years = [fresh_year(), fresh_year(), fresh_year()]
    first = years[0]
    assert years == [first, first + 1, first + 2]
    rules = xingan_years(first)
    driver.register(stack, rules, [BASE])

    # First year: a report, the same report again (nothing changes), bad reports refused.
    program_year = await launch(stack, rules, first, expected=1)
    view = await report(program_year, ACTUALS[0])
    again = await report(program_year, ACTUALS[0])
    assert (view.revision, again.revision) == (1, 1)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await report(program_year, {"no_such_target": 1})
    assert refusal(info.value) == ("invalid_input", "unknown_target", ["no_such_target"])
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await report(program_year, {"ip_insurance": 1, "pledge_financing": "6000"})
    assert refusal(info.value) == (
        "invalid_input",
        "invalid_actual",
        ["ip_insurance", "pledge_financing"],
    )
    first_lines = {t.key: t for t in view.targets}
    assert view.years_read == [first]
    assert first_lines["new_invention_patents"].progress.status == "met"
    handle = cycles(stack, rules, first, [BASE])[BASE]
    await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
    await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))
    await score_open_review(handle, rules, 80, [])
    done = await program_year.result()
    assert done.targets is not None and done.targets.evaluation is None
    [reported] = await events(stack, first, "targets.reported")
    assert reported.data["actuals"]["pledge_financing"] == 6000
    assert await events(stack, first, "program.evaluated") == []

    # The mid-term year reads two years.
    _, done = await play_year(stack, rules, first + 1, ACTUALS[1])
    [mid] = await events(stack, first + 1, "program.evaluated")
    assert (mid.data["kind"], mid.data["years_read"]) == ("mid_term", [first, first + 1])
    # On the straight path at the mid-term: the high-value patents from the baseline's 25 to
    # more than 50 (25 + 25 x 3/4 = 43.75 in the run's 2024; 16 of the 18.75 gained), the
    # pledge financing counted from the first year (6000 + 7000 of 20000 x 2/3).
    mid_lines = lines(mid.data["targets"])
    assert mid_lines["high_value_patents"] == (41.0, 43.75, 85.33, "behind")
    assert mid_lines["pledge_financing"] == (13000.0, 13333.33, 97.5, "behind")
    assert mid_lines["navigation_projects"] == (1.0, 0.67, 100.0, "met")
    assert mid_lines["new_invention_patents"] == (28.0, 30.0, 93.33, "missed_soft")
    assert mid_lines["key_enterprises_total"] == (20.0, 40.0, 50.0, "pending")

    # The final year reads all three.
    program_year, done = await play_year(stack, rules, first + 2, ACTUALS[2])
    await record_history(program_year, "program-year-xingan-final-evaluation")
    [final] = await events(stack, first + 2, "program.evaluated")
    assert final.data["kind"] == "final"
    assert final.data["years_read"] == [first, first + 1, first + 2]
    assert final.data["years_reported"] == [first, first + 1, first + 2]
    assert lines(final.data["targets"]) == {
        "cultivation_centre": (1.0, 1.0, 100.0, "met"),
        "patent_portfolios": (2.0, 1.0, 100.0, "met"),
        "high_value_patents": (52.0, 50.0, 100.0, "met"),
        "navigation_projects": (1.0, 1.0, 100.0, "met"),
        "pledge_financing": (21000.0, 20000.0, 100.0, "met"),
        "ip_insurance": (1.0, 1.0, 100.0, "met"),  # reached in the second year, it stays
        "patent_award": (0.0, 1.0, 0.0, "missed"),
        "new_invention_patents": (25.0, 30.0, 83.33, "missed_soft"),
        "mediation_cases": (11.0, 10.0, 100.0, "met"),
        "standard_adopters": (2.0, 2.0, 100.0, "met"),
        "key_enterprises_selected": (12.0, 10.0, 100.0, "met"),
        "key_enterprises_total": (32.0, 40.0, 80.0, "missed"),
        "patent_agency": (0.0, 1.0, 0.0, "missed_soft"),
    }
    assert final.data["counts"] == {"met": 9, "missed": 2, "missed_soft": 2}
    soft = {t["key"]: t for t in final.data["targets"]}["new_invention_patents"]
    assert (soft["status_zh"], soft["target_zh"]) == ("未达预期（力争）", "每年30件以上（力争）")
    assert done.targets is not None and done.targets.evaluation == "final"
    assert lines([t.model_dump(mode="json") for t in done.targets.targets]) == lines(
        final.data["targets"]
    )
