"""Scores on a stated scale: points out of each maximum, or 0-100 with weights; half-up totals;
veto items with definitions and a stated outcome; old decision records still recompute."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.grading import (
    DecisionRecord,
    Grade,
    ScoreSheet,
    grade_sheets,
    recompute,
    regrade_year,
    round_half_up,
    rubric_scale_description,
    score_errors,
    total_score,
    veto_consequence,
)
from shared.domain.rules import RubricRules, load_rules_file
from shared.settings import DEPLOY_DIR

INDICATORS = [
    {"key": "report_quality", "name": "导航报告质量", "name_en": "Report quality", "weight": 30},
    {"key": "database", "name": "数据库建设水平", "weight": 20},
    {"key": "application", "name": "导航成果运用成效", "weight": 30},
    {"key": "conditions", "name": "建设主体条件保障", "weight": 20},
]


def rubric(**changes: Any) -> RubricRules:
    return RubricRules.model_validate(
        {"version": "t", "indicators": INDICATORS, "vetoes": ["false_materials"], **changes}
    )


POINTS = rubric(scale="points")


def sheet(expert: str, **scores: float) -> ScoreSheet:
    return ScoreSheet(expert=expert, scores=scores)


def test_points_are_scored_out_of_each_maximum_and_summed() -> None:
    # 28/30 + 18/20 + 27/30 + 19/20 = 92: the review that used to become 22.45 不合格.
    sheets = [sheet("a", report_quality=28, database=18, application=27, conditions=19)]
    averaged, total, _, grade = grade_sheets(POINTS, sheets)
    assert averaged == {"report_quality": 28, "database": 18, "application": 27, "conditions": 19}
    assert total == 92 and grade == Grade.EXCELLENT


def test_percent_is_the_weighted_mean() -> None:
    averaged = {"report_quality": 90, "database": 80, "application": 88, "conditions": 85}
    # (90*30 + 80*20 + 88*30 + 85*20) / 100
    assert total_score(rubric(), averaged) == 86.4


def test_a_score_above_its_maximum_is_refused_with_the_scale() -> None:
    scores = {"report_quality": 32, "database": 18, "application": 27, "conditions": -1}
    errors = score_errors(POINTS, scores, [])
    assert errors == [
        "report_quality: 32 exceeds the maximum 30 (scored in points out of the maximum 30)"
        " / 导航报告质量：32分超过满分30分",
        "conditions: -1 is below 0 (scored in points out of the maximum 20)"
        " / 建设主体条件保障：-1分低于0分（满分20分）",
    ]
    percent = score_errors(rubric(), {**scores, "report_quality": 100.5, "conditions": 20}, [])
    assert percent == [
        "report_quality: 100.5 exceeds the maximum 100 (scored 0-100, weighted 30)"
        " / 导航报告质量：100.5分超过满分100分（百分制）"
    ]
    nan = score_errors(POINTS, {**scores, "conditions": float("nan")}, [])
    assert any(e.startswith("conditions: nan is not a number") for e in nan)


def test_points_maxima_must_sum_to_100() -> None:
    with pytest.raises(ValueError, match="maxima must sum to 100, not 90"):
        rubric(scale="points", indicators=[*INDICATORS[:3], {**INDICATORS[3], "weight": 10}])
    explicit = rubric(
        scale="points",
        indicators=[
            {**i, "weight": 1, "max": m} for i, m in zip(INDICATORS, [40, 20, 20, 20], strict=True)
        ],
    )
    assert [i.maximum("points") for i in explicit.indicators] == [40, 20, 20, 20]
    with pytest.raises(ValueError, match="leave out max for database"):
        rubric(indicators=[INDICATORS[0], {**INDICATORS[1], "max": 20}, *INDICATORS[2:]])


@pytest.mark.parametrize(
    ("value", "decimals", "rounded"),
    [(2.675, 2, 2.68), (0.125, 2, 0.13), (86.445, 2, 86.45), (84.5, 0, 85), (85.0049, 2, 85.0)],
)
def test_rounding_is_half_up(value: float, decimals: int, rounded: float) -> None:
    assert round_half_up(value, decimals) == rounded


def test_totals_round_half_up_from_the_rounded_averages() -> None:
    three = rubric(total_decimals=2)
    # report_quality averages 80.335 -> 80.34 (half up), the rest 80.
    sheets = [
        sheet("a", report_quality=80.33, database=80, application=80, conditions=80),
        sheet("b", report_quality=80.34, database=80, application=80, conditions=80),
    ]
    averaged, total, _, _ = grade_sheets(three, sheets)
    assert averaged["report_quality"] == 80.34  # Python's round gives 80.33 here
    # (80.34*30 + 80*70) / 100 = 80.102 -> 80.1
    assert total == 80.1
    whole = rubric(total_decimals=0)
    assert grade_sheets(whole, sheets)[1] == 80


@given(st.lists(st.tuples(*(st.integers(0, m) for m in (30, 20, 30, 20))), min_size=1, max_size=5))
def test_points_total_is_the_sum_of_the_published_averages(rows: list[tuple[int, ...]]) -> None:
    sheets = [
        ScoreSheet(expert=f"e{n}", scores=dict(zip(POINTS.keys, r, strict=True)))
        for n, r in enumerate(rows)
    ]
    averaged, total, _, _ = grade_sheets(POINTS, sheets)
    assert 0 <= total <= 100
    assert total == round_half_up(sum(averaged.values()), 2)
    record = _record(POINTS, sheets)
    assert recompute(DecisionRecord.model_validate_json(record.model_dump_json())) == (
        record.total,
        record.grade,
    )


def _record(rules: RubricRules, sheets: list[ScoreSheet], **extra: Any) -> DecisionRecord:
    averaged, total, vetoes, grade = grade_sheets(rules, sheets)
    return DecisionRecord(
        program="p",
        year=2026,
        base=extra.pop("base", "b"),
        rubric=rules,
        sheets=sheets,
        vetoes=vetoes,
        evidence_sha256=[],
        averaged=averaged,
        total=total,
        grade=grade,
        workflow_run_id="r",
        method=2,
        **extra,
    )


def test_an_old_record_recomputes_with_the_arithmetic_it_was_made_with() -> None:
    # Recorded before scales were stated: averages to 4 places, the total by Python's round.
    sheets = [
        sheet("a", report_quality=80, database=80, application=81, conditions=80),
        sheet("b", report_quality=80, database=80, application=80, conditions=81),
        sheet("c", report_quality=81, database=80, application=80, conditions=80),
    ]
    old = {
        "program": "p",
        "year": 2025,
        "base": "b",
        "rubric": {"version": "t", "indicators": INDICATORS, "vetoes": ["false_materials"]},
        "sheets": [s.model_dump() for s in sheets],
        "vetoes": [],
        "evidence_sha256": [],
        "averaged": dict.fromkeys(["report_quality", "application", "conditions"], 80.3333)
        | {"database": 80.0},
        "total": 80.27,
        "grade": "pass",
        "workflow_run_id": "r",
    }
    record = DecisionRecord.model_validate(old)
    assert record.method == 1
    assert recompute(record) == (80.27, Grade.PASS)
    # Today's arithmetic gives 80.26 from the averages as published (80.33*80 + 80*20) / 100.
    assert grade_sheets(record.rubric, sheets)[1] == 80.26
    same = regrade_year([record], record.rubric)
    assert same[0].new_total == 80.27 and same[0].new_grade == same[0].old_grade


def test_regrading_on_another_scale_is_refused() -> None:
    record = _record(
        rubric(), [sheet("a", report_quality=90, database=90, application=90, conditions=90)]
    )
    with pytest.raises(ValueError, match="scored on the percent scale, not points"):
        regrade_year([record], POINTS)


def test_vetoes_read_as_keys_or_as_items_with_definitions() -> None:
    old = rubric()
    assert (
        old.vetoes == ["false_materials"] and old.veto_item("false_materials").definition_zh is None
    )
    rich = rubric(
        vetoes=[
            {
                "key": "false_materials",
                "name_zh": "提供虚假材料",
                "name_en": "False materials",
                "definition_zh": "申报或自评材料中有伪造、篡改的数据或证明",
            },
            "serious_dishonesty",
        ],
        veto_outcome="fail_final",
    )
    assert rich.vetoes == ["false_materials", "serious_dishonesty"]
    assert rich.veto_item("false_materials").name_zh == "提供虚假材料"
    assert RubricRules.model_validate(rich.model_dump()) == rich
    assert veto_consequence(rich, ["serious_dishonesty"]) == "fail_final"
    assert veto_consequence(rich, []) is None
    assert veto_consequence(old, ["false_materials"]) == "rectify"
    with pytest.raises(ValueError, match="veto_definitions name items not in vetoes: lying"):
        rubric(veto_definitions={"lying": {"name_zh": "说谎"}})


def test_the_scale_is_described_for_the_score_form() -> None:
    described = rubric_scale_description(
        rubric(
            scale="points",
            vetoes=[
                {"key": "false_materials", "name_zh": "提供虚假材料", "definition_zh": "伪造数据"}
            ],
        )
    )
    assert described["scale"] == "points"
    assert described["description_zh"].startswith("各指标按其满分计分")
    assert [(i["key"], i["max"]) for i in described["indicators"]][:2] == [
        ("report_quality", 30),
        ("database", 20),
    ]
    assert described["vetoes"][0]["definition_zh"] == "伪造数据"
    assert described["veto_outcome_zh"] == "评为不合格，与低分相同须限期整改"
    assert described["rounding"]["mode"] == "half_up"


def test_the_presets_still_read_on_the_percent_scale() -> None:
    for name in ("demo-fast", "henan-nav-base", "inner-mongolia-nav-base"):
        rules = load_rules_file(DEPLOY_DIR / "programs" / f"{name}.yaml").rubric
        assert rules.scale == "percent" and rules.total_decimals == 2
