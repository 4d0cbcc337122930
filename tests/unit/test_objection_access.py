"""Who may lodge, decide and read objections (异议), what each reader sees of them, and the public
form's per-address limit: pure checks, no servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.gateway.access import Target, allowed
from services.gateway.identity.tokens import Principal
from services.gateway.rate_limit import SlidingWindow
from services.gateway.routes.objections import visible
from shared.contracts.objections import Objection, ObjectionList

P = "henan-nav-base"
ZZ = Target(program=P, base="zz-biomed", region="410100")  # a base in Zhengzhou

ADMIN = Principal(name="admin", role="province_admin", program=P)
OTHER_ADMIN = Principal(name="nm-admin", role="province_admin", program="nm-nav-base")
ZZ_STAFF = Principal(name="zz-staff", role="base_user", program=P, base="zz-biomed")
LY_STAFF = Principal(name="ly-staff", role="base_user", program=P, base="ly-agri")
ZZ_CITY = Principal(name="zhengzhou", role="city_officer", region="410100")
LY_CITY = Principal(name="luoyang", role="city_officer", region="410300")
EXPERT = Principal(name="expert-1", role="expert", program=P)
OPERATOR = Principal(name="ops", role="operator")
VIEWER = Principal(name="screen", role="viewer")


@pytest.mark.parametrize(
    ("who", "may"),
    [
        (ZZ_STAFF, True),  # its own base
        (LY_STAFF, False),  # another base
        (ZZ_CITY, True),  # a base in its region
        (LY_CITY, False),
        (ADMIN, True),
        (OTHER_ADMIN, False),  # another program
        (EXPERT, True),
        (OPERATOR, False),
        (VIEWER, False),
    ],
    ids=lambda v: v.name if isinstance(v, Principal) else str(v),
)
def test_who_may_lodge_an_objection_against_a_base(who: Principal, may: bool) -> None:
    assert allowed(who, "lodge_objection", ZZ) is may


@pytest.mark.parametrize(
    "who", [ZZ_STAFF, ZZ_CITY, EXPERT, OPERATOR, VIEWER, OTHER_ADMIN], ids=lambda p: p.name
)
def test_only_the_programs_province_admin_decides(who: Principal) -> None:
    assert allowed(ADMIN, "decide_objection", Target(program=P))
    assert not allowed(who, "decide_objection", Target(program=P))


def objection(oid: str, base: str, by: str, role: str, contact: str = "") -> Objection:
    return Objection.model_validate(
        {
            "objection_id": oid,
            "base": base,
            "grounds": "自评报告数据与实际不符",
            "by": by,
            "role": role,
            "contact": contact,
            "received_at": datetime(2027, 1, 5, 9, tzinfo=UTC),
        }
    )


LODGED = ObjectionList(
    objections=[
        objection("o1", "zz-biomed", "public", "public", "138-0000-0000"),
        objection("o2", "ly-agri", "zz-staff", "base_user"),
        objection("o3", "zz-biomed", "luoyang", "city_officer", "luoyang@example.cn"),
    ]
)


def test_the_province_and_operators_see_who_objected_and_how_to_reach_them() -> None:
    assert visible(LODGED, ADMIN, P) == LODGED
    assert visible(LODGED, OPERATOR, P) == LODGED
    assert visible(LODGED, OTHER_ADMIN, P) != LODGED  # another program's admin: the public view


@pytest.mark.parametrize("who", [None, VIEWER, EXPERT, ZZ_CITY], ids=str)
def test_everyone_else_sees_every_objection_without_names_and_contacts(
    who: Principal | None,
) -> None:
    shown = visible(LODGED, who, P).objections
    assert [o.objection_id for o in shown] == ["o1", "o2", "o3"]
    assert all(o.by == "" and o.contact == "" for o in shown)
    assert [o.grounds for o in shown] == [o.grounds for o in LODGED.objections]
    assert [o.status for o in shown] == ["lodged"] * 3


def test_a_base_sees_the_objections_against_it_and_its_own_in_full() -> None:
    shown = visible(LODGED, ZZ_STAFF, P).objections
    assert [o.objection_id for o in shown] == ["o1", "o3"]
    assert all(o.by == "" and o.contact == "" for o in shown)
    own = visible(LODGED, LY_STAFF, P).objections  # ly-agri: o2 is against it, by zz-staff
    assert [(o.objection_id, o.by) for o in own] == [("o2", "")]
    lodged_by_me = ObjectionList(objections=[objection("o4", "zz-biomed", "zz-staff", "base_user")])
    assert visible(lodged_by_me, ZZ_STAFF, P).objections[0].by == "zz-staff"


def test_the_public_limit_counts_per_address_within_the_window() -> None:
    window = SlidingWindow(limit=2, window_s=60)
    assert window.retry_after("10.0.0.1", 0) is None
    assert window.retry_after("10.0.0.1", 10) is None
    assert window.retry_after("10.0.0.1", 20) == 40  # the first hit leaves the window at 60
    assert window.retry_after("10.0.0.2", 20) is None  # another address has its own count
    assert window.retry_after("10.0.0.1", 60) is None  # the first hit has left the window
    assert window.retry_after("10.0.0.1", 61) == 9


def test_the_public_limit_keeps_a_bounded_number_of_addresses() -> None:
    window = SlidingWindow(limit=1, window_s=60, max_keys=2)
    for address in ("a", "b", "c"):
        assert window.retry_after(address, 0) is None
    assert window.retry_after("c", 1) is not None  # still counted
    assert window.retry_after("a", 1) is None  # the oldest address was forgotten
    with pytest.raises(ValueError):
        SlidingWindow(limit=0, window_s=60)
