"""Who may take a kind chain's steps at the gateway (issue 16), as workflows/authority.py says:
a province step by the program's admin or the officer of the base's province; a national step
by the admin of a program issued at 000000; a forwarding by the admin or an officer of the
forwarding region."""

from __future__ import annotations

from services.gateway.access import Target, allowed
from services.gateway.identity.tokens import Principal

ADMIN = Principal(name="admin", role="province_admin", program="cnipa")
OTHER_ADMIN = Principal(name="other", role="province_admin", program="demo")
HENAN = Principal(name="henan", role="city_officer", region="410000")
HUBEI = Principal(name="hubei", role="city_officer", region="420000")
ZHENGZHOU = Principal(name="zz", role="city_officer", region="410100")
STAFF = Principal(name="staff", role="base_user", program="cnipa", base="u1")

UNIT = Target(program="cnipa", base="u1", region="410102")


def who(action: str, target: Target) -> list[str]:
    people = [ADMIN, OTHER_ADMIN, HENAN, HUBEI, ZHENGZHOU, STAFF]
    return [p.name for p in people if allowed(p, action, target)]  # type: ignore[arg-type]


def test_a_kind_chains_province_step_is_the_admins_or_the_bases_provinces() -> None:
    assert who("verify_kind_province", UNIT) == ["admin", "henan"]
    assert who("verify_province", UNIT) == ["admin"]  # outside a kind chain: as before


def test_the_national_step_is_the_admins_of_a_program_issued_nationally() -> None:
    national = Target(program="cnipa", base="u1", region="410102", program_region="000000")
    provincial = Target(program="cnipa", base="u1", region="410102", program_region="410000")
    assert who("verify_national", national) == ["admin"]
    assert who("verify_national", provincial) == []
    assert who("verify_national", UNIT) == []  # the issuer not known: refused


def test_a_forwarding_is_the_admins_or_an_officer_of_the_region() -> None:
    assert who("forward_plans", Target(program="cnipa", region="410000")) == ["admin", "henan"]
    assert who("forward_plans", Target(program="cnipa", region="420000")) == ["admin", "hubei"]
    assert who("forward_plans", Target(program="cnipa")) == ["admin"]
