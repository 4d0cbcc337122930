import pytest
from pydantic import ValidationError

from shared.contracts.registry import BasePublic, BaseRegistration
from shared.domain.eligibility import (
    Answer,
    Applicant,
    domain_taken,
    ineligibility,
    registration_reasons,
)
from shared.domain.rules import load_rules_file
from shared.settings import DEPLOY_DIR

NM_RULES = load_rules_file(DEPLOY_DIR / "programs" / "inner-mongolia-nav-base.yaml")
HENAN_RULES = load_rules_file(DEPLOY_DIR / "programs" / "henan-nav-base.yaml")
NM = NM_RULES.eligibility
EVIDENCE = ("a" * 64,)
NM_DECLARED = {k: Answer(True, EVIDENCE) for k in ("experience", "industry_base", "resources")}


def _applicant(**changes: object) -> Applicant:
    base = dict(
        domain="新材料",
        host_type="高校院所",
        staff_total=8,
        senior_full_time=3,
        pct_minimum_data=True,
        declarations=NM_DECLARED,
    )
    base.update(changes)
    return Applicant(**base)  # type: ignore[arg-type]


def test_an_applicant_meeting_every_condition_is_eligible() -> None:
    assert ineligibility(NM, _applicant()) == []


def test_every_unmet_condition_is_reported_in_both_languages() -> None:
    closed = NM.model_copy(update={"domains_open": False, "host_types_open": False})
    reasons = ineligibility(
        closed,
        _applicant(
            staff_total=7,
            senior_full_time=2,
            domain="纺织",
            host_type="个人",
            pct_minimum_data=False,
            declarations={},
        ),
    )
    assert [r.code for r in reasons] == [
        "min_staff",
        "min_senior_full_time",
        "domain",
        "host_type",
        "pct_minimum_data",
        "declaration_missing",
        "declaration_missing",
        "declaration_missing",
    ]
    assert "8" in reasons[0].message and "8人以上" in reasons[0].message_zh
    assert "工作经验" in reasons[5].message_zh and "experience" in reasons[5].message


def test_lists_the_seed_leaves_open_accept_other_values() -> None:
    # seed 000: 「…生态环境、现代农牧业等重点领域」, 「…知识产权公益类服务机构等」
    assert ineligibility(NM, _applicant(domain="稀土新材料", host_type="企业")) == []
    # seed 004: 「…产业集聚区、当地企业、高校院所…等机构」
    henan = HENAN_RULES.eligibility
    assert "当地企业" in henan.host_types
    for host in ("当地企业", "企业", "科技服务企业"):
        assert ineligibility(henan, _applicant(host_type=host, declarations=_henan())) == []


def _henan() -> dict[str, Answer]:
    return {d.key: Answer(True, EVIDENCE) for d in HENAN_RULES.eligibility.declarations}


def test_a_declaration_needs_affirming_and_its_evidence() -> None:
    unaffirmed = {**NM_DECLARED, "experience": Answer(False, EVIDENCE)}
    no_evidence = {**NM_DECLARED, "industry_base": Answer(True)}
    assert [r.code for r in ineligibility(NM, _applicant(declarations=unaffirmed))] == [
        "declaration_missing"
    ]
    reasons = ineligibility(NM, _applicant(declarations=no_evidence))
    assert [r.code for r in reasons] == ["evidence_missing"]
    assert "证明材料" in reasons[0].message_zh and "evidence" in reasons[0].message
    optional = NM.model_copy(
        update={
            "declarations": [
                d.model_copy(update={"evidence_required": False}) for d in NM.declarations
            ]
        }
    )
    assert ineligibility(optional, _applicant(declarations=no_evidence)) == []


def test_an_answer_to_a_declaration_not_asked_is_refused() -> None:
    typo = {**NM_DECLARED, "experiance": Answer(True, EVIDENCE)}
    assert [r.code for r in ineligibility(NM, _applicant(declarations=typo))] == [
        "declaration_unknown"
    ]


def test_a_base_outside_the_programs_region_is_refused() -> None:
    inside = _applicant(region="150102")  # 呼和浩特 under 内蒙古 150000
    assert registration_reasons(NM_RULES, inside) == []
    outside = registration_reasons(NM_RULES, _applicant(region="410100"))
    assert [r.code for r in outside] == ["region_outside_program"]
    assert "410100" in outside[0].message_zh and "150000" in outside[0].message


def test_senior_staff_cannot_exceed_total_staff() -> None:
    body = {
        "id": "b1",
        "name": "基地",
        "region": "150100",
        "domain": "新材料",
        "staff": {"total": 3, "senior_full_time": 4},
    }
    with pytest.raises(ValidationError) as info:
        BaseRegistration.model_validate(body)
    assert info.value.errors()[0]["loc"] == ("staff",)
    assert "exceeds total" in str(info.value)
    # what is already stored is still shown
    assert BasePublic.model_validate({**body, "program": "p", "status": "active"}).staff.total == 3


def test_one_base_per_domain() -> None:
    assert domain_taken(NM, "新材料", {"新材料", "新能源"})
    assert not domain_taken(NM, "生物医药", {"新材料"})
    assert not domain_taken(
        NM.model_copy(update={"one_base_per_domain": False}), "新材料", {"新材料"}
    )
