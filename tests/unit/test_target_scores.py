"""Indicators scored from targets (issue 16): the completion each reads from the self-evaluation,
the score it gives, the experts kept from scoring it, and the decision record reproducing it."""

from __future__ import annotations

import pytest

from shared.domain.grading import (
    DecisionRecord,
    Grade,
    ScoreSheet,
    computed_sent,
    grade_sheets,
    recompute,
    regrade_year,
    score_errors,
)
from shared.domain.participants import pinned_rules
from shared.domain.rules import load_rules_file
from shared.domain.target_scores import (
    computed_keys,
    computed_scores,
    cycle_completions,
    indicator_completions,
    target_completion,
)
from shared.domain.targets import TargetRule
from shared.settings import DEPLOY_DIR

PROGRAMS = DEPLOY_DIR / "programs"
# 街镇: invention_share (weight 20) is scored from unit_invention_share, a participant-level
# ratio target of at least 30% a year, 2016-2020.
XIQING = pinned_rules(
    load_rules_file(PROGRAMS / "tianjin-xiqing-demo-district.yaml"), "subdistrict"
)
RUBRIC = XIQING.rubric
SHARE = "unit_invention_share"
EXPERT_KEYS = [k for k in RUBRIC.keys if k != "invention_share"]


def _completion(share: float | None, year: int = 2018) -> float | None:
    actuals = {} if share is None else {SHARE: share}
    return indicator_completions(RUBRIC, XIQING.targets, year, actuals, {})["invention_share"]


def _sheet(expert: str, value: float, keys: list[str] = EXPERT_KEYS) -> ScoreSheet:
    return ScoreSheet(expert=expert, scores=dict.fromkeys(keys, value))


def test_the_share_indicator_is_the_only_computed_one() -> None:
    assert computed_keys(RUBRIC) == ["invention_share"]
    assert RUBRIC.scale == "percent"


@pytest.mark.parametrize(
    ("share", "completion", "score"),
    [
        (36.0, 100.0, 100.0),  # met
        (30.0, 100.0, 100.0),  # at least 30: met at 30
        (29.99, 99.97, 99.97),  # 29.99 / 30, not met: under 100
        (15.0, 50.0, 50.0),
        (4.5, 15.0, 15.0),
        (0.0, 0.0, 0.0),
        (None, None, 0.0),  # no actual reported: scores 0
    ],
)
def test_the_share_is_scored_from_its_completion(
    share: float | None, completion: float | None, score: float
) -> None:
    assert _completion(share) == completion
    assert computed_scores(RUBRIC, {"invention_share": completion}) == {"invention_share": score}


def test_a_year_outside_the_targets_years_has_no_completion() -> None:
    assert _completion(40.0, year=2015) is None  # before start_year
    assert _completion(40.0, year=2026) is None  # the target ended in 2020
    assert computed_scores(RUBRIC, {}) == {"invention_share": 0.0}


def test_a_yearly_participant_target_on_a_points_scale() -> None:
    rules = load_rules_file(PROGRAMS / "cnipa-pilot-2015.yaml")
    zone = pinned_rules(rules, "experimental_zone")
    # at least five micro navigation projects in 2015
    completions = [
        cycle_completions(zone, 2015, {"micro_navigation_projects": n}, {}) for n in (6, 5, 4, 2)
    ]
    assert completions == [
        {"navigation_projects": 100.0},
        {"navigation_projects": 100.0},
        {"navigation_projects": 80.0},
        {"navigation_projects": 40.0},
    ]
    assert [computed_scores(zone.rubric, c or {}) for c in completions] == [
        {"navigation_projects": 100.0},
        {"navigation_projects": 100.0},
        {"navigation_projects": 80.0},
        {"navigation_projects": 40.0},
    ]


def test_a_program_level_target_reads_the_participants_plan_target() -> None:
    rule = TargetRule(
        key="pledges",
        name_zh="质押融资",
        name_en="Pledge financing",
        kind="yearly",
        value=5000,
        start_year=2016,
        horizon=2020,
    )
    plan = {"pledges": 200.0}  # the unit's own share of the district's 5000
    assert target_completion(rule, 2018, {"pledges": 150}, plan) == 75.0
    assert target_completion(rule, 2018, {"pledges": 260}, plan) == 100.0  # capped at 100
    assert target_completion(rule, 2018, {"pledges": 150}, {}) is None  # no plan target
    assert target_completion(rule, 2018, {}, plan) is None  # no actual


