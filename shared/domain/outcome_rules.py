"""Outcome rules: what a participant's final grade leads to, with the record of each decision.

A program's ``outcomes`` may give support or reward tiers by grade (优秀 → A档奖励), a promotion
after K consecutive years of a grade (连续K年优秀 → 晋升), an exit after N consecutive fails
(连续N年不合格 → 摘牌退出) and, with an exit, the ban on re-applying that ``reapplication_ban``
states. Each applies once the year's results are final, to the final grades: this year's and
those of the years before it (:func:`decide_outcomes`). Pure.

A run of K (or N) years counts only years that follow each other, each with that final grade; a
year without a final grade (no cycle, or excluded) ends a run. A rule decides in the year its
run reaches K (or N), not again while the run goes on, so one run leads to one decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.wording import period_en, period_zh

if TYPE_CHECKING:
    from shared.domain.rules import ProgramRules

FinalGrade = Literal["excellent", "pass", "fail"]
RewardedGrade = Literal["excellent", "pass"]
OutcomeKind = Literal["tier", "promotion", "exit", "reapplication_ban"]
GRADE_WORDS: dict[str, tuple[str, str]] = {
    "excellent": ("优秀", "excellent"),
    "pass": ("合格", "pass"),
    "fail": ("不合格", "fail"),
}
MAX_RUN = 10  # the longest run a rule may ask for: what the program year reads back is bounded


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RewardTier(_Model):
    """A support or reward tier (支持/奖励档次) for the bases of one final grade."""

    key: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The tier, e.g. A")
    grade: RewardedGrade
    words_zh: str = Field(min_length=1, description="The reward: 「给予A档资金支持」")
    words_en: str = Field(min_length=1, description="The reward: 'tier A funding support'")
    amount_yuan: int | None = Field(None, ge=0, description="The amount in yuan, if the rule says")


class PromotionRule(_Model):
    """Promotion to a higher level (晋升) after ``years`` consecutive years of ``grade``."""

    grade: RewardedGrade = "excellent"
    years: int = Field(ge=1, le=MAX_RUN, description="This year and the years just before it")
    to_zh: str = Field(min_length=1, description="What the base becomes: 「推荐申报国家级基地」")
    to_en: str = Field(min_length=1)


class ExitRule(_Model):
    """Exit (摘牌/退出) after ``fails`` consecutive years graded fail."""

    fails: int = Field(ge=1, le=MAX_RUN, description="This year and the years just before it")
    words_zh: str = Field("予以摘牌，退出基地序列", min_length=1)
    words_en: str = Field("de-listed: the base leaves the programme", min_length=1)


class YearGrade(_Model):
    year: int
    grade: FinalGrade | None = Field(description="None: no final grade that year")


class OutcomeDecision(_Model):
    """One outcome and its decision record: the rule, its clause, the grades it was read from."""

    kind: OutcomeKind
    rule: str = Field(description="The rules path it applies: outcomes.tiers.A, outcomes.exit")
    clause: str = Field("", description="The rule's provenance: 'seed NNN: 「…」' or 'chosen: …'")
    grades: list[YearGrade] = Field(description="The final grades it was decided on, by year")
    words_zh: str
    words_en: str
    tier: str | None = None
    amount_yuan: int | None = None
    ban: str | None = Field(None, description="How long re-applying is refused (a duration)")

    @field_validator("grades")
    @classmethod
    def _by_year(cls, value: list[YearGrade]) -> list[YearGrade]:
        return sorted(value, key=lambda g: g.year)


def lookback(rules: ProgramRules) -> int:
    """How many years before this one the rules read: a run of N needs the N-1 years before
    this one, and the year before those to know the run starts there."""
    outcomes = rules.outcomes
    runs = [r.years for r in [outcomes.promotion] if r] + [r.fails for r in [outcomes.exit] if r]
    return max(runs, default=0)


def _run(grade: FinalGrade, year: int, earlier: dict[int, FinalGrade | None]) -> int:
    """How many years up to ``year`` (counting ``year``, graded ``grade``) have that grade."""
    length = 1
    while earlier.get(year - length) == grade:
        length += 1
    return length


def _years(year: int, length: int, grade: FinalGrade) -> list[YearGrade]:
    return [YearGrade(year=y, grade=grade) for y in range(year - length + 1, year + 1)]


def _span_zh(year: int, length: int) -> str:
    return f"{year}年度" if length == 1 else f"{year - length + 1}—{year}年度"


def _span_en(year: int, length: int) -> str:
    return f"{year}" if length == 1 else f"{year - length + 1}-{year}"


def decide_outcomes(
    rules: ProgramRules,
    grade: FinalGrade | None,
    earlier_grades: dict[int, FinalGrade | None],
    *,
    year: int,
) -> list[OutcomeDecision]:
    """What ``grade``, the final grade of ``year``, leads to under ``rules.outcomes``, given the
    final grades of earlier years (``earlier_grades``: year → grade; a year missing or None has
    none). Tiers first, then promotion, exit and its ban; empty when no rule applies."""
    if grade is None:
        return []
    outcomes, clauses = rules.outcomes, rules.provenance
    zh, en = GRADE_WORDS[grade]
    decided: list[OutcomeDecision] = []
    for tier in outcomes.tiers:
        if tier.grade != grade:
            continue
        amount_zh = f"（{tier.amount_yuan}元）" if tier.amount_yuan is not None else ""
        amount_en = f" ({tier.amount_yuan} yuan)" if tier.amount_yuan is not None else ""
        decided.append(
            OutcomeDecision(
                kind="tier",
                rule=f"outcomes.tiers.{tier.key}",
                clause=clauses.get(f"outcomes.tiers.{tier.key}", clauses.get("outcomes.tiers", "")),
                grades=_years(year, 1, grade),
                words_zh=f"{year}年度评估{zh}，{tier.words_zh}{amount_zh}",
                words_en=f"graded {en} in {year}: {tier.words_en}{amount_en}",
                tier=tier.key,
                amount_yuan=tier.amount_yuan,
            )
        )
    run = _run(grade, year, earlier_grades)
    promotion = outcomes.promotion
    if promotion is not None and promotion.grade == grade and run == promotion.years:
        decided.append(
            OutcomeDecision(
                kind="promotion",
                rule="outcomes.promotion",
                clause=clauses.get("outcomes.promotion", ""),
                grades=_years(year, run, grade),
                words_zh=f"连续{run}年（{_span_zh(year, run)}）评估{zh}，{promotion.to_zh}",
                words_en=f"graded {en} {run} years running ({_span_en(year, run)}):"
                f" {promotion.to_en}",
            )
        )
    exit_rule = outcomes.exit
    if exit_rule is not None and grade == "fail" and run == exit_rule.fails:
        years = _years(year, run, grade)
        decided.append(
            OutcomeDecision(
                kind="exit",
                rule="outcomes.exit",
                clause=clauses.get("outcomes.exit", rules.clauses.delisting),
                grades=years,
                words_zh=f"连续{run}年（{_span_zh(year, run)}）评估不合格，{exit_rule.words_zh}",
                words_en=f"failed {run} years running ({_span_en(year, run)}):"
                f" {exit_rule.words_en}",
            )
        )
        ban = outcomes.reapplication_ban
        if ban is not None:
            decided.append(
                OutcomeDecision(
                    kind="reapplication_ban",
                    rule="outcomes.reapplication_ban",
                    clause=clauses.get("outcomes.reapplication_ban", ""),
                    grades=years,
                    words_zh=f"摘牌退出后{period_zh(ban)}内不得重新申报",
                    words_en=f"may not re-apply for {period_en(ban)} after the exit",
                    ban=ban,
                )
            )
    return decided
