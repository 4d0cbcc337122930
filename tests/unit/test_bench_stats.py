"""The benchmark report's arithmetic: percentiles, goals and the merged results file."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from bench.floor_models import Shape
from bench.history_shapes import CycleShape, update_phase
from bench.report import Goal, Outcome, Row, table, write_results
from bench.stats import percentile, summary_ms
from bench.year import SideResult, keep_side, read_side


def test_percentile_is_a_value_that_was_observed() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(samples, 101)


def test_a_few_samples_give_the_worst_as_p99() -> None:
    assert percentile([0.1, 0.2, 5.0], 99) == 5.0
    summary = summary_ms([0.001, 0.002, 0.010])
    assert summary["p50_ms"] == 2.0 and summary["p99_ms"] == 10.0 and summary["count"] == 3


def test_goals_judge_ratios_and_values() -> None:
    assert Goal("max_ratio", 1.5).met(1.4, None) is True
    assert Goal("max_ratio", 1.5).met(1.6, None) is False
    assert Goal("min_ratio", 0.5).met(0.2, None) is False
    assert Goal("min_ratio", 0.5).met(None, None) is False
    assert Goal("min_value", 10_000).met(None, 12_000.0) is True
    assert Goal("zero").met(None, 0) is True and Goal("zero").met(None, 3) is False
    assert Goal("report").met(2.0, None) is None
    assert Goal("max_ratio", 1.5).text == "≤ 1.5×"


def test_results_merge_by_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    first = Outcome("a", [Row("a", "1 s", "2 s", Goal("max_ratio", 1.5), 0.5)], {"x": 1})
    second = Outcome("b", [Row("b", "3", "-", Goal("zero"), value=3)])
    write_results(out, [first])
    document = write_results(out, [second])
    assert set(document["benchmarks"]) == {"a", "b"}
    assert json.loads(out.read_text())["benchmarks"]["a"]["figures"] == {"x": 1}
    assert [r["met"] for r in document["table"]] == [True, False]
    assert document["cpu_count"] >= 1 and "date" in document
    lines = table(first.rows + second.rows).splitlines()
    assert len(lines) == 4 and "0.50×" in lines[2] and "NO" in lines[3]


def test_play_updates_fall_into_the_years_phases() -> None:
    assert [
        update_phase(f"sim/b1/{k}")
        for k in ("plan-1", "return-1", "approve-city", "report", "score-0-e1", "score-1-e1")
    ] == [1, 1, 1, 2, 3, 4]
    assert update_phase("sim/b1/rectification-1") == 4
    assert Shape().activities == 0


def test_a_kept_navcycle_side_reads_back_for_a_later_floor(tmp_path: Path) -> None:
    side = SideResult(702.3, 226.2, 492.0, {"summary": {"bases": 2}, "queries": 7})
    shapes = {
        "cycle/p/2026/y00000": CycleShape(
            Shape(activities=9, updates=5), [0, 1, 1, 2, 3], 156, 27_900
        ),
        "cycle/p/2026/y00001": CycleShape(Shape(timers_fired=2), [], 39, 6_100),
        "program-year/p/2026": CycleShape(Shape(signals_in=2), [], 84),
    }
    queries = Counter({"state": 40, "deadline": 3})
    path = tmp_path / "year_2_navcycle.partial.json"
    keep_side(path, side, shapes, queries)
    nav, shapes_back, queries_back = read_side(path.read_text())
    assert (nav.wall_s, nav.busy_s, nav.cpu_s) == (702.3, 226.2, 492.0)
    assert nav.detail == {"summary": {"bases": 2}, "queries": 7}
    assert shapes_back == shapes
    assert queries_back == queries
