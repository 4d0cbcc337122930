"""Relative grades ('excellent: top N%') as the rules define them: population, count, ties, floor.

The four cases of issue 11 first, then properties that check the quota itself.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.grading import (
    Grade,
    RankInput,
    excellent_quota,
    rank_year,
    relative_grades,
)
from shared.domain.rules import GradeThresholds


def thresholds(top: float = 15, pass_: float = 60, **relative: Any) -> GradeThresholds:
    return GradeThresholds.model_validate(
        {"excellent": f"top {top:g}%", "pass": pass_, "relative": relative}
    )


def scored(total: float, pass_: float = 60) -> RankInput:
    return RankInput(total=total, grade=Grade.PASS if total >= pass_ else Grade.FAIL)


OVERDUE = RankInput(total=0.0, grade=Grade.FAIL, scored=False)


def excellent(ranked: dict[str, Any]) -> list[str]:
    return sorted(b for b, r in ranked.items() if r.grade == Grade.EXCELLENT)


# ------------------------------------------------------------------- the four cases


def test_bases_that_never_filed_do_not_count_towards_the_quota() -> None:
    # 10 scored bases and 10 that never filed: top 10% of the scored is 1, not 2.
    results = {f"s{i}": scored(95 - i) for i in range(10)} | {f"o{i}": OVERDUE for i in range(10)}
    ranked = rank_year(thresholds(10), results)
    assert excellent(ranked) == ["s0"]
    assert ranked["s0"].population == 10 and ranked["s0"].quota == 1
    assert ranked["s0"].reason_zh.startswith("第1名/共10个参评基地，优秀名额1个（前10%，四舍五入）")
    assert ranked["s0"].reason_en.startswith(
        "ranked 1 of 10 scored bases; excellent quota 1 (top 10%, rounded)"
    )
    assert ranked["o3"].grade == Grade.FAIL and ranked["o3"].rank is None
    assert "不计入参评基地" in ranked["o3"].reason_zh
    # Counting every base, as before, is a rule a program may state.
    everyone = rank_year(thresholds(10, population="all"), results)
    assert excellent(everyone) == ["s0", "s1"] and everyone["s0"].population == 20


def test_ten_bases_tied_at_88_under_top_10_percent_are_not_all_excellent() -> None:
    results = {f"t{i}": scored(88) for i in range(10)} | {f"b{i}": scored(70) for i in range(10)}
    ranked = rank_year(thresholds(10), results)  # quota 2, ten tied for it
    assert excellent(ranked) == []
    assert ranked["t0"].rank == 1 and ranked["t0"].quota == 2
    assert "10个基地并列于名额边界" in ranked["t0"].reason_zh
    assert "tied at the quota's edge" in ranked["t0"].reason_en
    generous = rank_year(thresholds(10, ties="all_in"), results)
    assert excellent(generous) == sorted(f"t{i}" for i in range(10))


def test_six_bases_under_top_15_percent_give_one_excellent() -> None:
    results = {f"b{i}": scored(90 - i) for i in range(6)}
    assert excellent(rank_year(thresholds(15), results)) == ["b0"]  # 0.9 rounds to 1
    assert excellent(rank_year(thresholds(15, count="floor"), results)) == []
    assert excellent(rank_year(thresholds(15, count="floor", at_least_one=True), results)) == ["b0"]


def test_a_61_is_never_excellent_by_default() -> None:
    results = {"a": scored(61), "b": scored(55), "c": scored(40)}
    ranked = rank_year(thresholds(50), results)
    assert excellent(ranked) == []
    assert ranked["a"].reason_zh.endswith("总分61分，低于优秀最低分85分")
    # Without a floor, passing is the only condition left.
    assert excellent(rank_year(thresholds(50, min_total=None), results)) == ["a"]


def test_the_floor_is_never_below_the_pass_threshold() -> None:
    rules = thresholds(50, pass_=70, min_total=50)
    assert rules.relative_min_total == 70
    assert excellent(rank_year(rules, {"a": scored(65, 70), "b": scored(60, 70)})) == []


def test_a_vetoed_top_total_is_never_excellent() -> None:
    vetoed = RankInput(total=99, grade=Grade.FAIL)
    ranked = rank_year(thresholds(50), {"v": vetoed, "a": scored(90)})
    assert ranked["v"].grade == Grade.FAIL and "否决项" in ranked["v"].reason_zh
    assert excellent(ranked) == ["a"]


def test_absolute_grades_stand_with_their_reasons() -> None:
    rules = GradeThresholds.model_validate({"excellent": 85, "pass": 60})
    ranked = rank_year(
        rules, {"a": RankInput(total=87.4, grade=Grade.EXCELLENT), "b": scored(50), "o": OVERDUE}
    )
    assert ranked["a"].grade == Grade.EXCELLENT and ranked["a"].quota is None
    assert ranked["a"].reason_zh == "总分87.4分，达到优秀线85分"
    assert ranked["b"].reason_en == "total 50, below the pass line 60"
    assert ranked["o"].reason_zh == "未评分（逾期未提交）"


def test_old_documents_read_with_the_defaults() -> None:
    old = GradeThresholds.model_validate({"excellent": "top 15%", "pass": 60})
    assert old.relative.population == "scored" and old.relative.count == "round"
    assert old.relative.ties == "none_in" and old.relative.min_total == 85
    again = GradeThresholds.model_validate(old.model_dump(by_alias=True))
    assert again == old


@pytest.mark.parametrize(
    ("population", "top", "count", "at_least_one", "quota"),
    [
        (6, 15, "round", False, 1),
        (6, 15, "floor", False, 0),
        (6, 15, "ceil", False, 1),
        (10, 25, "round", False, 3),  # 2.5 rounds half up, not to even
        (30, 25, "round", False, 8),  # 7.5
        (3, 10, "round", False, 0),
        (3, 10, "round", True, 1),
        (0, 10, "round", True, 0),
    ],
)
def test_quota_counting(
    population: int, top: float, count: str, at_least_one: bool, quota: int
) -> None:
    rules = thresholds(top, count=count, at_least_one=at_least_one)
    assert excellent_quota(rules, population) == quota


# ------------------------------------------------------------------------------ properties

# Few distinct totals, so ties at the quota's edge are common; any float now and then.
_TOTALS = st.sampled_from([50.0, 60.0, 70.0, 85.0, 88.0, 90.0, 95.0]) | st.floats(0, 100)
_RESULTS = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=3),
    st.tuples(_TOTALS, st.booleans(), st.booleans()),  # total, scored, vetoed
    min_size=1,
    max_size=40,
)
_RULES = st.fixed_dictionaries(
    {
        "top": st.integers(1, 100),
        "population": st.sampled_from(["scored", "all"]),
        "count": st.sampled_from(["round", "floor", "ceil"]),
        "at_least_one": st.booleans(),
        "ties": st.sampled_from(["none_in", "all_in"]),
        "min_total": st.none() | st.sampled_from([60.0, 70.0, 85.0, 90.0]),
    }
)


def _inputs(raw: dict[str, tuple[float, bool, bool]]) -> dict[str, RankInput]:
    out = {}
    for base, (total, is_scored, vetoed) in raw.items():
        if not is_scored:
            out[base] = OVERDUE
        else:
            fail = vetoed or total < 60
            out[base] = RankInput(total=total, grade=Grade.FAIL if fail else Grade.PASS)
    return out


def _expected_quota(size: int, top: int, count: str, at_least_one: bool) -> int:
    share = Decimal(size) * top / 100
    if count == "round":
        quota = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        quota = math.floor(share) if count == "floor" else math.ceil(share)
    return max(quota, 1) if at_least_one and size else quota


@given(_RESULTS, _RULES)
def test_excellent_count_is_the_stated_quota_of_the_stated_population(
    raw: dict[str, tuple[float, bool, bool]], rule: dict[str, Any]
) -> None:
    top = rule.pop("top")
    rules = thresholds(top, **rule)
    inputs = _inputs(raw)
    ranked = rank_year(rules, inputs)
    population = [b for b, r in inputs.items() if r.scored or rule["population"] == "all"]
    quota = _expected_quota(len(population), top, rule["count"], rule["at_least_one"])
    floor = max(rule["min_total"] or 60, 60)
    eligible = sorted(
        (r.total for b, r in inputs.items() if b in population and r.grade != Grade.FAIL),
        reverse=True,
    )
    eligible = [t for t in eligible if t >= floor]
    chosen = [inputs[b].total for b in excellent(ranked)]
    assert all(r.quota == quota and r.population == len(population) for r in ranked.values())
    if quota >= len(eligible):
        assert len(chosen) == len(eligible)
    elif quota == 0:
        assert chosen == []
    else:
        boundary = eligible[quota - 1]
        tie_at_edge = eligible[quota] == boundary
        if not tie_at_edge:
            assert len(chosen) == quota
        elif rule["ties"] == "none_in":
            # The quota is a ceiling: the whole tied group is out, everything above it is in.
            assert sorted(chosen, reverse=True) == [t for t in eligible if t > boundary]
        else:
            assert sorted(chosen, reverse=True) == [t for t in eligible if t >= boundary]


@given(_RESULTS, _RULES)
def test_no_failing_unscored_or_below_floor_base_is_excellent(
    raw: dict[str, tuple[float, bool, bool]], rule: dict[str, Any]
) -> None:
    rules = thresholds(rule.pop("top"), **rule)
    inputs = _inputs(raw)
    ranked = rank_year(rules, inputs)
    for base in excellent(ranked):
        result = inputs[base]
        assert result.scored and result.grade != Grade.FAIL
        assert result.total >= rules.relative_min_total
    for base, result in inputs.items():
        if result.grade == Grade.FAIL:
            assert ranked[base].grade == Grade.FAIL
        if not result.scored and rule["population"] == "scored":
            assert ranked[base].rank is None


_ORDER = {Grade.FAIL: 0, Grade.PASS: 1, Grade.EXCELLENT: 2}


@given(_RESULTS, _RULES)
def test_equal_totals_equal_grades_and_a_higher_total_never_ranks_lower(
    raw: dict[str, tuple[float, bool, bool]], rule: dict[str, Any]
) -> None:
    rules = thresholds(rule.pop("top"), **rule)
    inputs = _inputs(raw)
    ranked = rank_year(rules, inputs)
    # Among bases the thresholds pass (no veto, scored), grades follow totals.
    passing = [b for b, r in inputs.items() if r.grade != Grade.FAIL]
    for a in passing:
        for b in passing:
            if inputs[a].total == inputs[b].total:
                assert ranked[a].grade == ranked[b].grade
            if inputs[a].total > inputs[b].total:
                assert _ORDER[ranked[a].grade] >= _ORDER[ranked[b].grade]
                rank_a, rank_b = ranked[a].rank, ranked[b].rank
                assert rank_a is not None and rank_b is not None and rank_a < rank_b


@given(_RESULTS, _RULES)
def test_unscored_bases_change_nothing_for_a_scored_population(
    raw: dict[str, tuple[float, bool, bool]], rule: dict[str, Any]
) -> None:
    rule["population"] = "scored"
    rules = thresholds(rule.pop("top"), **rule)
    inputs = _inputs(raw)
    only_scored = {b: r for b, r in inputs.items() if r.scored}
    with_all = rank_year(rules, inputs)
    without = rank_year(rules, only_scored)
    assert {b: with_all[b] for b in only_scored} == without


@given(st.dictionaries(st.text("ab", min_size=1), _TOTALS, min_size=1, max_size=20))
def test_the_wrapper_gives_the_ranked_grades(totals: dict[str, float]) -> None:
    rules = thresholds(20)
    results = {b: (t, Grade.PASS if t >= 60 else Grade.FAIL) for b, t in totals.items()}
    wrapped = relative_grades(rules, results)
    ranked = rank_year(rules, {b: RankInput(total=t, grade=g) for b, (t, g) in results.items()})
    assert wrapped == {b: r.grade for b, r in ranked.items()}
