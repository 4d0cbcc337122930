"""Whether a base may be designated under a program's rules (申报条件), with every reason."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.rules import EligibilityRules


@dataclass(frozen=True)
class Applicant:
    domain: str
    host_type: str
    staff_total: int
    senior_full_time: int
    pct_minimum_data: bool


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    message_zh: str


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
    if rules.domains and applicant.domain not in rules.domains:
        reasons.append(
            Reason(
                "domain",
                f"domain {applicant.domain!r} is not one of {', '.join(rules.domains)}",
                f"建设领域“{applicant.domain}”不在{('、'.join(rules.domains))}之列",
            )
        )
    if rules.host_types and applicant.host_type not in rules.host_types:
        reasons.append(
            Reason(
                "host_type",
                f"host type {applicant.host_type!r} is not one of {', '.join(rules.host_types)}",
                f"承担主体类型“{applicant.host_type}”不符合要求",
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
    return reasons


def domain_taken(rules: EligibilityRules, domain: str, active_domains: set[str]) -> bool:
    """One industry, one base (一产业一基地), when the rules ask for it."""
    return rules.one_base_per_domain and domain in active_domains
