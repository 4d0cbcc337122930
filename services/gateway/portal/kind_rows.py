"""The program rules page's table of participant kinds: each kind's name, its verification chain
in words (an aggregation step with the date it forwards by), its tasks and its rubric."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.portal.words import Lang, say, words
from shared.domain.chains import ChainStep
from shared.domain.participants import participant_rules
from shared.domain.rules import ProgramRules
from shared.domain.wording import period_en, period_zh

words(
    {
        "common.rules.kinds": ("参与单位类型", "Kinds of participant"),
        "common.rules.kinds.caption": (
            "各类参与单位的申报事项、核实顺序与评分规则",
            "Each kind's declarations, verification chain and rubric",
        ),
        "common.rules.kind": ("类型", "Kind"),
        "common.rules.kind.chain": ("核实顺序", "Verification"),
        "common.rules.kind.tasks": ("申报事项", "Declarations"),
        "common.rules.step.national": ("国家知识产权局", "national IP office"),
        "common.rules.step.verify": ("{office}核实", "{office} verifies"),
        "common.rules.step.aggregate": (
            "{office}汇总本级各单位计划，{by}前作为一份报送",
            "{office} collects its units' plans and forwards them as one filing by {by}",
        ),
    }
)


@dataclass(frozen=True)
class KindRow:
    key: str
    name: str
    chain: str
    tasks: int
    rubric: str


def step_words(step: ChainStep, lang: Lang) -> str:
    office = say(f"common.rules.step.{step.level}", lang)
    if step.kind == "aggregate" and step.forward_by is not None:
        by = period_zh(step.forward_by) if lang == "zh" else period_en(step.forward_by)
        return say("common.rules.step.aggregate", lang, office=office, by=by)
    return say("common.rules.step.verify", lang, office=office)


def kind_rows(rules: ProgramRules, lang: Lang) -> list[KindRow]:
    """One row per kind the program declares; none for a program of one kind."""
    rows = []
    for key in rules.participants:
        own = participant_rules(rules, key)
        rows.append(
            KindRow(
                key=key,
                name=own.name_zh if lang == "zh" else own.name_en,
                chain=" → ".join(step_words(s, lang) for s in own.chain)
                or say("common.rules.verification.none", lang),
                tasks=len(own.eligibility.declarations),
                rubric=own.rubric.version,
            )
        )
    return rows
