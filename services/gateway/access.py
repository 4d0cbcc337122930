"""Who may do what: one pure policy, checked by every route.

province_admin: its program. city_officer: bases whose region lies under its region.
base_user: its base. expert: reviews it is assigned in its program. operator: operator actions.
viewer: read only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.gateway.identity.tokens import Principal
from shared.domain.regions import is_within

Action = Literal[
    "read_program",  # program rules, base lists, year counts
    "read_cycle",  # one base's cycle and its documents
    "administer",  # apply rules, register bases, launch, extend deadlines
    "verify_city",
    "verify_province",
    "file",  # plan, self-evaluation, rectification
    "score",
    "operate",
    "lodge_objection",  # 异议 during 公示 (the public, without a token, is the route's concern)
    "decide_objection",
    "read_objections",  # with the objectors' names and contacts
    "apply_calendar",  # holiday tables: shared by every program, kept by IT or a province
]


@dataclass(frozen=True)
class Target:
    program: str
    base: str | None = None
    region: str | None = None  # the base's region, when a base is addressed


def _in_program(p: Principal, t: Target) -> bool:
    return p.program is None or p.program == t.program


def _in_region(p: Principal, t: Target) -> bool:
    return p.region is not None and t.region is not None and is_within(t.region, p.region)


def allowed(p: Principal, action: Action, t: Target, *, assigned: bool = False) -> bool:
    """``assigned``: the expert is assigned to this base's open review."""
    role = p.role
    if action == "read_program":
        return role in ("operator", "viewer", "city_officer") or _in_program(p, t)
    if action == "read_cycle":
        if role in ("operator", "viewer"):
            return True
        if role == "province_admin":
            return _in_program(p, t)
        if role == "city_officer":
            return _in_program(p, t) and _in_region(p, t)
        if role == "base_user":
            return _in_program(p, t) and p.base == t.base
        if role == "expert":
            return _in_program(p, t) and assigned
        return False
    if action in ("administer", "verify_province"):
        return role == "province_admin" and _in_program(p, t)
    if action == "verify_city":
        return role == "city_officer" and _in_program(p, t) and _in_region(p, t)
    if action == "file":
        return role == "base_user" and _in_program(p, t) and p.base == t.base
    if action == "score":
        return role == "expert" and _in_program(p, t) and assigned
    if action == "operate":
        return role == "operator"
    if action == "lodge_objection":
        if role == "base_user":
            return _in_program(p, t) and p.base == t.base
        if role == "city_officer":
            return _in_program(p, t) and _in_region(p, t)
        return role in ("province_admin", "expert") and _in_program(p, t)
    if action == "decide_objection":
        return role == "province_admin" and _in_program(p, t)
    if action == "read_objections":
        return role == "operator" or (role == "province_admin" and _in_program(p, t))
    if action == "apply_calendar":
        return role in ("operator", "province_admin")
    return False
