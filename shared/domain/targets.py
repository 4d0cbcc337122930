"""Targets as rules: a program's quantified targets (目标任务), and how actuals measure them.

A target is written once, in the program's rules, with its kind, its comparison, whether it is a
soft target (力争) or a hard one, the horizon year it must be reached by, and who answers for it
(责任单位: a lead unit and supporting units). Each year the actuals are reported against it and
:func:`evaluate` says, for that year, the figure that counts, the year's target, the completion,
the status and the progress to the horizon. Pure: no I/O, no clock.

The kinds, and the figure each counts in year Y (``start`` is the target's first year):

- ``yearly``: Y's own actual (「每年新增授权发明专利 30 件以上」). Each year is judged alone.
- ``cumulative``: the baseline value plus every actual from ``start`` to Y
  (「质押融资额度累计 2 亿元以上」). Judged at the horizon, on a straight path before it.
- ``stock``: the amount held at ``as_of`` of Y (「高价值专利数量突破 50 件」, counted like
  「截至2021年底,兴安盟拥有高价值专利25件」). Judged at the horizon, on a straight path from the
  baseline when there is one.
- ``ratio``: numerator / denominator of Y, in percent (「发明专利申请达到30%以上」). Each year
  alone.
- ``range``: Y's actual between ``value`` and ``upper`` inclusive (「15-30家」). Each year alone.
- ``yearly_average``: the mean of the actuals reported from ``start`` to Y. Judged at the horizon.
- ``milestone``: a first (零突破): reached in Y when any year from ``start`` to Y reported it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.domain.timespec import parse_month_day

TargetKind = Literal[
    "yearly", "cumulative", "stock", "ratio", "range", "yearly_average", "milestone"
]
Comparison = Literal["at_least", "more_than", "at_most"]
TargetLevel = Literal["program", "participant"]
TargetStatus = Literal[
    "met", "on_track", "behind", "pending", "missed", "missed_soft", "no_data", "not_started"
]
"""met: reached (for a yearly kind, that year); on_track / behind: before the horizon, at or past
the straight path, or short of it; pending: before the horizon with no path to judge by (a
milestone, a stock without a baseline); missed: a hard target not reached when its year is over;
missed_soft: a soft target (力争) not reached, reported as below expectation, not as a failure;
no_data: no actual reported for the year; not_started: the year is before the target's start."""

PER_YEAR_KINDS: frozenset[str] = frozenset({"yearly", "ratio", "range"})
BASELINE_KINDS: frozenset[str] = frozenset({"cumulative", "stock"})
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ratio(_Model):
    """A ratio's actual: the numerator and the denominator, as reported."""

    numerator: float = Field(ge=0)
    denominator: float = Field(ge=0)


Actual = float | int | bool | Ratio
"""A year's actual: a number, a ratio's two numbers, or whether a milestone was reached."""


class TargetError(ValueError):
    """Actuals that do not fit the target's kind; ``code`` is stable, ``args[0]`` bilingual."""

    code = "invalid_actual"


