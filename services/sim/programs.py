"""Simulations stay out of the record: a simulated year runs only on a program of its own.

``navcycle demo`` plays synthetic bases, officers and experts. Their grades must never appear in a
real program's 公示, so the demo plays only a program marked ``simulation: true``: one it creates
from a preset (``sim-<preset>``, named 【模拟】…), or one named with ``--program`` that already is a
simulation. Any other program is refused before anything is touched.
"""

from __future__ import annotations

from shared.domain.eligibility import Answer, Applicant
from shared.domain.participants import participant_rules
from shared.domain.regions import region_level
from shared.domain.rules import ProgramRules

SIM_PREFIX = "sim-"
SIM_NAME = "【模拟】"
SIM_NAME_EN = "[Simulation] "
SIM_EVIDENCE = "0" * 64  # the sha256 a synthetic base names as its evidence
_PROVINCES = ("11", "12", "31", "32", "33", "37", "42", "44", "50", "51", "61", "65")


class NotASimulation(Exception):
    """A simulated year asked of a program that is part of the record."""

    def __init__(self, program: str) -> None:
        self.program = program
        super().__init__(
            f"项目“{program}”不是模拟项目，演示不会在正式项目上运行；"
            f"不带 --program 运行将创建模拟项目。 / "
            f"{program!r} is not a simulation program: navcycle demo never plays a program of "
            f"the record; run it without --program to create a simulation of its own"
        )


def simulation_of(rules: ProgramRules) -> ProgramRules:
    """The simulation made from a preset: its own id and name, marked simulation; a program
    that is a simulation already is returned as it is."""
    if rules.simulation:
        return rules
    document = rules.model_dump(mode="json", by_alias=True)
    document.update(
        id=f"{SIM_PREFIX}{rules.id}"[:64],
        name=f"{SIM_NAME}{rules.name}",
        name_en=f"{SIM_NAME_EN}{rules.name_en or rules.name}",
        simulation=True,
    )
    return ProgramRules.model_validate(document)


def require_simulation(rules: ProgramRules) -> None:
    if not rules.simulation:
        raise NotASimulation(rules.id)


def sim_cities(rules: ProgramRules, count: int = 8) -> list[str]:
    """Regions within the program's region for synthetic bases, one per city in turn."""
    code = rules.region
    level = region_level(code)
    if level == "national":
        return [f"{p}0000" for p in _PROVINCES[:count]]
    if level == "province":
        return [f"{code[:2]}{n:02d}00" for n in range(1, count + 1)]
    if level == "city":
        return [f"{code[:4]}{n:02d}" for n in range(1, count + 1)]
    return [code]


def synthetic_applicant(rules: ProgramRules, n: int, region: str) -> Applicant:
    """Synthetic base ``n``: it meets every condition of the program's first (or only) kind of
    participant, declarations included, and under one industry, one base (一产业一基地) it takes
    an industry of its own."""
    e = participant_rules(rules).eligibility
    domain = e.domains[0] if e.domains else "新材料"
    if e.one_base_per_domain and n < len(e.domains):
        domain = e.domains[n]
    elif e.one_base_per_domain and (e.domains_open or not e.domains):
        domain = f"模拟产业{n:05d}"
    return Applicant(
        domain=domain,
        host_type=e.host_types[0] if e.host_types else "园区",
        staff_total=max(12, e.min_staff),
        senior_full_time=max(4, e.min_senior_full_time),
        pct_minimum_data=True,
        region=region,
        declarations={d.key: Answer(True, (SIM_EVIDENCE,)) for d in e.declarations},
    )


def sim_experts(rules: ProgramRules) -> list[str]:
    """The simulation's expert roster: as many as a review needs, and two to spare for the
    places of silent ones."""
    return [f"expert-{n + 1}" for n in range(rules.rubric.experts_required + 2)]
