"""Rubric scoring, grading, relative grading, completion rates and decision records."""

from __future__ import annotations

import pytest

from shared.domain.grading import (
    DecisionRecord,
    Grade,
    ScoreSheet,
    absolute_grade,
    completion_rates,
    grade_sheets,
    recompute,
    regrade_year,
    relative_grades,
    score_errors,
    weighted_total,
)
from shared.domain.rules import GradeThresholds, load_rules_file
from shared.settings import DEPLOY_DIR

# Read directly, not through tests.helpers, so these pure tests import no workflow code.
RUBRIC = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").rubric
KEYS = RUBRIC.keys


def _sheet(expert: str, value: float, vetoes: list[str] | None = None) -> ScoreSheet:
    return ScoreSheet(expert=expert, scores=dict.fromkeys(KEYS, value), vetoes=vetoes or [])


def test_total_is_the_weighted_mean() -> None:
    scores = {
        "report_quality": 90,
        "database": 80,
        "application": 88,
        "conditions": 85,
        "reporting": 100,
    }
    # (90*30 + 80*15 + 88*30 + 85*20 + 100*5) / 100
    assert weighted_total(RUBRIC, scores) == 87.4


def test_experts_are_averaged_per_indicator() -> None:
    averaged, total, vetoes, grade = grade_sheets(RUBRIC, [_sheet("a", 80), _sheet("b", 90)])
    assert averaged == dict.fromkeys(KEYS, 85.0)
    assert total == 85.0 and grade == Grade.EXCELLENT and vetoes == []


def test_any_veto_fails_whatever_the_total() -> None:
    _, total, vetoes, grade = grade_sheets(
        RUBRIC, [_sheet("a", 100, ["false_materials"]), _sheet("b", 100)]
    )
    assert total == 100 and vetoes == ["false_materials"] and grade == Grade.FAIL


@pytest.mark.parametrize(
    ("total", "grade"), [(85, "excellent"), (84.99, "pass"), (60, "pass"), (59.99, "fail")]
)
def test_absolute_thresholds(total: float, grade: str) -> None:
    assert absolute_grade(RUBRIC.grades, total, vetoed=False) == grade


def test_score_errors_name_every_problem() -> None:
    errors = score_errors(RUBRIC, {"report_quality": 120, "bogus": 1}, ["lying"])
    text = "; ".join(errors)
    assert "missing indicators: database, application, conditions, reporting" in text
    assert "unknown indicators: bogus" in text
    assert "report_quality: 120 exceeds the maximum 100 (scored 0-100, weighted 30)" in text
    assert "导航报告质量：120分超过满分100分（百分制）" in text
    assert "unknown veto items: lying" in text


def test_relative_grading_takes_the_top_share_of_passing_bases() -> None:
    thresholds = GradeThresholds.model_validate({"excellent": "top 20%", "pass": 60})
    results = {
        f"b{i}": (float(50 + i * 5), Grade.PASS if 50 + i * 5 >= 60 else Grade.FAIL)
        for i in range(10)
    }
    final = relative_grades(thresholds, results)
    assert [b for b, g in final.items() if g == Grade.EXCELLENT] == ["b8", "b9"]
    assert final["b0"] == Grade.FAIL and final["b1"] == Grade.FAIL and final["b2"] == Grade.PASS


def test_relative_grading_never_splits_a_tie() -> None:
    results = {
        "a": (90.0, Grade.PASS),
        "b": (90.0, Grade.PASS),
        **{f"c{i}": (70.0, Grade.PASS) for i in range(8)},
    }
    # Top 10% of 10 is one place and two bases tie for it: by the default rule (none_in) the
    # quota is a ceiling, so neither is excellent; under all_in both are.
    ceiling = GradeThresholds.model_validate({"excellent": "top 10%", "pass": 60})
    assert (
        relative_grades(ceiling, results)["a"] == relative_grades(ceiling, results)["b"] == "pass"
    )
    generous = GradeThresholds.model_validate(
        {"excellent": "top 10%", "pass": 60, "relative": {"ties": "all_in"}}
    )
    final = relative_grades(generous, results)
    assert final["a"] == final["b"] == Grade.EXCELLENT


def test_completion_rates() -> None:
    rates = completion_rates(
        {"patents": 30, "pledge": 200, "zero": 0, "missing": 5},
        {"patents": 33, "pledge": 100, "zero": 1},
    )
    assert rates == {"patents": 1.1, "pledge": 0.5, "zero": 1.0, "missing": None}


def test_a_grade_is_recomputed_from_its_record_alone() -> None:
    sheets = [_sheet("a", 70), _sheet("b", 64, ["serious_dishonesty"])]
    averaged, total, vetoes, grade = grade_sheets(RUBRIC, sheets)
    record = DecisionRecord(
        program="p",
        year=2026,
        base="b",
        rubric=RUBRIC,
        sheets=sheets,
        vetoes=vetoes,
        evidence_sha256=["0" * 64],
        averaged=averaged,
        total=total,
        grade=grade,
        workflow_run_id="r",
    )
    again = DecisionRecord.model_validate_json(record.model_dump_json())
    assert recompute(again) == (67.0, Grade.FAIL)


def test_whatif_regrades_from_records_and_says_why() -> None:
    def record(base: str, value: float, reason: str = "scored") -> DecisionRecord:
        sheets = [_sheet("a", value)] if reason == "scored" else []
        averaged, total, vetoes, grade = (
            grade_sheets(RUBRIC, sheets) if sheets else ({}, 0.0, [], Grade.FAIL)
        )
        return DecisionRecord(
            program="p",
            year=2026,
            base=base,
            rubric=RUBRIC,
            sheets=sheets,
            vetoes=vetoes,
            evidence_sha256=[],
            averaged=averaged,
            total=total,
            grade=grade,
            reason=reason,
            workflow_run_id="r",
        )

    records = [record("a", 86), record("b", 62), record("c", 0, "plan_overdue")]
    stricter = RUBRIC.model_copy(
        update={"grades": GradeThresholds.model_validate({"excellent": 90, "pass": 65})}
    )
    changes = {r.base: (r.old_grade, r.new_grade) for r in regrade_year(records, stricter)}
    assert changes == {"a": ("excellent", "pass"), "b": ("pass", "fail"), "c": ("fail", "fail")}
    same = regrade_year(records, RUBRIC)
    assert all(r.old_grade == r.new_grade and r.old_total == r.new_total for r in same)
    narrower = RUBRIC.model_copy(update={"indicators": RUBRIC.indicators[:2]})
    assert regrade_year(records, narrower)[0].new_total == 86
    wider = RUBRIC.model_copy(
        update={
            "indicators": [
                *RUBRIC.indicators,
                RUBRIC.indicators[0].model_copy(update={"key": "new"}),
            ]
        }
    )
    with pytest.raises(ValueError, match="did not score new"):
        regrade_year(records, wider)