class TargetRule(_Model):
    key: str
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: str = Field("", description="件, 万元, 家, 个; a ratio is in percent")
    kind: TargetKind
    comparison: Comparison = Field(
        "at_least",
        description="at_least (以上, 不低于), more_than (突破, 超过) or at_most (不超过)",
    )
    value: float | None = Field(
        None, description="The target; a range's lower bound; left out for a milestone"
    )
    upper: float | None = Field(None, description="A range's upper bound, inclusive")
    soft: bool = Field(False, description="力争: a miss is below expectation, not a failure")
    start_year: int = Field(ge=1900, le=2200, description="The first year actuals count")
    horizon: int = Field(ge=1900, le=2200, description="The year the target must be reached by")
    baseline_year: int | None = Field(None, description="cumulative, stock: the baseline's year")
    baseline_value: float | None = Field(None, description="The amount at the baseline")
    as_of: str = Field("--12-31", description="stock: the day of the year it is counted at")
    level: TargetLevel = Field("program", description="The program's own, or each participant's")
    lead_unit: str | None = Field(None, description="牵头单位")
    supporting_units: list[str] = Field(default_factory=list, description="配合单位")
    clause: str = Field("", description="The program's own words for the target")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.fullmatch(value):
            raise ValueError("target key must be letters, digits, '-' or '_'")
        return value

    @field_validator("as_of")
    @classmethod
    def _as_of(cls, value: str) -> str:
        parse_month_day(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TargetRule:
        problems = [p for p in self._problems() if p]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _problems(self) -> list[str | None]:
        k = self.kind
        return [
            "start_year must not be after the horizon" if self.start_year > self.horizon else None,
            "a milestone has no value" if k == "milestone" and self.value is not None else None,
            f"a {k} target needs a value" if k != "milestone" and self.value is None else None,
            "only a range has an upper bound" if k != "range" and self.upper is not None else None,
            "a range needs upper >= value"
            if k == "range"
            and (self.upper is None or self.value is None or self.upper < self.value)
            else None,
            f"a {k} target takes no comparison"
            if k in {"range", "milestone"} and self.comparison != "at_least"
            else None,
            "a ratio's value is a percent, 0-100"
            if k == "ratio" and self.value is not None and not 0 <= self.value <= 100
            else None,
            "only a cumulative or stock target has a baseline"
            if k not in BASELINE_KINDS and self.baseline_year is not None
            else None,
            "baseline_year and baseline_value come together"
            if (self.baseline_year is None) != (self.baseline_value is None)
            else None,
            "the baseline year must be before start_year"
            if self.baseline_year is not None and self.baseline_year >= self.start_year
            else None,
        ]


class TargetProgress(_Model):
    """One target measured in one year."""

    key: str
    year: int = Field(description="The year asked about")
    counted_year: int = Field(description="The year measured: the horizon once it has passed")
    horizon_passed: bool
    figure: float | None = Field(description="What counts in the year (a ratio in percent)")
    target: float | None = Field(description="The year's target: on the path, or the value")
    completion: float | None = Field(description="0-100 of the year's target; 100 only if met")
    progress: float | None = Field(description="0-100 towards the horizon")
    status: TargetStatus
    soft: bool
    missing_years: list[int] = Field(default_factory=list, description="Years counted as 0")
    note: Literal["zero_denominator"] | None = None


def _round(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def meets(figure: float, comparison: Comparison, value: float) -> bool:
    if comparison == "at_least":
        return figure >= value
    if comparison == "more_than":
        return figure > value
    return figure <= value


def _capped(raw: float, met: bool) -> float:
    """0-100, and under 100 while not met, so that 'more than 50' at 50 does not read as done."""
    bounded = min(max(raw, 0.0), 100.0)
    return _round(bounded if met else min(bounded, 99.99))


def _share(figure: float, comparison: Comparison, value: float) -> float:
    """The figure as a percent of the value (at_most: the value as a percent of the figure)."""
    if comparison == "at_most":
        return 100.0 if figure <= value else (100.0 * value / figure if figure else 0.0)
    if value == 0:
        return 100.0 if meets(figure, comparison, value) else 0.0
    return 100.0 * figure / value


def _gain(figure: float, base: float, target: float, met: bool) -> float:
    """How much of the way from the base to the target the figure has come, in percent."""
    if target == base:
        return 100.0 if met else 0.0
    return 100.0 * (figure - base) / (target - base)


def _number(rule: TargetRule, year: int, actual: Actual) -> float:
    if isinstance(actual, bool) or isinstance(actual, Ratio):
        raise TargetError(
            f"目标 {rule.key} 的 {year} 年实际值应为数值 / target {rule.key}: the {year} actual"
            " must be a number"
        )
    return float(actual)


def _checked(rule: TargetRule, actuals: Mapping[int, Actual]) -> dict[int, Actual]:
    """The actuals of the target's years, each of the kind's type; other years are ignored."""
    years = {y: a for y, a in actuals.items() if rule.start_year <= y <= rule.horizon}
    for y, actual in years.items():
        if rule.kind == "ratio" and not isinstance(actual, Ratio):
            raise TargetError(
                f"目标 {rule.key} 的 {y} 年实际值应为分子与分母 / target {rule.key}: the {y}"
                " actual must be a numerator and a denominator"
            )
        if rule.kind == "milestone" and not isinstance(actual, bool):
            raise TargetError(
                f"目标 {rule.key} 的 {y} 年实际值应为是否实现 / target {rule.key}: the {y}"
                " actual must say whether it was reached (true or false)"
            )
        if rule.kind not in {"ratio", "milestone"}:
            _number(rule, y, actual)
    return years


def _miss(rule: TargetRule) -> TargetStatus:
    return "missed_soft" if rule.soft else "missed"


def evaluate(rule: TargetRule, actuals: Mapping[int, Actual], year: int) -> TargetProgress:
    """Measure ``rule`` in ``year`` from the actuals reported so far (year -> actual).

    A year before ``start_year`` is ``not_started``; a year after the horizon is measured as the
    horizon year (``horizon_passed``), since the target ends there. Actuals outside the target's
    years are ignored; one of the wrong type raises :class:`TargetError`. Completion and
    progress are percentages rounded half up to two decimals, 0-100, and 100 only when met.
    """
    counted = min(year, rule.horizon)
    base = TargetProgress(
        key=rule.key,
        year=year,
        counted_year=counted,
        horizon_passed=year > rule.horizon,
        figure=None,
        target=rule.value,
        completion=None,
        progress=None,
        status="not_started",
        soft=rule.soft,
    )
    if year < rule.start_year:
        return base
    years = _checked(rule, actuals)
    if rule.kind in PER_YEAR_KINDS:
        return _per_year(rule, years, counted, base)
    if rule.kind == "milestone":
        return _milestone(rule, years, counted, base)
    if rule.kind == "yearly_average":
        return _average(rule, years, counted, base)
    return _path(rule, years, counted, base)


def _year_figure(rule: TargetRule, actual: Actual) -> float | None:
    if isinstance(actual, Ratio):
        if actual.denominator == 0:
            return None
        return 100.0 * actual.numerator / actual.denominator
    return _number(rule, 0, actual)


def _year_met(rule: TargetRule, figure: float) -> bool:
    assert rule.value is not None
    if rule.kind == "range":
        assert rule.upper is not None
        return rule.value <= figure <= rule.upper
    return meets(figure, rule.comparison, rule.value)


def _year_completion(rule: TargetRule, figure: float) -> float:
    """Range: 100 inside; below, the share of the lower bound; above, upper / figure."""
    assert rule.value is not None
    met = _year_met(rule, figure)
    if rule.kind == "range":
        assert rule.upper is not None
        if figure > rule.upper:
            return _capped(100.0 * rule.upper / figure, met)
        return _capped(_share(figure, "at_least", rule.value), met)
    return _capped(_share(figure, rule.comparison, rule.value), met)


def _per_year(
    rule: TargetRule, years: dict[int, Actual], counted: int, base: TargetProgress
) -> TargetProgress:
    """yearly, ratio, range: each year is judged alone and is final once reported (met, or
    missed / missed_soft). Progress to the horizon is the share of the target's years met so
    far, so it is 100 only when every year from the start to the horizon was met. A ratio whose
    denominator is 0 has no figure: ``no_data`` with the note ``zero_denominator``."""
    figures = {y: _year_figure(rule, a) for y, a in years.items() if y <= counted}
    met_years = sum(1 for f in figures.values() if f is not None and _year_met(rule, f))
    span = rule.horizon - rule.start_year + 1
    progress = _capped(100.0 * met_years / span, met_years == span)
    figure = figures.get(counted)
    if figure is None:
        note = "zero_denominator" if counted in figures else None
        return base.model_copy(update={"status": "no_data", "progress": progress, "note": note})
    met = _year_met(rule, figure)
    return base.model_copy(
        update={
            "figure": _round(figure),
            "completion": _year_completion(rule, figure),
            "progress": progress,
            "status": "met" if met else _miss(rule),
        }
    )


def _milestone(
    rule: TargetRule, years: dict[int, Actual], counted: int, base: TargetProgress
) -> TargetProgress:
    """Reached once any year from the start reported true; it stays reached. Not reached:
    ``pending`` before the horizon, missed (missed_soft) at it; no actual in the year and not
    reached before: ``no_data``."""
    reached = any(a is True for y, a in years.items() if y <= counted)
    if not reached and counted not in years:
        return base.model_copy(update={"status": "no_data", "progress": 0.0})
    status: TargetStatus = (
        "met" if reached else (_miss(rule) if counted == rule.horizon else "pending")
    )
    done = 100.0 if reached else 0.0
    return base.model_copy(
        update={
            "figure": 1.0 if reached else 0.0,
            "target": 1.0,
            "completion": done,
            "progress": done,
            "status": status,
        }
    )


def _average(
    rule: TargetRule, years: dict[int, Actual], counted: int, base: TargetProgress
) -> TargetProgress:
    """The mean of the actuals reported from the start to the year (unreported years are left out
    of the mean and listed as missing). Before the horizon the mean at or past the value is
    ``on_track``, else ``behind``; at the horizon, met or missed. Progress is the completion."""
    assert rule.value is not None
    if counted not in years:
        return base.model_copy(update={"status": "no_data"})
    reported = [_number(rule, y, a) for y, a in years.items() if y <= counted]
    missing = [y for y in range(rule.start_year, counted) if y not in years]
    mean = sum(reported) / len(reported)
    ok = meets(mean, rule.comparison, rule.value)
    final = counted == rule.horizon
    status: TargetStatus = (
        ("met" if ok else _miss(rule)) if final else ("on_track" if ok else "behind")
    )
    completion = _capped(_share(mean, rule.comparison, rule.value), ok)
    return base.model_copy(
        update={
            "figure": _round(mean),
            "completion": completion,
            "progress": completion,
            "status": status,
            "missing_years": missing,
        }
    )


def path_target(rule: TargetRule, year: int) -> float | None:
    """cumulative, stock: the year's point on the straight line from the baseline (its value at
    its year; a cumulative without one starts from 0 the year before ``start_year``) to the value
    at the horizon. A stock without a baseline has no path: None."""
    assert rule.value is not None
    if rule.kind == "stock" and rule.baseline_value is None:
        return None
    start = rule.baseline_value or 0.0
    since = rule.baseline_year if rule.baseline_year is not None else rule.start_year - 1
    return start + (rule.value - start) * (year - since) / (rule.horizon - since)


def _path(
    rule: TargetRule, years: dict[int, Actual], counted: int, base: TargetProgress
) -> TargetProgress:
    """cumulative, stock. The figure reaching the value is ``met`` in any year; otherwise at the
    horizon it is missed (missed_soft), and before it ``on_track`` when the figure compares with
    the year's point on the path as it must with the value (at least, more than, at most),
    ``behind`` when short of it, ``pending`` when there is no path. Completion
    and progress measure the gain from the baseline: (figure - baseline) / (target - baseline),
    against the year's point and against the value; without a baseline, figure / target. A
    cumulative counts unreported earlier years as 0 and lists them as missing."""
    assert rule.value is not None
    if counted not in years:
        return base.model_copy(update={"status": "no_data"})
    if rule.kind == "cumulative":
        figure = (rule.baseline_value or 0.0) + sum(
            _number(rule, y, a) for y, a in years.items() if y <= counted
        )
        missing = [y for y in range(rule.start_year, counted) if y not in years]
    else:
        figure, missing = _number(rule, counted, years[counted]), []
    point = path_target(rule, counted)
    done = meets(figure, rule.comparison, rule.value)
    on_path = point is not None and meets(figure, rule.comparison, point)
    status: TargetStatus
    if done:
        status = "met"
    elif counted == rule.horizon:
        status = _miss(rule)
    else:
        status = "on_track" if on_path else ("pending" if point is None else "behind")
    year_target = rule.value if point is None else point
    return base.model_copy(
        update={
            "figure": _round(figure),
            "target": _round(year_target),
            "completion": _capped(
                _measure(rule, figure, year_target, on_path or done), on_path or done
            ),
            "progress": _capped(_measure(rule, figure, rule.value, done), done),
            "status": status,
            "missing_years": missing,
        }
    )


def _measure(rule: TargetRule, figure: float, target: float, met: bool) -> float:
    baseline = (
        rule.baseline_value
        if rule.baseline_value is not None
        else (0.0 if rule.kind == "cumulative" else None)
    )
    if baseline is None:
        return _share(figure, rule.comparison, target)
    return _gain(figure, baseline, target, met)


class TargetScore(_Model):
    """An indicator scored from a target's completion: at or below ``zero_at`` percent it scores
    0, at or above ``full_at`` its full marks, and on the straight line between."""

    key: str
    zero_at: float = Field(0, ge=0, lt=100, description="Completion (percent) that scores 0")
    full_at: float = Field(100, gt=0, le=100, description="Completion that scores full marks")

    @model_validator(mode="after")
    def _ordered(self) -> TargetScore:
        if self.zero_at >= self.full_at:
            raise ValueError("zero_at must be below full_at")
        return self


def score_from_completion(
    completion: float | None, link: TargetScore, maximum: float, decimals: int = 2
) -> float:
    """The indicator's score on its scale (0..``maximum``); no completion (no actual) scores 0."""
    if completion is None or completion <= link.zero_at:
        return 0.0
    if completion >= link.full_at:
        return float(maximum)
    share = (Decimal(str(completion)) - Decimal(str(link.zero_at))) / (
        Decimal(str(link.full_at)) - Decimal(str(link.zero_at))
    )
    score = share * Decimal(str(maximum))
    return float(score.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
