"""Scoring against the indicator rubric, grading, and the decision record that reproduces it.

A rubric states its scale (:attr:`RubricRules.scale`): ``points`` (each indicator scored out of
its maximum, the total is the sum) or ``percent`` (each indicator 0-100, the total is the
weighted mean). Averages and totals are rounded half up to ``total_decimals``; the total is
computed from the averages as rounded, so a reader who adds up the published averages gets the
published total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.rules import (
    SCALE_DESCRIPTIONS,
    VETO_OUTCOMES,
    GradeThresholds,
    RubricRules,
    VetoOutcome,
)
from shared.domain.target_scores import computed_keys, computed_scores

GRADING_METHOD = 2
"""The arithmetic new decision records are computed with (:attr:`DecisionRecord.method`).
1: before scales were stated (averages rounded to 4 places, the total with ``round``);
2: the rubric's scale, half-up rounding to ``total_decimals``, the total from rounded averages."""


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


def round_half_up(value: float | Decimal, decimals: int) -> float:
    """``value`` rounded half up (2.675 -> 2.68, 0.125 -> 0.13), as people round on paper."""
    return float(_half_up(_dec(value), decimals))


def _dec(value: float | Decimal) -> Decimal:
    # str() gives the shortest decimal that reads back as the float: what the expert typed.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _half_up(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _num(value: float) -> str:
    """A score as people write it: 32, 28.5."""
    return f"{value:g}" if math.isfinite(value) and abs(value) < 1e15 else str(value)


def _scale_en(rubric: RubricRules, maximum: float, weight: float) -> str:
    if rubric.scale == "points":
        return f"scored in points out of the maximum {_num(maximum)}"
    return f"scored 0-100, weighted {_num(weight)}"


def score_errors(rubric: RubricRules, scores: Mapping[str, float], vetoes: list[str]) -> list[str]:
    """Everything wrong with a score sheet, in words a reviewer can act on (English / 中文).
    An indicator scored from a target (``from_target``) is not the experts' to score: it is not
    asked for, and a score sent for it is refused (:func:`computed_sent`)."""
    errors = []
    names = {i.key: i.name for i in rubric.indicators}
    computed = computed_keys(rubric)
    missing = [k for k in rubric.keys if k not in scores and k not in computed]
    unknown = sorted(set(scores) - set(rubric.keys))
    sent = computed_sent(rubric, scores)
    if sent:
        errors.append(
            f"{', '.join(sent)}: computed from the target's completion, not scored by experts"
            f" / {'、'.join(names[k] for k in sent)}：该指标由目标完成情况计算，专家不打分"
        )
    if missing:
        errors.append(
            f"missing indicators: {', '.join(missing)}"
            f" / 缺少指标评分：{'、'.join(names[k] for k in missing)}"
        )
    if unknown:
        errors.append(f"unknown indicators: {', '.join(unknown)} / 未知指标：{'、'.join(unknown)}")
    for indicator in rubric.indicators:
        if indicator.key in scores and indicator.key not in computed:
            problem = _score_problem(rubric, indicator.key, scores[indicator.key])
            if problem:
                errors.append(problem)
    bad_vetoes = sorted(set(vetoes) - set(rubric.vetoes))
    if bad_vetoes:
        errors.append(
            f"unknown veto items: {', '.join(bad_vetoes)} / 未知否决项：{'、'.join(bad_vetoes)}"
        )
    return errors


def computed_sent(rubric: RubricRules, scores: Mapping[str, float]) -> list[str]:
    """The indicators scored from targets that a score sheet scores anyway."""
    return [k for k in computed_keys(rubric) if k in scores]


def _score_problem(rubric: RubricRules, key: str, value: Any) -> str | None:
    indicator = next(i for i in rubric.indicators if i.key == key)
    maximum = indicator.maximum(rubric.scale)
    scale_en = _scale_en(rubric, maximum, indicator.weight)
    scale_zh = "" if rubric.scale == "points" else "（百分制）"
    name = indicator.name
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return (
            f"{key}: {value!r} is not a number ({scale_en}) / {name}：分数须为0至{_num(maximum)}"
            f"之间的数字{scale_zh}"
        )
    if value > maximum:
        return (
            f"{key}: {_num(value)} exceeds the maximum {_num(maximum)} ({scale_en})"
            f" / {name}：{_num(value)}分超过满分{_num(maximum)}分{scale_zh}"
        )
    if value < 0:
        return (
            f"{key}: {_num(value)} is below 0 ({scale_en})"
            f" / {name}：{_num(value)}分低于0分（满分{_num(maximum)}分）"
        )
    return None


