"""A CNIPA 2015 year (seed 002) under time skipping through its four kinds of pilot unit: each
unit's cycle pins its own kind's rules (the zones' rubric with the micro projects target, the
program's rubric for the others), is scored on that rubric and graded with it.

The cycle still runs the program's ``verification: [province]``: the province aggregation and
national steps of the kinds' chains are not yet run by the workflow."""

from __future__ import annotations

from services.sim.virtual import run_virtual_year
from shared.domain.rules import load_rules_file
from shared.domain.stages import Stage
from shared.settings import DEPLOY_DIR
from tests.conftest import Stack
from tests.integration import presets
from tests.integration.kinds_year import run_kinds_year
from tests.integration.test_program_year import finish, graded_records

UNITS = {
    "cz": "experimental_zone",
    "cc": "collaborative_pilot",
    "ce": "operation_enterprise",
    "ct": "trading_centre",
}
SCORES = {"cz": 90, "cc": 75, "ce": 65, "ct": 80}


async def test_a_cnipa_year_runs_each_kind_under_its_own_rules(dated_stack: Stack) -> None:
    stack = dated_stack
    rules = presets.preset("cnipa-pilot-2015", "cnipa-year")
    # the clock stands at 1 November: the year whose plans are due on 30 April is the next one
    run = await run_kinds_year(stack, rules, UNITS, SCORES, region="410100", name="试点单位")
    year = run.year
    assert run.result.graded == len(UNITS)
    versions = {
        r.base: (r.rubric.version, r.total) for r in await graded_records(stack, rules.id, year)
    }
    assert versions == {
        "cz": ("cnipa-2015-zone.1", 90),
        "cc": ("cnipa-2015.1", 75),
        "ce": ("cnipa-2015.1", 65),
        "ct": ("cnipa-2015.1", 80),
    }
    for handle in run.handles.values():
        assert (await finish(stack, handle)).stage == Stage.CLOSED


async def test_a_simulated_cnipa_year_scores_its_units_on_their_kinds_rubric() -> None:
    """navcycle demo on the preset: the synthetic units are of the first kind (the zones), whose
    cycles pin the zones' rubric, and the simulated experts score on it."""
    rules = load_rules_file(DEPLOY_DIR / "programs" / "cnipa-pilot-2015.yaml")
    summary = await run_virtual_year(rules, bases=8, year=2031)
    assert summary.outcomes.total() == 8
    assert set(summary.outcomes) <= {"closed", "delisted"}
    assert summary.grades.total() == 8 and summary.recompute_mismatches == []
    assert summary.refused == {}
