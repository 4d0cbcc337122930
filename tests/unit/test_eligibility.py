from shared.domain.eligibility import Applicant, domain_taken, ineligibility
from shared.domain.rules import load_rules_file
from shared.settings import DEPLOY_DIR

NM = load_rules_file(DEPLOY_DIR / "programs" / "inner-mongolia-nav-base.yaml").eligibility


def _applicant(**changes: object) -> Applicant:
    base = dict(
        domain="新材料",
        host_type="高校院所",
        staff_total=8,
        senior_full_time=3,
        pct_minimum_data=True,
    )
    base.update(changes)
    return Applicant(**base)  # type: ignore[arg-type]


def test_an_applicant_meeting_every_condition_is_eligible() -> None:
    assert ineligibility(NM, _applicant()) == []


def test_every_unmet_condition_is_reported_in_both_languages() -> None:
    reasons = ineligibility(
        NM,
        _applicant(
            staff_total=7,
            senior_full_time=2,
            domain="纺织",
            host_type="个人",
            pct_minimum_data=False,
        ),
    )
    assert [r.code for r in reasons] == [
        "min_staff",
        "min_senior_full_time",
        "domain",
        "host_type",
        "pct_minimum_data",
    ]
    assert "8" in reasons[0].message and "8人以上" in reasons[0].message_zh


def test_one_base_per_domain() -> None:
    assert domain_taken(NM, "新材料", {"新材料", "新能源"})
    assert not domain_taken(NM, "生物医药", {"新材料"})
    assert not domain_taken(
        NM.model_copy(update={"one_base_per_domain": False}), "新材料", {"新材料"}
    )