def rubric_scale_description(rubric: RubricRules) -> dict[str, Any]:
    """What an expert is told where scores are entered: the scale, each indicator's maximum,
    the rounding, the veto items with their definitions and what a veto leads to."""
    zh, en = SCALE_DESCRIPTIONS[rubric.scale]
    outcome_zh, outcome_en = VETO_OUTCOMES[rubric.veto_outcome]
    return {
        "scale": rubric.scale,
        "description_zh": zh,
        "description_en": en,
        "total_max": 100,
        "rounding": {
            "decimals": rubric.total_decimals,
            "mode": "half_up",
            "description_zh": f"各指标平均分及总分四舍五入保留{rubric.total_decimals}位小数，"
            "总分由保留后的平均分计算",
            "description_en": f"averages and the total are rounded half up to "
            f"{rubric.total_decimals} decimals; the total is computed from the rounded averages",
        },
        "indicators": [
            {
                "key": i.key,
                "name": i.name,
                "name_en": i.name_en,
                "max": i.maximum(rubric.scale),
                "weight": i.weight if rubric.scale == "percent" else None,
            }
            for i in rubric.indicators
        ],
        "vetoes": [rubric.veto_item(k).model_dump() for k in rubric.vetoes],
        "veto_outcome": rubric.veto_outcome,
        "veto_outcome_zh": outcome_zh,
        "veto_outcome_en": outcome_en,
    }


def veto_consequence(rubric: RubricRules, vetoes: list[str]) -> VetoOutcome | None:
    """What the rules say a review with these vetoes leads to; ``None`` when nothing was vetoed."""
    return rubric.veto_outcome if vetoes else None


def average_scores(
    rubric: RubricRules,
    sheets: list[ScoreSheet],
    method: int = GRADING_METHOD,
    completion: Mapping[str, float | None] | None = None,
) -> dict[str, float]:
    """Per indicator, the mean over experts, rounded as the method rounds it. With
    ``completion`` (a record's ``target_completion``), each indicator scored from a target gets
    the score its completion gives instead, whatever the sheets say of it."""
    if not sheets:
        raise ValueError("no score sheets")
    if completion is not None:
        computed = computed_scores(rubric, completion)
        scored = rubric.model_copy(
            update={"indicators": [i for i in rubric.indicators if i.key not in computed]}
        )
        averaged = average_scores(scored, sheets, method) if scored.indicators else {}
        return {k: computed[k] if k in computed else averaged[k] for k in rubric.keys}
    if method == 1:
        return {
            key: round(sum(s.scores[key] for s in sheets) / len(sheets), 4) for key in rubric.keys
        }
    return {
        key: float(
            _half_up(
                sum((_dec(s.scores[key]) for s in sheets), Decimal(0)) / len(sheets),
                rubric.total_decimals,
            )
        )
        for key in rubric.keys
    }


def weighted_total(rubric: RubricRules, averaged: Mapping[str, float]) -> float:
    """Method 1's total: the weighted mean of 0-100 indicator scores, with Python's ``round``."""
    weight_sum = sum(i.weight for i in rubric.indicators)
    total = sum(averaged[i.key] * i.weight for i in rubric.indicators) / weight_sum
    return round(total, 2)


def total_score(
    rubric: RubricRules, averaged: Mapping[str, float], method: int = GRADING_METHOD
) -> float:
    """The total on 0-100 by the rubric's scale: the sum of points, or the weighted mean."""
    if method == 1:
        return weighted_total(rubric, averaged)
    if rubric.scale == "points":
        total = sum((_dec(averaged[i.key]) for i in rubric.indicators), Decimal(0))
    else:
        weights = sum((_dec(i.weight) for i in rubric.indicators), Decimal(0))
        total = (
            sum((_dec(averaged[i.key]) * _dec(i.weight) for i in rubric.indicators), Decimal(0))
            / weights
        )
    return float(_half_up(total, rubric.total_decimals))


