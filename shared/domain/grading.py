"""Scoring against the indicator rubric, grading, and the decision record that reproduces it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.rules import GradeThresholds, RubricRules


class Grade(StrEnum):
    EXCELLENT = "excellent"
    PASS = "pass"
    FAIL = "fail"

    @property
    def label_zh(self) -> str:
        return {"excellent": "优秀", "pass": "合格", "fail": "不合格"}[self.value]


class ScoreSheet(BaseModel):
    """One expert's scores for one review round."""

    model_config = ConfigDict(frozen=True)

    expert: str
    scores: dict[str, float]
    vetoes: list[str] = Field(default_factory=list)
    comment: str = ""


def score_errors(rubric: RubricRules, scores: dict[str, float], vetoes: list[str]) -> list[str]:
    """Everything wrong with a score sheet, in words a reviewer can act on."""
    errors = []
    missing = [k for k in rubric.keys if k not in scores]
    unknown = sorted(set(scores) - set(rubric.keys))
    if missing:
        errors.append(f"missing indicators: {', '.join(missing)}")
    if unknown:
        errors.append(f"unknown indicators: {', '.join(unknown)}")
    for key, value in scores.items():
        if not isinstance(value, int | float) or math.isnan(value) or not 0 <= value <= 100:
            errors.append(f"{key} must be a number from 0 to 100")
    bad_vetoes = sorted(set(vetoes) - set(rubric.vetoes))
    if bad_vetoes:
        errors.append(f"unknown veto items: {', '.join(bad_vetoes)}")
    return errors


def average_scores(rubric: RubricRules, sheets: list[ScoreSheet]) -> dict[str, float]:
    """Per indicator, the mean over experts."""
    if not sheets:
        raise ValueError("no score sheets")
    return {key: round(sum(s.scores[key] for s in sheets) / len(sheets), 4) for key in rubric.keys}


def weighted_total(rubric: RubricRules, averaged: dict[str, float]) -> float:
    """The weighted mean of indicator scores, on 0-100."""
    weight_sum = sum(i.weight for i in rubric.indicators)
    total = sum(averaged[i.key] * i.weight for i in rubric.indicators) / weight_sum
    return round(total, 2)


def absolute_grade(grades: GradeThresholds, total: float, vetoed: bool) -> Grade:
    """The grade from thresholds alone. Under relative grading, every pass is provisional until
    the program year ranks all bases (:func:`relative_grades`)."""
    if vetoed or total < grades.pass_:
        return Grade.FAIL
    if isinstance(grades.excellent, float | int) and total >= grades.excellent:
        return Grade.EXCELLENT
    return Grade.PASS


def relative_grades(
    grades: GradeThresholds, results: dict[str, tuple[float, Grade]]
) -> dict[str, Grade]:
    """Apply 'excellent: top N%': the best N% of all graded bases (rounded down) are excellent,
    provided they passed. Bases tied with the last excellent total are excellent too, so equal
    totals never get different grades."""
    top = grades.relative_top_percent
    if top is None:
        return {base: grade for base, (_, grade) in results.items()}
    quota = math.floor(len(results) * top / 100)
    passing = sorted(
        ((total, base) for base, (total, grade) in results.items() if grade != Grade.FAIL),
        key=lambda tb: (-tb[0], tb[1]),
    )
    final = {base: grade for base, (_, grade) in results.items()}
    if quota == 0 or not passing:
        return final
    cutoff = passing[min(quota, len(passing)) - 1][0]
    for total, base in passing:
        final[base] = Grade.EXCELLENT if total >= cutoff else Grade.PASS
    return final


def completion_rates(
    targets: dict[str, float], actuals: dict[str, float]
) -> dict[str, float | None]:
    """Actual over target per declared target; ``None`` where no actual was reported."""
    rates: dict[str, float | None] = {}
    for key, target in targets.items():
        actual = actuals.get(key)
        if actual is None:
            rates[key] = None
        elif target == 0:
            rates[key] = 1.0 if actual >= 0 else 0.0
        else:
            rates[key] = round(actual / target, 4)
    return rates


class DecisionRecord(BaseModel):
    """Everything a grade was computed from; :func:`recompute` reproduces the grade from it."""

    model_config = ConfigDict(frozen=True)

    program: str
    year: int
    base: str
    round: int = Field(0, description="0 is the yearly review; 1.. are rectification re-reviews")
    rubric: RubricRules
    sheets: list[ScoreSheet]
    vetoes: list[str]
    evidence_sha256: list[str]
    completion: dict[str, float | None] = Field(default_factory=dict)
    averaged: dict[str, float]
    total: float
    grade: Grade
    reason: str = Field("scored", description="scored | plan_overdue | self_evaluation_overdue")
    workflow_run_id: str


def grade_sheets(
    rubric: RubricRules, sheets: list[ScoreSheet]
) -> tuple[dict[str, float], float, list[str], Grade]:
    averaged = average_scores(rubric, sheets)
    total = weighted_total(rubric, averaged)
    vetoes = sorted({v for s in sheets for v in s.vetoes})
    return averaged, total, vetoes, absolute_grade(rubric.grades, total, bool(vetoes))


def recompute(record: DecisionRecord) -> tuple[float, Grade]:
    """The total and absolute grade that the record's inputs give."""
    if record.reason != "scored":
        return record.total, Grade.FAIL
    _, total, _, grade = grade_sheets(record.rubric, record.sheets)
    return total, grade


@dataclass(frozen=True)
class Regrade:
    base: str
    old_total: float
    old_grade: Grade
    new_total: float
    new_grade: Grade
    reason: str


def regrade_year(records: list[DecisionRecord], rubric: RubricRules) -> list[Regrade]:
    """Each base's yearly grade under another rubric, computed from its decision record alone.

    Overdue fails stay fails (nothing was scored). A rubric whose indicators the experts did
    not score cannot be applied, and says which are missing.
    """
    yearly = [r for r in records if r.round == 0]
    fresh: dict[str, tuple[float, Grade, str]] = {}
    for record in yearly:
        if record.reason != "scored":
            fresh[record.base] = (record.total, Grade.FAIL, record.reason)
            continue
        missing = [k for k in rubric.keys if any(k not in s.scores for s in record.sheets)]
        if missing:
            raise ValueError(f"{record.base}: the experts did not score {', '.join(missing)}")
        sheets = [
            s.model_copy(update={"scores": {k: s.scores[k] for k in rubric.keys}})
            for s in record.sheets
        ]
        _, total, vetoes, grade = grade_sheets(rubric, sheets)
        why = (
            f"veto: {', '.join(vetoes)}"
            if vetoes
            else f"total {total} against {rubric.grades.model_dump(by_alias=True)}"
        )
        fresh[record.base] = (total, grade, why)
    final = relative_grades(rubric.grades, {b: (t, g) for b, (t, g, _) in fresh.items()})
    out = []
    for record in sorted(yearly, key=lambda r: r.base):
        total, _, why = fresh[record.base]
        new_grade = final[record.base]
        if rubric.grades.relative_top_percent is not None and new_grade != fresh[record.base][1]:
            why = f"{why}; ranked for top {rubric.grades.relative_top_percent}%"
        out.append(Regrade(record.base, record.total, record.grade, total, new_grade, why))
    return out
