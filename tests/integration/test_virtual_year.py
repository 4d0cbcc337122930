"""A whole simulated year through every real component, in virtual time."""

from __future__ import annotations

from services.sim.virtual import run_virtual_year
from tests.helpers import demo_rules


async def test_a_simulated_year_ends_every_cycle_and_every_grade_recomputes() -> None:
    seen: list[tuple[str, int, int]] = []
    summary = await run_virtual_year(
        demo_rules(), bases=60, year=2031, progress=lambda *p: seen.append(p)
    )
    assert summary.outcomes.total() == 60
    assert set(summary.outcomes) <= {"closed", "delisted", "excluded"}
    assert summary.grades["pass"] + summary.grades["excellent"] > 30 and summary.grades["fail"] > 0
    assert summary.recomputed >= 57 and summary.recompute_mismatches == []
    assert summary.refused == {}, "in virtual time nobody should miss a deadline"
    assert sum(summary.overdue_by_city.values()) >= 1
    assert {phase for phase, _, _ in seen} >= {"plans", "reports", "scores"}
