"""A simulated year runs only on a simulation program, made from a preset or refused."""

from __future__ import annotations

import pytest

from services.sim.live import synthetic_registration
from services.sim.programs import (
    NotASimulation,
    require_simulation,
    sim_cities,
    simulation_of,
    synthetic_applicant,
)
from shared.domain.eligibility import domain_taken, registration_reasons
from shared.domain.participants import participant_rules
from shared.domain.regions import is_within
from shared.domain.rules import load_rules_file
from shared.settings import DEPLOY_DIR

PRESETS = sorted((DEPLOY_DIR / "programs").glob("*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_a_preset_becomes_a_simulation_of_its_own(path) -> None:  # type: ignore[no-untyped-def]
    real = load_rules_file(path)
    assert not real.simulation
    with pytest.raises(NotASimulation) as info:
        require_simulation(real)
    assert "不是模拟项目" in str(info.value) and "not a simulation" in str(info.value)
    sim = simulation_of(real)
    assert sim.simulation and sim.id == f"sim-{real.id}" and sim.name.startswith("【模拟】")
    assert sim.rubric == real.rubric and sim.calendar == real.calendar
    require_simulation(sim)
    assert simulation_of(sim) is sim


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_synthetic_bases_meet_the_programs_conditions(path) -> None:  # type: ignore[no-untyped-def]
    sim = simulation_of(load_rules_file(path))
    cities = sim_cities(sim)
    assert all(is_within(c, sim.region) for c in cities)
    eligibility = participant_rules(sim).eligibility  # the first (or only) kind's
    taken: set[str] = set()
    for n in range(12):
        applicant = synthetic_applicant(sim, n, cities[n % len(cities)])
        assert registration_reasons(sim, applicant) == []
        assert not domain_taken(eligibility, applicant.domain, taken)
        taken.add(applicant.domain)
        reg = synthetic_registration(sim, n, cities[n % len(cities)])
        assert set(reg.declarations) == {d.key for d in eligibility.declarations}