def test_a_rubric_without_computed_indicators_records_none() -> None:
    demo = load_rules_file(PROGRAMS / "demo-fast.yaml")
    assert cycle_completions(demo, 2026, {"patents": 30}, {"patents": 30}) is None


def test_experts_are_not_asked_for_the_computed_indicator_and_may_not_score_it() -> None:
    assert score_errors(RUBRIC, dict.fromkeys(EXPERT_KEYS, 80.0), []) == []
    scores = dict.fromkeys(RUBRIC.keys, 80.0)
    assert computed_sent(RUBRIC, scores) == ["invention_share"]
    assert score_errors(RUBRIC, scores, []) == [
        "invention_share: computed from the target's completion, not scored by experts"
        " / 发明专利申请量占比：该指标由目标完成情况计算，专家不打分"
    ]
    assert computed_sent(RUBRIC, dict.fromkeys(EXPERT_KEYS, 80.0)) == []


def test_the_computed_score_enters_the_average_total_and_grade() -> None:
    sheets = [_sheet("e1", 80), _sheet("e2", 90), _sheet("e3", 85)]
    averaged, total, vetoes, grade = grade_sheets(
        RUBRIC, sheets, completion={"invention_share": 50.0}
    )
    assert averaged == {
        "invention_stock": 85.0,
        "invention_share": 50.0,
        "grant_rate": 85.0,
        "pct_applications": 85.0,
        "maintenance_rate": 85.0,
        "implementation_rate": 85.0,
        "licensing": 85.0,
    }
    # (85 * 80 + 50 * 20) / 100
    assert (total, vetoes, grade) == (78.0, [], Grade.PASS)
    _, full, _, best = grade_sheets(RUBRIC, sheets, completion={"invention_share": 100.0})
    assert (full, best) == (88.0, Grade.EXCELLENT)


def _record(sheets: list[ScoreSheet], completion: dict[str, float | None] | None) -> DecisionRecord:
    averaged, total, vetoes, grade = grade_sheets(RUBRIC, sheets, completion=completion)
    return DecisionRecord(
        program="p",
        year=2018,
        base="b",
        rubric=RUBRIC,
        sheets=sheets,
        vetoes=vetoes,
        evidence_sha256=[],
        target_completion=completion,
        averaged=averaged,
        total=total,
        grade=grade,
        workflow_run_id="r",
        method=2,
    )


def test_recompute_reproduces_the_computed_score_from_the_record_alone() -> None:
    record = _record([_sheet("e1", 70), _sheet("e2", 70)], {"invention_share": None})
    assert record.averaged["invention_share"] == 0.0
    assert (record.total, record.grade) == (56.0, Grade.FAIL)  # 70 * 0.8
    assert recompute(record) == (56.0, Grade.FAIL)
    again = DecisionRecord.model_validate_json(record.model_dump_json())
    assert again.target_completion == {"invention_share": None}
    assert recompute(again) == (56.0, Grade.FAIL)


def test_a_record_whose_experts_scored_the_indicator_recomputes_as_before() -> None:
    sheets = [_sheet("e1", 70, RUBRIC.keys), _sheet("e2", 90, RUBRIC.keys)]
    record = _record(sheets, None)
    assert record.target_completion is None
    assert record.averaged["invention_share"] == 80.0
    assert recompute(record) == (80.0, Grade.PASS)


def test_regrading_uses_the_recorded_completion() -> None:
    record = _record([_sheet("e1", 90), _sheet("e2", 90)], {"invention_share": 75.0})
    assert record.total == 87.0  # (90 * 80 + 75 * 20) / 100
    assert [(r.new_total, r.new_grade) for r in regrade_year([record], RUBRIC)] == [
        (87.0, Grade.EXCELLENT)
    ]
    unrecorded = _record([_sheet("e1", 90, RUBRIC.keys)], None)
    with pytest.raises(ValueError, match="no target completion was recorded for invention_share"):
        regrade_year([unrecorded], RUBRIC)
