"""A CNIPA 2015 year (seed 002) under time skipping through its four kinds of pilot unit: each
unit's cycle pins its own kind's rules (the zones' rubric with the micro projects target, the
program's rubric for the others), is scored on that rubric and graded with it.

The cycle still runs the program's ``verification: [province]``: the province aggregation and
national steps of the kinds' chains are not yet run by the workflow."""

from __future__ import annotations

from datetime import timedelta

from services.registry import store
from shared.contracts.registry import BaseRegistration
from shared.db import session_scope
from shared.domain.participants import pinned_rules
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from tests.conftest import Stack
from tests.integration import driver, presets
from tests.integration.test_program_year import cycles, finish, graded_records, launch

UNITS = {
    "cz": "experimental_zone",
    "cc": "collaborative_pilot",
    "ce": "operation_enterprise",
    "ct": "trading_centre",
}
SCORES = {"cz": 90, "cc": 75, "ce": 65, "ct": 80}


def _register_units(stack: Stack, rules: ProgramRules) -> None:
    with session_scope(stack.registry_db) as session:
        for base, kind in UNITS.items():
            if store.get_base(session, program=rules.id, base=base) is not None:
                continue
            reg = BaseRegistration.model_validate(
                {
                    "id": base,
                    "name": f"试点单位 {base}",
                    "region": "410100",
                    "domain": "新材料",
                    "kind": kind,
                    "staff": {"total": 3, "senior_full_time": 1},
                }
            )
            store.add_base(session, program=rules.id, reg=reg)


async def test_a_cnipa_year_runs_each_kind_under_its_own_rules(dated_stack: Stack) -> None:
    stack = dated_stack
    rules = presets.preset("cnipa-pilot-2015", "cnipa-year")
    await presets.register(stack, rules, [])
    _register_units(stack, rules)
    # the clock stands at 1 November: the year whose plans are due on 30 April is the next one
    year = await presets.this_year(stack) + 1
    program_year = await launch(stack, rules, year, expected=len(UNITS))
    handles = cycles(stack, rules, year, list(UNITS))
    for handle in handles.values():
        await driver.to_implementing(stack, handle, rules)
        await driver.file_self_evaluation(stack, handle)
    state = await driver.state(handles["cz"])
    assert state.stage == Stage.IMPLEMENTING
    wait = state.deadlines["self_evaluation"] - await stack.env.get_current_time()
    await stack.env.sleep(wait + timedelta(minutes=1))
    for base, handle in handles.items():
        own = pinned_rules(rules, UNITS[base])
        for expert in (await driver.state(handle)).experts:
            await driver.score(handle, expert, driver.scores(own, SCORES[base]))
    final = await program_year.result()
    assert final.graded == len(UNITS)
    versions = {
        r.base: (r.rubric.version, r.total) for r in await graded_records(stack, rules.id, year)
    }
    assert versions == {
        "cz": ("cnipa-2015-zone.1", 90),
        "cc": ("cnipa-2015.1", 75),
        "ce": ("cnipa-2015.1", 65),
        "ct": ("cnipa-2015.1", 80),
    }
    for handle in handles.values():
        assert (await finish(stack, handle)).stage == Stage.CLOSED
