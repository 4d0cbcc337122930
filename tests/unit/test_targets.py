"""Targets as rules: each kind measured in a year, soft and hard, and the edge cases."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.domain.targets import (
    Ratio,
    TargetError,
    TargetRule,
    TargetScore,
    evaluate,
    path_target,
    score_from_completion,
)


def rule(**fields: Any) -> TargetRule:
    base: dict[str, Any] = {
        "key": "t",
        "name_zh": "目标",
        "name_en": "Target",
        "start_year": 2022,
        "horizon": 2025,
    }
    return TargetRule.model_validate({**base, **fields})


YEARLY = rule(kind="yearly", value=30, unit="件", soft=True)
HARD_YEARLY = rule(kind="yearly", value=30, unit="件")
# 高价值专利数量突破 50 件, from 25 at the end of 2021
STOCK = rule(kind="stock", comparison="more_than", value=50, baseline_year=2021, baseline_value=25)
# 质押融资额度累计 2 亿元以上 (万元), from 0 in 2021
CUMULATIVE = rule(kind="cumulative", value=20000, unit="万元", baseline_year=2021, baseline_value=0)


def test_a_yearly_target_judges_each_year_alone_and_a_soft_miss_is_not_a_failure() -> None:
    actuals = {2022: 31, 2023: 12}
    first = evaluate(YEARLY, actuals, 2022)
    assert (first.figure, first.target, first.completion, first.status) == (
        31.0,
        30.0,
        100.0,
        "met",
    )
    assert first.progress == 25.0  # one of four years met
    second = evaluate(YEARLY, actuals, 2023)
    assert (second.completion, second.status, second.progress) == (40.0, "missed_soft", 25.0)
    assert evaluate(HARD_YEARLY, actuals, 2023).status == "missed"


def test_every_year_met_is_full_progress() -> None:
    actuals = {2022: 30, 2023: 30, 2024: 45, 2025: 30}
    final = evaluate(HARD_YEARLY, actuals, 2025)
    assert (final.status, final.progress, final.completion) == ("met", 100.0, 100.0)


def test_no_actual_yet_is_no_data_and_keeps_the_years_met_so_far() -> None:
    got = evaluate(HARD_YEARLY, {2022: 30}, 2023)
    assert (got.status, got.figure, got.completion, got.progress) == ("no_data", None, None, 25.0)


def test_a_year_before_the_start_has_not_started() -> None:
    got = evaluate(HARD_YEARLY, {2021: 40}, 2021)
    assert (got.status, got.figure, got.progress) == ("not_started", None, None)


def test_a_stock_is_on_a_straight_path_from_its_baseline() -> None:
    assert [path_target(STOCK, y) for y in (2022, 2023, 2024, 2025)] == [31.25, 37.5, 43.75, 50]
    on = evaluate(STOCK, {2022: 32}, 2022)
    assert (on.figure, on.target, on.status, on.completion) == (32.0, 31.25, "on_track", 100.0)
    assert on.progress == 28.0  # (32 - 25) / (50 - 25)
    behind = evaluate(STOCK, {2022: 32, 2023: 35}, 2023)
    assert (behind.status, behind.completion, behind.progress) == ("behind", 80.0, 40.0)


def test_more_than_fifty_is_not_met_at_fifty() -> None:
    at = evaluate(STOCK, {2025: 50}, 2025)
    assert (at.status, at.completion, at.progress) == ("missed", 99.99, 99.99)
    past = evaluate(STOCK, {2024: 51}, 2024)
    assert (past.status, past.progress) == ("met", 100.0)


def test_a_stock_that_falls_below_its_baseline_has_no_progress() -> None:
    got = evaluate(STOCK, {2023: 20}, 2023)
    assert (got.status, got.completion, got.progress) == ("behind", 0.0, 0.0)


def test_a_stock_without_baseline_has_no_path_and_is_pending() -> None:
    centre = rule(kind="stock", value=1, unit="家")
    assert path_target(centre, 2023) is None
    got = evaluate(centre, {2023: 0}, 2023)
    assert (got.status, got.target, got.completion) == ("pending", 1.0, 0.0)
    assert evaluate(centre, {2025: 0}, 2025).status == "missed"
    assert evaluate(centre, {2024: 1}, 2024).status == "met"


def test_a_cumulative_sums_from_its_baseline_and_counts_unreported_years_as_zero() -> None:
    actuals = {2022: 4000, 2024: 9000}
    got = evaluate(CUMULATIVE, actuals, 2024)
    assert (got.figure, got.target, got.status, got.missing_years) == (
        13000.0,
        15000.0,
        "behind",
        [2023],
    )
    assert (got.completion, got.progress) == (86.67, 65.0)
    done = evaluate(CUMULATIVE, {**actuals, 2025: 7000}, 2025)
    assert (done.figure, done.status, done.progress) == (20000.0, "met", 100.0)


def test_a_cumulative_baseline_value_counts_towards_the_figure_not_the_gain() -> None:
    from_ten = rule(kind="cumulative", value=100, baseline_year=2021, baseline_value=10)
    got = evaluate(from_ten, {2022: 20, 2023: 25}, 2023)
    assert (got.figure, got.target, got.progress) == (55.0, 55.0, 50.0)
    assert got.status == "on_track"


def test_a_cumulative_missed_at_the_horizon() -> None:
    soft = CUMULATIVE.model_copy(update={"soft": True})
    assert evaluate(CUMULATIVE, {2025: 100}, 2025).status == "missed"
    assert evaluate(soft, {2025: 100}, 2025).status == "missed_soft"


def test_after_the_horizon_the_horizon_year_is_measured() -> None:
    got = evaluate(CUMULATIVE, {2022: 5000, 2025: 16000, 2026: 99999}, 2027)
    assert (got.counted_year, got.horizon_passed, got.figure, got.status) == (
        2025,
        True,
        21000.0,
        "met",
    )
    assert evaluate(CUMULATIVE, {2022: 5000}, 2026).status == "no_data"


def test_a_ratio_is_a_percent_of_the_year_and_a_zero_denominator_has_no_figure() -> None:
    share = rule(kind="ratio", value=30, unit="%")
    got = evaluate(share, {2022: Ratio(numerator=45, denominator=120)}, 2022)
    assert (got.figure, got.status, got.completion) == (37.5, "met", 100.0)
    low = evaluate(share, {2023: Ratio(numerator=24, denominator=100)}, 2023)
    assert (low.figure, low.status, low.completion) == (24.0, "missed", 80.0)
    empty = evaluate(share, {2023: Ratio(numerator=0, denominator=0)}, 2023)
    assert (empty.status, empty.figure, empty.note) == ("no_data", None, "zero_denominator")


def test_a_range_is_met_inside_its_bounds_only() -> None:
    band = rule(kind="range", value=15, upper=30, unit="家")
    assert [evaluate(band, {2022: n}, 2022).status for n in (14, 15, 30, 31)] == [
        "missed",
        "met",
        "met",
        "missed",
    ]
    assert evaluate(band, {2022: 12}, 2022).completion == 80.0
    assert evaluate(band, {2022: 40}, 2022).completion == 75.0


def test_a_yearly_average_is_judged_at_the_horizon() -> None:
    average = rule(kind="yearly_average", value=10)
    early = evaluate(average, {2022: 14, 2023: 4}, 2023)
    assert (early.figure, early.status, early.completion) == (9.0, "behind", 90.0)
    late = evaluate(average, {2022: 14, 2023: 4, 2025: 13}, 2025)
    assert (late.figure, late.status, late.missing_years) == (10.33, "met", [2024])
    assert evaluate(average, {2022: 12}, 2022).status == "on_track"


def test_a_milestone_stays_reached_and_is_pending_before_its_horizon() -> None:
    first = rule(kind="milestone", soft=True)
    assert evaluate(first, {2022: False}, 2022).status == "pending"
    reached = evaluate(first, {2022: False, 2023: True}, 2024)
    assert (reached.status, reached.progress) == ("met", 100.0)
    assert evaluate(first, {2025: False}, 2025).status == "missed_soft"
    assert evaluate(first, {}, 2023).status == "no_data"


def test_at_most_is_met_at_or_below_the_value() -> None:
    ceiling = rule(kind="yearly", comparison="at_most", value=5)
    assert evaluate(ceiling, {2022: 5}, 2022).status == "met"
    over = evaluate(ceiling, {2022: 8}, 2022)
    assert (over.status, over.completion) == ("missed", 62.5)
    assert evaluate(ceiling, {2022: 0}, 2022).completion == 100.0


def test_actuals_of_the_wrong_kind_are_refused() -> None:
    with pytest.raises(TargetError) as info:
        evaluate(rule(kind="ratio", value=30), {2022: 30}, 2022)
    assert info.value.code == "invalid_actual" and "分子与分母" in str(info.value)
    with pytest.raises(TargetError):
        evaluate(rule(kind="milestone"), {2022: 1}, 2022)
    with pytest.raises(TargetError):
        evaluate(HARD_YEARLY, {2022: True}, 2022)
    assert evaluate(HARD_YEARLY, {2030: True}, 2022).status == "no_data"  # outside: ignored


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"kind": "yearly"}, "needs a value"),
        ({"kind": "milestone", "value": 1}, "a milestone has no value"),
        ({"kind": "range", "value": 30, "upper": 15}, "upper >= value"),
        ({"kind": "yearly", "value": 3, "upper": 5}, "only a range"),
        ({"kind": "ratio", "value": 130}, "0-100"),
        ({"kind": "yearly", "value": 3, "baseline_year": 2021, "baseline_value": 1}, "baseline"),
        ({"kind": "stock", "value": 3, "baseline_year": 2021}, "come together"),
        ({"kind": "stock", "value": 3, "baseline_year": 2022, "baseline_value": 1}, "before"),
        ({"kind": "yearly", "value": 3, "start_year": 2026}, "after the horizon"),
        ({"kind": "range", "value": 1, "upper": 2, "comparison": "at_most"}, "no comparison"),
        ({"kind": "stock", "value": 3, "as_of": "--13-01"}, "month-day"),
        ({"kind": "yearly", "value": 3, "key": "a b"}, "target key"),
    ],
)
def test_a_target_that_does_not_make_sense_is_refused(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError) as info:
        rule(**fields)
    assert says in str(info.value)


def test_an_indicator_score_follows_completion_on_a_straight_line() -> None:
    link = TargetScore(key="t", zero_at=50, full_at=100)
    scores = [score_from_completion(c, link, 20) for c in (None, 0, 50, 75, 90, 100)]
    assert scores == [0.0, 0.0, 0.0, 10.0, 16.0, 20.0]
    assert score_from_completion(80, TargetScore(key="t"), 100) == 80.0
    with pytest.raises(ValidationError):
        TargetScore(key="t", zero_at=90, full_at=80)
