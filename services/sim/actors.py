"""Synthetic people for simulated years: what each base, officer and expert will do.

Decisions are drawn once per base from a seeded generator, so a simulation is repeatable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class BaseScript:
    base: str
    files_plan: bool
    returned_once: bool
    files_report: bool
    score: float
    veto: bool
    rectifies: bool
    # When the base acts, as a share of the time left before the deadline (live years only).
    plan_delay: float = 0.0
    report_delay: float = 0.0


def scripts(bases: list[str], seed: int = 2026) -> list[BaseScript]:
    """Mostly diligent bases: ~5% miss the plan, ~10% get it returned once, ~5% miss the
    report; scores ~ N(78, 10); ~2% vetoed; half of the failing bases rectify in time. Bases
    file somewhere in the first 40% of the time they have, most of them early."""
    rng = random.Random(seed)
    out = []
    for base in bases:
        out.append(
            BaseScript(
                base=base,
                files_plan=rng.random() >= 0.05,
                returned_once=rng.random() < 0.10,
                files_report=rng.random() >= 0.05,
                score=round(min(100.0, max(0.0, rng.gauss(78, 10))), 1),
                veto=rng.random() < 0.02,
                rectifies=rng.random() < 0.5,
                plan_delay=round(0.4 * rng.random() ** 2, 3),
                report_delay=round(0.4 * rng.random() ** 2, 3),
            )
        )
    return out