def absolute_grade(grades: GradeThresholds, total: float, vetoed: bool) -> Grade:
    """The grade from thresholds alone. Under relative grading, every pass is provisional until
    the program year ranks all bases (:func:`rank_year`)."""
    if vetoed or total < grades.pass_:
        return Grade.FAIL
    if isinstance(grades.excellent, float | int) and total >= grades.excellent:
        return Grade.EXCELLENT
    return Grade.PASS


# ---------------------------------------------------------------------------- relative grades


class RankInput(BaseModel):
    """One base's result as the program year ranks it."""

    model_config = ConfigDict(frozen=True)

    total: float
    grade: Grade = Field(description="The absolute grade (:func:`absolute_grade`)")
    scored: bool = Field(True, description="False for an overdue fail: nothing was scored")


class RankedGrade(BaseModel):
    """A base's final grade with the words that justify it; the 公示 states them."""

    model_config = ConfigDict(frozen=True)

    grade: Grade
    rank: int | None = Field(None, description="1 = best; tied totals share a rank")
    population: int | None = Field(None, description="How many bases the share was taken of")
    quota: int | None = Field(None, description="How many excellent places the share gives")
    reason_zh: str
    reason_en: str


_COUNT_ROUNDING = {"round": ROUND_HALF_UP, "floor": ROUND_FLOOR, "ceil": ROUND_CEILING}
_COUNT_WORDS = {
    "round": ("四舍五入", "rounded"),
    "floor": ("去尾取整", "rounded down"),
    "ceil": ("进一取整", "rounded up"),
}
_POPULATION_WORDS = {
    "scored": ("个参评基地", "scored bases"),
    "all": ("个基地（含未评分）", "bases, unscored included"),
}


def excellent_quota(grades: GradeThresholds, population: int) -> int:
    """How many bases 'top N%' of ``population`` makes excellent, by the stated count rule."""
    top = grades.relative_top_percent
    if top is None or population <= 0:
        return 0
    share = Decimal(population) * _dec(top) / 100
    quota = int(share.quantize(Decimal(1), rounding=_COUNT_ROUNDING[grades.relative.count]))
    return max(quota, 1) if grades.relative.at_least_one else quota


def rank_year(grades: GradeThresholds, results: dict[str, RankInput]) -> dict[str, RankedGrade]:
    """Every base's final grade, with its rank, the quota and the reason.

    Under 'excellent: top N%' the quota is N% of the population (scored bases, or all), counted
    by the rules' rounding. Only a base that passed and reached the minimum total can take a
    place, best total first; bases tied on the last place are all in or none in, as the rules say,
    so equal totals always get equal grades. Without 'top N%' the absolute grades stand.
    """
    top = grades.relative_top_percent
    if top is None:
        return {base: _absolute(grades, r) for base, r in results.items()}
    rule = grades.relative
    population = {b: r for b, r in results.items() if r.scored or rule.population == "all"}
    quota = excellent_quota(grades, len(population))
    floor = grades.relative_min_total
    candidates = sorted(
        (r.total for r in population.values() if r.grade != Grade.FAIL and r.total >= floor),
        reverse=True,
    )
    cutoff = _cutoff(candidates, quota, rule.ties)
    count_zh, count_en = _COUNT_WORDS[rule.count]
    least_zh, least_en = ("，至少1个", ", at least one") if rule.at_least_one else ("", "")
    pop_zh, pop_en = _POPULATION_WORDS[rule.population]
    quota_zh = f"优秀名额{quota}个（前{_num(top)}%，{count_zh}{least_zh}）"
    quota_en = f"excellent quota {quota} (top {_num(top)}%, {count_en}{least_en})"
    out: dict[str, RankedGrade] = {}
    for base, r in results.items():
        if base not in population:
            out[base] = RankedGrade(
                grade=r.grade,
                population=len(population),
                quota=quota,
                reason_zh=f"{_absolute(grades, r).reason_zh}；不计入参评基地",
                reason_en=f"{_absolute(grades, r).reason_en}; not counted among the ranked bases",
            )
            continue
        rank = 1 + sum(1 for o in population.values() if o.total > r.total)
        head_zh = f"第{rank}名/共{len(population)}{pop_zh}，{quota_zh}"
        head_en = f"ranked {rank} of {len(population)} {pop_en}; {quota_en}"
        grade, why_zh, why_en = _placed(grades, r, cutoff, candidates, quota)
        out[base] = RankedGrade(
            grade=grade,
            rank=rank,
            population=len(population),
            quota=quota,
            reason_zh=f"{head_zh}；{why_zh}",
            reason_en=f"{head_en}; {why_en}",
        )
    return out


