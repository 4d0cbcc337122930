"""Outcome rules: tiers, promotion, exit after N consecutive fails and the ban that follows it,
each decided from the final grades with its record; nothing when no rule applies."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.outcome_rules import (
    FinalGrade,
    OutcomeDecision,
    YearGrade,
    decide_outcomes,
    lookback,
)
from shared.domain.rules import ProgramRules, RulesError, parse_rules, rules_digest
from tests.helpers import demo_rules

TIER_A = {
    "key": "A",
    "grade": "excellent",
    "words_zh": "给予A档资金支持",
    "words_en": "tier A funding support",
    "amount_yuan": 300000,
}
TIER_B = {"key": "B", "grade": "pass", "words_zh": "给予B档支持", "words_en": "tier B support"}
PROMOTION = {"years": 3, "to_zh": "推荐申报国家级基地", "to_en": "recommended for national level"}
EXIT_CLAUSE = "seed 002: 「连续两年考核不合格的，予以退出」"


def outcome_rules(**outcomes: Any) -> ProgramRules:
    rules = demo_rules()
    document = rules.model_dump(mode="json", by_alias=True)
    document["outcomes"].update(outcomes)
    document["provenance"] = {"outcomes.exit": EXIT_CLAUSE, "outcomes.tiers.A": "chosen: 奖励"}
    return parse_rules(document)


RULES = outcome_rules(tiers=[TIER_A, TIER_B], promotion=PROMOTION, exit={"fails": 2})


def test_an_excellent_grade_gets_its_tier_with_words_amount_and_clause() -> None:
    assert decide_outcomes(RULES, "excellent", {}, year=2026) == [
        OutcomeDecision(
            kind="tier",
            rule="outcomes.tiers.A",
            clause="chosen: 奖励",
            grades=[YearGrade(year=2026, grade="excellent")],
            words_zh="2026年度评估优秀，给予A档资金支持（300000元）",
            words_en="graded excellent in 2026: tier A funding support (300000 yuan)",
            tier="A",
            amount_yuan=300000,
        )
    ]


def test_a_pass_gets_the_pass_tier_without_an_amount() -> None:
    [decision] = decide_outcomes(RULES, "pass", {2025: "fail"}, year=2026)
    assert (decision.tier, decision.amount_yuan, decision.clause) == ("B", None, "")
    assert decision.words_zh == "2026年度评估合格，给予B档支持"


def test_two_consecutive_fails_exit_with_both_years_in_the_record() -> None:
    [decision] = decide_outcomes(RULES, "fail", {2025: "fail", 2024: "pass"}, year=2026)
    assert decision == OutcomeDecision(
        kind="exit",
        rule="outcomes.exit",
        clause=EXIT_CLAUSE,
        grades=[YearGrade(year=2025, grade="fail"), YearGrade(year=2026, grade="fail")],
        words_zh="连续2年（2025—2026年度）评估不合格，予以摘牌，退出基地序列",
        words_en="failed 2 years running (2025-2026): de-listed: the base leaves the programme",
    )


def test_fails_broken_by_a_pass_or_a_year_without_a_grade_do_not_exit() -> None:
    assert decide_outcomes(RULES, "fail", {2025: "pass", 2024: "fail"}, year=2026) == []
    assert decide_outcomes(RULES, "fail", {2025: None, 2024: "fail"}, year=2026) == []
    assert decide_outcomes(RULES, "fail", {2024: "fail"}, year=2026) == []


def test_a_run_decides_once_when_it_reaches_its_length() -> None:
    """A third fail in a row is not a second exit: the run reached two a year before."""
    assert decide_outcomes(RULES, "fail", {2025: "fail", 2024: "fail"}, year=2026) == []


def test_the_exit_comes_with_the_reapplication_ban() -> None:
    rules = outcome_rules(exit={"fails": 2}, reapplication_ban="P2Y")
    exit_, ban = decide_outcomes(rules, "fail", {2025: "fail"}, year=2026)
    assert exit_.kind == "exit"
    assert ban == OutcomeDecision(
        kind="reapplication_ban",
        rule="outcomes.reapplication_ban",
        clause="",
        grades=exit_.grades,
        words_zh="摘牌退出后2年内不得重新申报",
        words_en="may not re-apply for 2 years after the exit",
        ban="P2Y",
    )


def test_the_exit_clause_falls_back_to_the_programs_delisting_clause() -> None:
    document = outcome_rules(exit={"fails": 1}).model_dump(mode="json", by_alias=True)
    document["provenance"] = {}
    document["clauses"]["delisting"] = "连续两年不合格的摘牌"
    [decision] = decide_outcomes(parse_rules(document), "fail", {}, year=2026)
    assert (decision.clause, decision.grades) == (
        "连续两年不合格的摘牌",
        [YearGrade(year=2026, grade="fail")],
    )


def test_three_excellent_years_promote_alongside_the_tier() -> None:
    earlier: dict[int, FinalGrade | None] = {2025: "excellent", 2024: "excellent", 2023: "pass"}
    tier, promotion = decide_outcomes(RULES, "excellent", earlier, year=2026)
    assert tier.kind == "tier"
    assert promotion.kind == "promotion" and promotion.rule == "outcomes.promotion"
    assert [g.year for g in promotion.grades] == [2024, 2025, 2026]
    assert promotion.words_zh == "连续3年（2024—2026年度）评估优秀，推荐申报国家级基地"
    assert promotion.words_en == (
        "graded excellent 3 years running (2024-2026): recommended for national level"
    )
    assert [
        d.kind for d in decide_outcomes(RULES, "excellent", {2025: "excellent"}, year=2026)
    ] == ["tier"]


def test_no_rule_applies_no_decision() -> None:
    plain = demo_rules()
    grades: list[FinalGrade | None] = ["excellent", "pass", "fail", None]
    for grade in grades:
        assert decide_outcomes(plain, grade, {2025: "fail"}, year=2026) == []
    assert decide_outcomes(RULES, None, {2025: "fail"}, year=2026) == []
    assert lookback(plain) == 0 and lookback(RULES) == 3


def test_unused_outcome_rules_leave_the_digest_alone_and_used_ones_change_it() -> None:
    plain = demo_rules()
    document = plain.model_dump(mode="json", by_alias=True)
    assert rules_digest(parse_rules(document)) == rules_digest(plain)
    assert rules_digest(outcome_rules(exit={"fails": 2})) != rules_digest(outcome_rules())


@pytest.mark.parametrize(
    ("outcomes", "field"),
    [
        ({"tiers": [TIER_A, TIER_A]}, "outcomes.tiers"),
        ({"exit": {"fails": 0}}, "outcomes.exit.fails"),
        ({"promotion": {**PROMOTION, "years": 11}}, "outcomes.promotion.years"),
        ({"tiers": [{**TIER_A, "grade": "fail"}]}, "outcomes.tiers.0.grade"),
    ],
)
def test_bad_outcome_rules_name_their_field(outcomes: dict[str, Any], field: str) -> None:
    with pytest.raises(RulesError) as caught:
        outcome_rules(**outcomes)
    assert [e["field"] for e in caught.value.errors] == [field]
