"""The earlier years' final grades as the outcome rules read them: each year's latest published
notice (a 补充公示 after the 公示 stands), only the years asked for, None for a base without a
grade that year, nothing for a year without a notice."""

from __future__ import annotations

from pathlib import Path

from shared.contracts.results import ResultEntry, ResultsNotice, dump_results, results_key
from shared.objectstore import LocalObjectStore
from workflows.outcome_decisions import earlier_grades, latest_notice


async def _store(objects: LocalObjectStore, year: int, number: int, **grades: str | None) -> None:
    notice = ResultsNotice(
        program="p",
        year=year,
        number=number,
        kind="original" if number == 1 else "supplementary",
        entries=[ResultEntry(base=b, grade=g) for b, g in grades.items()],  # type: ignore[arg-type]
    )
    await objects.put(results_key("p", year, number), dump_results(notice), "application/json")


async def test_the_latest_notice_of_each_year_asked_for_gives_the_grades(tmp_path: Path) -> None:
    objects = LocalObjectStore(tmp_path)
    await _store(objects, 2023, 1, a="fail")
    await _store(objects, 2024, 1, a="pass", b="fail")
    await _store(objects, 2025, 1, a="pass", b="fail", c=None)
    await _store(objects, 2025, 2, a="fail", b="fail", c=None)  # a corrected after an objection

    assert await earlier_grades(objects, "p", 2026, 2) == {
        "a": {2024: "pass", 2025: "fail"},
        "b": {2024: "fail", 2025: "fail"},
        "c": {2025: None},
    }
    assert await earlier_grades(objects, "p", 2026, 0) == {}
    assert await earlier_grades(objects, "p", 2023, 2) == {}  # 2021 and 2022 published nothing
    latest = await latest_notice(objects, "p", 2025)
    assert latest is not None and latest.number == 2
    assert await latest_notice(objects, "p", 2026) is None