def _cutoff(candidates: list[float], quota: int, ties: str) -> float | None:
    """The lowest total that is excellent, or ``None`` when no base is."""
    if quota <= 0 or not candidates:
        return None
    if quota >= len(candidates):
        return candidates[-1]
    boundary = candidates[quota - 1]
    if candidates[quota] < boundary or ties == "all_in":
        return boundary
    above = [t for t in candidates if t > boundary]
    return above[-1] if above else None


def _placed(
    grades: GradeThresholds, r: RankInput, cutoff: float | None, candidates: list[float], quota: int
) -> tuple[Grade, str, str]:
    if r.grade == Grade.FAIL:
        absolute = _absolute(grades, r)
        return Grade.FAIL, absolute.reason_zh, absolute.reason_en
    total = _num(r.total)
    floor = _num(grades.relative_min_total)
    if cutoff is not None and r.total >= cutoff:
        return (
            Grade.EXCELLENT,
            f"总分{total}分，在优秀名额内且不低于{floor}分",
            f"total {total}, within the quota and at least {floor}",
        )
    if r.total < grades.relative_min_total:
        return (
            Grade.PASS,
            f"总分{total}分，低于优秀最低分{floor}分",
            f"total {total} is below the excellent minimum {floor}",
        )
    tied = sum(1 for t in candidates if t == r.total)
    better = sum(1 for t in candidates if t > r.total)
    if tied > 1 and better < quota < better + tied:
        return (
            Grade.PASS,
            f"总分{total}分，{tied}个基地并列于名额边界，全部计入将超出名额，按规则均不计入",
            f"total {total}, {tied} bases tied at the quota's edge; taking all would exceed the"
            " quota, so by the rules none is in",
        )
    return Grade.PASS, f"总分{total}分，未进入优秀名额", f"total {total}, outside the quota"


def _absolute(grades: GradeThresholds, r: RankInput) -> RankedGrade:
    total = _num(r.total)
    if not r.scored:
        return RankedGrade(
            grade=r.grade, reason_zh="未评分（逾期未提交）", reason_en="not scored (overdue)"
        )
    pass_ = _num(grades.pass_)
    if r.grade == Grade.FAIL and r.total >= grades.pass_:
        # The thresholds pass this total, so only a veto failed it.
        return RankedGrade(
            grade=r.grade,
            reason_zh=f"总分{total}分，但触及否决项",
            reason_en=f"total {total}, but a veto item applies",
        )
    if r.grade == Grade.FAIL:
        return RankedGrade(
            grade=r.grade,
            reason_zh=f"总分{total}分，低于合格线{pass_}分",
            reason_en=f"total {total}, below the pass line {pass_}",
        )
    if r.grade == Grade.EXCELLENT:
        line = _num(float(grades.excellent))
        return RankedGrade(
            grade=r.grade,
            reason_zh=f"总分{total}分，达到优秀线{line}分",
            reason_en=f"total {total}, at or above the excellent line {line}",
        )
    return RankedGrade(
        grade=r.grade,
        reason_zh=f"总分{total}分，达到合格线{pass_}分",
        reason_en=f"total {total}, at or above the pass line {pass_}",
    )


