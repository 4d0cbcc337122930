"""The 公示 entries of a program year: each base's grade, outcome and the reason for it.

Pure: built from what the cycles reported (their grades, then how they ended), so the original
notice, every supplementary notice and the exports tell one story.
"""

from __future__ import annotations

from shared.contracts.cycle import CycleConcluded, CycleGraded
from shared.contracts.results import ObjectionSummary, ResultEntry, ResultOutcome, ResultsNotice
from shared.domain.grading import Grade, RankedGrade, RankInput, rank_year
from shared.domain.rules import ProgramRules

_OVERDUE_ZH = {
    "plan_overdue": "未在规定期限内报送实施方案，总分计0分",
    "self_evaluation_overdue": "未在规定期限内报送年度自评报告，总分计0分",
}
_OVERDUE_EN = {
    "plan_overdue": "the implementation plan was not filed in time; total counted as 0",
    "self_evaluation_overdue": "the self-evaluation report was not filed in time; total 0",
}
_EXCLUDED_ZH = {
    "plan_overdue": "未在规定期限内报送实施方案，不纳入本年度评估",
    "self_evaluation_overdue": "未在规定期限内报送年度自评报告，不纳入本年度评估",
    "ended": "基地已摘牌，本年度周期终止",
}
_EXCLUDED_EN = {
    "plan_overdue": "the plan was not filed in time; not assessed this year",
    "self_evaluation_overdue": "the self-evaluation was not filed in time; not assessed",
    "ended": "the base was de-listed; this year's cycle ended",
}


def build_entries(
    rules: ProgramRules,
    graded: dict[str, CycleGraded],
    concluded: dict[str, CycleConcluded],
    *,
    objections: dict[str, list[ObjectionSummary]],
    corrected: set[str],
) -> dict[str, ResultEntry]:
    ranked = rank_year(
        rules.rubric.grades,
        {
            b: RankInput(total=g.total or 0.0, grade=g.grade, scored=g.reason == "scored")
            for b, g in graded.items()
            if g.grade is not None and not g.excluded
        },
    )
    entries = {}
    for base, g in graded.items():
        rank: RankedGrade | None = ranked.get(base)
        grade = rank.grade if rank is not None else None
        outcome, zh, en = _outcome(rules, g, grade, concluded.get(base))
        relative = rules.rubric.grades.relative_top_percent is not None and rank is not None
        entries[base] = ResultEntry(
            base=base,
            name=g.name,
            region=g.region,
            total=g.total,
            grade=grade.value if grade is not None else None,
            outcome=outcome,
            reason_zh=zh,
            reason_en=en,
            rank_reason_zh=rank.reason_zh if relative and rank else "",
            rank_reason_en=rank.reason_en if relative and rank else "",
            objections=objections.get(base, []),
            corrected=base in corrected,
        )
    return entries


def fill_notice(
    header: ResultsNotice, entries: dict[str, ResultEntry], corrected: list[str]
) -> ResultsNotice:
    """The notice with its entries, bases in order, and what a 补充公示 changes."""
    return header.model_copy(
        update={
            "entries": sorted(entries.values(), key=lambda e: e.base),
            "changes_zh": [f"{b}：{entries[b].reason_zh}" for b in corrected if b in entries],
            "changes_en": [f"{b}: {entries[b].reason_en}" for b in corrected if b in entries],
        }
    )


def final_grades(entries: dict[str, ResultEntry]) -> dict[str, Grade]:
    return {b: Grade(e.grade) for b, e in entries.items() if e.grade is not None}


def grade_counts(entries: dict[str, ResultEntry]) -> dict[str, int]:
    grades = [e.grade for e in entries.values() if e.grade is not None]
    return {g.value: sum(1 for x in grades if x == g.value) for g in Grade}


def _outcome(
    rules: ProgramRules, g: CycleGraded, grade: Grade | None, done: CycleConcluded | None
) -> tuple[ResultOutcome, str, str]:
    if g.excluded or grade is None:
        return (
            "excluded",
            _EXCLUDED_ZH.get(g.reason, "不纳入本年度评估"),
            _EXCLUDED_EN.get(g.reason, "not assessed this year"),
        )
    if done is not None and done.outcome in ("rectified", "delisted", "ended"):
        return _concluded(rules, g, done)
    if grade != Grade.FAIL:
        designation = rules.designation
        if designation is not None and grade.value in designation.grades:
            return (
                "designated",
                f"评估等级{grade.label_zh}，确定为省级专利导航服务基地",
                f"graded {grade.value}; designated a provincial base",
            )
        return "none", "", ""
    if g.reason in _OVERDUE_ZH:
        return "overdue", _OVERDUE_ZH[g.reason], _OVERDUE_EN[g.reason]
    if g.vetoes:
        names_zh = "、".join(rules.rubric.veto_item(v).name_zh or v for v in g.vetoes)
        names_en = ", ".join(rules.rubric.veto_item(v).name_en or v for v in g.vetoes)
        follows_zh, follows_en = _veto_follows(rules)
        return (
            "vetoed",
            f"一票否决：{names_zh}（总分{g.total}分不计）；{follows_zh}",
            f"vetoed: {names_en} (the total of {g.total} does not count); {follows_en}",
        )
    below_zh = f"总分{g.total}分，低于合格线{rules.rubric.grades.pass_:g}分"
    below_en = f"total {g.total}, below the pass mark of {rules.rubric.grades.pass_:g}"
    if rules.calendar.rectification_rounds == 0:
        return "fail_final", below_zh, below_en
    return (
        "rectification_ordered",
        f"{below_zh}；结果确定后限期整改",
        f"{below_en}; rectification is ordered once the result is final",
    )


def _veto_follows(rules: ProgramRules) -> tuple[str, str]:
    outcome = rules.rubric.veto_outcome
    if outcome == "delist":
        return "摘牌退出", "de-listed"
    if outcome == "fail_final":
        return "评为不合格，不予整改", "failed without rectification"
    return "结果确定后限期整改", "rectification is ordered once the result is final"


def _concluded(
    rules: ProgramRules, g: CycleGraded, done: CycleConcluded
) -> tuple[ResultOutcome, str, str]:
    if done.outcome == "rectified":
        return "rectified", "限期整改后复评合格", "passed the re-review after rectification"
    if done.outcome == "ended":
        return "excluded", _EXCLUDED_ZH["ended"], _EXCLUDED_EN["ended"]
    reason_zh = "一票否决，摘牌退出" if g.vetoes else "未按期整改到位，摘牌退出"
    reason_en = "vetoed and de-listed" if g.vetoes else "not rectified in time; de-listed"
    return "delisted", reason_zh, reason_en
