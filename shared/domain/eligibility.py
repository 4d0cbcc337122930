"""Whether a base may be designated under a program's rules (申报条件), with every reason.

The conditions are read as the seeds write them: a list a seed leaves open (等) accepts values
beyond the ones it names, which stay as suggestions; a condition that is not a number (experience,
an industry base) is a declaration the applicant affirms and backs with evidence documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.domain.participants import participant_rules
from shared.domain.regions import is_within
from shared.domain.rules import EligibilityRules, ProgramRules


@dataclass(frozen=True)
class Answer:
    """The applicant's answer to one declaration: affirmed, and the evidence documents named
    (sha256 or document ids)."""

    affirmed: bool
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Applicant:
    domain: str
    host_type: str
    staff_total: int
    senior_full_time: int
    pct_minimum_data: bool
    region: str | None = None
    declarations: Mapping[str, Answer] = field(default_factory=dict)


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    message_zh: str


def registration_reasons(
    rules: ProgramRules, applicant: Applicant, kind: str | None = None
) -> list[Reason]:
    """Every reason a registration under the program is refused: its region, then the
    conditions of its kind of participant (None: the program's first or only kind). Domain
    uniqueness needs the other bases (:func:`domain_taken`)."""
    reasons = []
    if applicant.region is not None and not is_within(applicant.region, rules.region):
        reasons.append(
            Reason(
                "region_outside_program",
                f"region {applicant.region} lies outside the program's region {rules.region}",
                f"所在地区{applicant.region}不在本项目地区{rules.region}范围内",
            )
        )
    return reasons + ineligibility(participant_rules(rules, kind).eligibility, applicant)


def ineligibility(rules: EligibilityRules, applicant: Applicant) -> list[Reason]:
    """Every unmet condition; an empty list means eligible. Domain uniqueness is checked
    separately because it needs the other bases (:func:`domain_taken`)."""
    reasons = []
    if applicant.staff_total < rules.min_staff:
        reasons.append(
            Reason(
                "min_staff",
                f"needs at least {rules.min_staff} staff, has {applicant.staff_total}",
                f"专(兼)职人员应{rules.min_staff}人以上，现有{applicant.staff_total}人",
            )
        )
    if applicant.senior_full_time < rules.min_senior_full_time:
        reasons.append(
            Reason(
                "min_senior_full_time",
                f"needs at least {rules.min_senior_full_time} experienced full-time staff, "
                f"has {applicant.senior_full_time}",
                f"具备3年以上经验的专职人员不少于{rules.min_senior_full_time}人，现有{applicant.senior_full_time}人",
            )
        )
    if rules.domains and not rules.domains_open and applicant.domain not in rules.domains:
        reasons.append(
            Reason(
                "domain",
                f"domain {applicant.domain!r} is not one of {', '.join(rules.domains)}",
                f"建设领域“{applicant.domain}”不在{('、'.join(rules.domains))}之列",
            )
        )
    if (
        rules.host_types
        and not rules.host_types_open
        and applicant.host_type not in rules.host_types
    ):
        reasons.append(
            Reason(
                "host_type",
                f"host type {applicant.host_type!r} is not one of {', '.join(rules.host_types)}",
                f"承担主体类型“{applicant.host_type}”不在{'、'.join(rules.host_types)}之列",
            )
        )
    if rules.require_pct_minimum_data and not applicant.pct_minimum_data:
        reasons.append(
            Reason(
                "pct_minimum_data",
                "data resources must cover at least the PCT minimum documentation",
                "专利数据资源应不低于PCT最低文献量",
            )
        )
    return reasons + declaration_reasons(rules, applicant.declarations)


def declaration_reasons(rules: EligibilityRules, answers: Mapping[str, Answer]) -> list[Reason]:
    """A declaration not affirmed, affirmed without the evidence it asks for, or an answer to
    a declaration the program does not ask for (a misspelt key would otherwise pass unseen)."""
    asked = {d.key for d in rules.declarations}
    reasons = [
        Reason(
            "declaration_unknown",
            f"the program asks for no declaration {key!r}",
            f"本项目无“{key}”声明事项",
        )
        for key in sorted(answers)
        if key not in asked
    ]
    for d in rules.declarations:
        answer = answers.get(d.key)
        if answer is None or not answer.affirmed:
            reasons.append(
                Reason(
                    "declaration_missing",
                    f"declaration {d.key!r} is not affirmed: {d.text_en}",
                    f"未声明“{d.text_zh}”",
                )
            )
        elif d.evidence_required and not answer.evidence:
            reasons.append(
                Reason(
                    "evidence_missing",
                    f"declaration {d.key!r} names no evidence document: {d.text_en}",
                    f"“{d.text_zh}”未附证明材料",
                )
            )
    return reasons


def suggestions(rules: EligibilityRules) -> dict[str, list[str]]:
    """The known values of each list, offered to an applicant (open lists accept others)."""
    return {"domains": list(rules.domains), "host_types": list(rules.host_types)}


def domain_taken(rules: EligibilityRules, domain: str, active_domains: set[str]) -> bool:
    """One industry, one base (一产业一基地), when the rules ask for it."""
    return rules.one_base_per_domain and domain in active_domains
