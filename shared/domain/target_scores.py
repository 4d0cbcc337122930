"""Indicators scored from targets (``from_target``): which completion each one reads, and the
score it gives. Pure: no I/O, no clock.

An indicator with ``from_target`` is not scored by experts; its score is
:func:`~shared.domain.targets.score_from_completion` of one completion, in percent, read from the
participant's self-evaluation (its ``actuals``, one figure per key, for the cycle's year):

- the indicator names a **participant-level** target of the rules (each unit's own, such as
  Xiqing's ``unit_invention_share`` or the CNIPA zones' ``micro_navigation_projects``): the
  completion :func:`~shared.domain.targets.evaluate` gives that rule for the year, from the
  actual reported under the target's key. A ratio's actual is its percent (``32.5`` for 32.5%),
  a milestone's is reached when not 0. Only the year's own actual is read, so a cumulative or
  yearly-average target counts earlier years as not reported;
- the indicator names a **program-level** target: the participant's own plan target of that key
  (its share of the program's target), completed as the decision's ``completion`` is
  (:func:`~shared.domain.grading.completion_rates`: actual over target), in percent, at most 100.

No actual (or one that is not a finite number), no plan target of the key, or a year outside the
target's years: no completion, and the indicator scores 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from shared.domain.rules import Indicator, ProgramRules, RubricRules
from shared.domain.targets import Actual, Ratio, TargetRule, evaluate, score_from_completion

COMPUTED_INDICATOR = "computed_indicator"
"""The stable code of a score sent for an indicator the cycle computes."""


def computed_keys(rubric: RubricRules) -> list[str]:
    """The rubric's indicators scored from targets, in the rubric's order."""
    return [i.key for i in rubric.indicators if i.from_target is not None]


def _self_evaluation_actual(rule: TargetRule, value: float) -> Actual:
    if rule.kind == "ratio":
        return Ratio(numerator=max(value, 0.0), denominator=100.0)
    if rule.kind == "milestone":
        return value != 0
    return value


def _plan_completion(target: float, actual: float) -> float:
    """Actual over target as completion_rates computes it, in percent, at most 100."""
    if target == 0:
        return 100.0 if actual >= 0 else 0.0
    return min(round(round(actual / target, 4) * 100, 2), 100.0)


def target_completion(
    rule: TargetRule,
    year: int,
    actuals: Mapping[str, float],
    plan_targets: Mapping[str, float],
) -> float | None:
    """The completion (0-100) the indicator scored from ``rule`` reads; ``None``: none."""
    value = actuals.get(rule.key)
    if value is None or not math.isfinite(value):
        return None
    if rule.level == "participant":
        actual = _self_evaluation_actual(rule, value)
        return evaluate(rule, {year: actual}, year).completion
    target = plan_targets.get(rule.key)
    if target is None:
        return None
    return _plan_completion(target, value)


def indicator_completions(
    rubric: RubricRules,
    targets: list[TargetRule],
    year: int,
    actuals: Mapping[str, float],
    plan_targets: Mapping[str, float],
) -> dict[str, float | None]:
    """Each from_target indicator's completion (indicator key -> percent or ``None``): what the
    decision record carries, so that :func:`computed_scores` reproduces the scores from it."""
    rules = {t.key: t for t in targets}
    out: dict[str, float | None] = {}
    for indicator in rubric.indicators:
        link = indicator.from_target
        if link is None:
            continue
        rule = rules.get(link.key)
        out[indicator.key] = (
            None if rule is None else target_completion(rule, year, actuals, plan_targets)
        )
    return out


def indicator_score(rubric: RubricRules, indicator: Indicator, completion: float | None) -> float:
    """The score on the rubric's scale that ``completion`` gives a from_target indicator."""
    assert indicator.from_target is not None
    return score_from_completion(
        completion,
        indicator.from_target,
        indicator.maximum(rubric.scale),
        rubric.total_decimals,
    )


def computed_scores(
    rubric: RubricRules, completions: Mapping[str, float | None]
) -> dict[str, float]:
    """The scores of the rubric's from_target indicators from the recorded completions (an
    indicator without one scores 0)."""
    return {
        i.key: indicator_score(rubric, i, completions.get(i.key))
        for i in rubric.indicators
        if i.from_target is not None
    }


def cycle_completions(
    rules: ProgramRules,
    year: int,
    actuals: Mapping[str, float],
    plan_targets: Mapping[str, float],
) -> dict[str, float | None] | None:
    """What a cycle's decision record carries as ``target_completion``: each from_target
    indicator's completion, or ``None`` when the rubric has none (the experts score every
    indicator, as before)."""
    if not computed_keys(rules.rubric):
        return None
    return indicator_completions(rules.rubric, rules.targets, year, actuals, plan_targets)