def relative_grades(
    grades: GradeThresholds,
    results: dict[str, tuple[float, Grade]],
    unscored: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Grade]:
    """The final grades alone (:func:`rank_year` gives the reasons). Bases in ``unscored``
    (overdue fails) are left out of a 'scored' population; without it every base counts as
    scored."""
    ranked = rank_year(
        grades,
        {
            base: RankInput(total=total, grade=grade, scored=base not in unscored)
            for base, (total, grade) in results.items()
        },
    )
    return {base: r.grade for base, r in ranked.items()}


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
    target_completion: dict[str, float | None] | None = Field(
        None,
        description=(
            "Per indicator scored from a target (from_target), the completion in percent it was"
            " scored from (None: no actual, it scored 0); the experts did not score these."
            " Absent on records whose experts scored every indicator"
        ),
    )
    averaged: dict[str, float]
    total: float
    grade: Grade
    reason: str = Field("scored", description="scored | plan_overdue | self_evaluation_overdue")
    workflow_run_id: str
    method: int = Field(
        1,
        description=(
            "The arithmetic the total was computed with (GRADING_METHOD when recorded); records"
            " without it predate stated scales and are recomputed as they were computed"
        ),
    )


def grade_sheets(
    rubric: RubricRules,
    sheets: list[ScoreSheet],
    method: int = GRADING_METHOD,
    completion: Mapping[str, float | None] | None = None,
) -> tuple[dict[str, float], float, list[str], Grade]:
    """The averages, total, vetoes and absolute grade; ``completion`` as :func:`average_scores`
    takes it (the indicators scored from targets)."""
    averaged = average_scores(rubric, sheets, method, completion)
    total = total_score(rubric, averaged, method)
    vetoes = sorted({v for s in sheets for v in s.vetoes})
    return averaged, total, vetoes, absolute_grade(rubric.grades, total, bool(vetoes))


def recompute(record: DecisionRecord) -> tuple[float, Grade]:
    """The total and absolute grade that the record's inputs give."""
    if record.reason != "scored":
        return record.total, Grade.FAIL
    _, total, _, grade = grade_sheets(
        record.rubric, record.sheets, record.method, record.target_completion
    )
    return total, grade


@dataclass(frozen=True)
class Regrade:
    base: str
    old_total: float
    old_grade: Grade
    new_total: float
    new_grade: Grade
    reason: str
    reason_zh: str = ""


def _regrade_method(record: DecisionRecord, rubric: RubricRules) -> int:
    """The record's own arithmetic while the scoring part of the rubric is unchanged, so the
    same rules give the same totals; today's arithmetic under other scoring."""
    scoring = ("scale", "total_decimals", "indicators")
    same = all(getattr(rubric, f) == getattr(record.rubric, f) for f in scoring)
    return record.method if same else GRADING_METHOD


def regrade_year(records: list[DecisionRecord], rubric: RubricRules) -> list[Regrade]:
    """Each base's yearly grade under another rubric, computed from its decision record alone.

    Overdue fails stay fails (nothing was scored). A rubric whose indicators the experts did
    not score, or on another scale than they scored on, cannot be applied, and says why.
    """
    yearly = [r for r in records if r.round == 0]
    fresh: dict[str, RankInput] = {}
    for record in yearly:
        if record.reason != "scored":
            fresh[record.base] = RankInput(total=record.total, grade=Grade.FAIL, scored=False)
            continue
        if record.rubric.scale != rubric.scale:
            raise ValueError(
                f"{record.base}: the experts scored on the {record.rubric.scale} scale, not"
                f" {rubric.scale}"
            )
        computed = computed_keys(rubric)
        recorded = record.target_completion or {}
        unrecorded = [k for k in computed if k not in recorded]
        if unrecorded:
            raise ValueError(
                f"{record.base}: no target completion was recorded for {', '.join(unrecorded)}"
            )
        missing = [
            k
            for k in rubric.keys
            if k not in computed and any(k not in s.scores for s in record.sheets)
        ]
        if missing:
            raise ValueError(f"{record.base}: the experts did not score {', '.join(missing)}")
        sheets = [
            s.model_copy(update={"scores": {k: s.scores[k] for k in rubric.keys if k in s.scores}})
            for s in record.sheets
        ]
        method = _regrade_method(record, rubric)
        _, total, _, grade = grade_sheets(rubric, sheets, method, recorded if computed else None)
        fresh[record.base] = RankInput(total=total, grade=grade)
    ranked = rank_year(rubric.grades, fresh)
    return [
        Regrade(
            record.base,
            record.total,
            record.grade,
            fresh[record.base].total,
            ranked[record.base].grade,
            ranked[record.base].reason_en,
            ranked[record.base].reason_zh,
        )
        for record in sorted(yearly, key=lambda r: r.base)
    ]
