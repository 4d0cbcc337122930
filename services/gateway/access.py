"""Who may do what, and who may see what: one pure policy, asked by every route.

province_admin: its program. city_officer: bases whose region lies under its region.
base_user: its base. expert: reviews it is assigned in its program. operator: operator actions.
viewer: read only. Viewers and operators are scoped to a program (and optionally a region) and
read documents only when granted them.

Need to know: provisional grades only for the program's province_admin and the city officers
of the base's region until the results are published; base users and experts see counts, never
other bases' rows, and before the 公示 counts by stage only, no grade distribution (only the
province_admin sees that, :func:`sees_grade_counts`); expert sheets as :func:`sheet_access`
says. A read the caller may not make is answered as if the resource did not exist (see
``HIDDEN``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.gateway.identity.tokens import Principal
from shared.domain.regions import NATIONAL, is_within, region_at, region_prefix

Action = Literal[
    "read_program",  # program rules, base lists, year counts
    "read_cycle",  # one base's cycle and its documents
    "administer",  # apply rules, register bases, launch, extend deadlines
    "verify_city",
    "verify_province",
    "verify_kind_province",  # a kind chain's province step (issue 16)
    "verify_national",  # a kind chain's national step: the admin of a program issued at 000000
    "forward_plans",  # 汇总报送 at an aggregation step: ``Target.region`` is the forwarding region
    "file",  # plan, self-evaluation, rectification
    "score",
    "operate",
    "lodge_objection",  # 异议 during 公示 (the public, without a token, is the route's concern)
    "decide_objection",
    "read_objections",  # with the objectors' names and contacts
    "apply_calendar",  # holiday tables: shared by every program, kept by IT or a province
    "read_document",  # one base's stored document (plan, self-evaluation, evidence, ...)
]

# Reads refused as "not found", so that what a caller may not see is indistinguishable from
# what does not exist.
HIDDEN: frozenset[str] = frozenset({"read_program", "read_cycle", "read_document"})

RowScope = Literal["all", "region", "own", "none"]
SheetAccess = Literal["all", "own", "averages", "none"]

# Roles whose new users must name a program (users made before scopes read none).
SCOPED_TO_PROGRAM: frozenset[str] = frozenset({"viewer", "operator"})

# The scope flags each role uses (``navcycle user add`` refuses the others).
SCOPE_FLAGS: dict[str, frozenset[str]] = {
    "province_admin": frozenset({"program"}),
    "city_officer": frozenset({"region", "program"}),
    "base_user": frozenset({"program", "base"}),
    "expert": frozenset({"program"}),
    "operator": frozenset({"program", "region", "documents"}),
    "viewer": frozenset({"program", "region", "documents"}),
}


@dataclass(frozen=True)
class Target:
    program: str
    base: str | None = None
    region: str | None = None  # the base's region, when a base is addressed
    program_region: str | None = None  # the region that issues the program (its province)


def _in_program(p: Principal, t: Target) -> bool:
    return p.program is None or p.program == t.program


def _in_region(p: Principal, t: Target) -> bool:
    return p.region is not None and t.region is not None and is_within(t.region, p.region)


def _officer_in_program(p: Principal, t: Target) -> bool:
    """A city officer reads a program of its own province only (an unknown issuer: refused)."""
    if not _in_program(p, t) or p.region is None or t.program_region is None:
        return False
    return is_within(p.region, t.program_region)


def _of_base_province(p: Principal, t: Target) -> bool:
    """An officer whose region is the addressed base's province (a kind chain's province step,
    as workflows/authority.py lets it take)."""
    if p.region is None or t.region is None:
        return False
    return p.region == region_at(t.region, "province")


def _scoped_reader(p: Principal, t: Target) -> bool:
    """A viewer or operator: its program, and within its region when it has one."""
    if p.program is None or p.program != t.program:
        return False
    return p.region is None or t.region is None or is_within(t.region, p.region)


def allowed(p: Principal, action: Action, t: Target, *, assigned: bool = False) -> bool:
    """``assigned``: the expert is assigned to this base's open review."""
    role = p.role
    if action == "read_program":
        if role in ("operator", "viewer"):
            return _scoped_reader(p, t)
        if role == "city_officer":
            return _officer_in_program(p, t)
        return _in_program(p, t)
    if action == "read_document":
        if role in ("operator", "viewer"):
            return p.documents and _scoped_reader(p, t)
        return allowed(p, "read_cycle", t, assigned=assigned)
    if action == "read_cycle":
        if role in ("operator", "viewer"):
            return _scoped_reader(p, t)
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
    if action == "verify_kind_province":
        return _in_program(p, t) and (
            role == "province_admin" or (role == "city_officer" and _of_base_province(p, t))
        )
    if action == "verify_national":
        return role == "province_admin" and _in_program(p, t) and t.program_region == NATIONAL
    if action == "forward_plans":
        return _in_program(p, t) and (
            role == "province_admin" or (role == "city_officer" and _in_region(p, t))
        )
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


def reads_documents(p: Principal) -> bool:
    """Whether ``p`` may read any base's documents at all (asked before any lookup)."""
    if p.role in ("operator", "viewer"):
        return p.documents and p.program is not None
    return True


def row_scope(p: Principal, t: Target) -> RowScope:
    """Which bases' rows (dashboard cycles, overdue lists) a reader of the program sees; that it
    may read the program at all is ``read_program``'s to say."""
    if p.role in ("operator", "viewer"):
        if p.program != t.program:
            return "none"
        return "all" if p.region is None else "region"
    if not _in_program(p, t):
        return "none"
    return {"province_admin": "all", "city_officer": "region", "base_user": "own"}.get(
        p.role, "none"
    )  # type: ignore[return-value]


def row_visible(p: Principal, t: Target) -> bool:
    """``t`` names one base (with its region): may ``p`` see that base's row?"""
    scope = row_scope(p, t)
    if scope == "all":
        return True
    if scope == "region":
        return _in_region(p, t)
    return scope == "own" and p.base == t.base


def row_region_prefix(p: Principal, t: Target) -> str | None:
    """What the region codes of the rows ``p`` sees by region start with ("" for every row):
    :func:`row_visible` as one filter a query can apply; None when ``p`` sees no row by region
    (its own base's row, or none)."""
    scope = row_scope(p, t)
    if scope == "all":
        return ""
    if scope == "region" and p.region is not None:
        return region_prefix(p.region)
    return None


def sees_provisional(p: Principal, t: Target) -> bool:
    """A grade or total before the year's results are published: the program's province_admin,
    and the city officers of the base's region."""
    if p.role == "province_admin":
        return _in_program(p, t)
    return p.role == "city_officer" and _in_program(p, t) and _in_region(p, t)


def sees_grade_counts(p: Principal, t: Target, *, published: bool) -> bool:
    """The year's grade distribution (how many excellent, pass, fail): every reader of the
    program once the 公示 is out; before it only the program's province_admin, who sees every
    provisional grade anyway (a city officer sees its region's grades, not the province's)."""
    return published or (p.role == "province_admin" and _in_program(p, t))


def grade_visible(p: Principal, t: Target, *, published: bool) -> bool:
    return published or sees_provisional(p, t)


def sheet_access(
    p: Principal, t: Target, *, graded: bool, published: bool, assigned: bool = False
) -> SheetAccess:
    """Expert sheets in a cycle: each assigned expert its own; once the grade is recorded the
    province_admin all; after the 公示 the base (and its city) the indicator averages, never
    names; everyone else nothing."""
    if p.role == "province_admin" and _in_program(p, t):
        return "all" if graded else "none"
    if p.role == "expert" and _in_program(p, t) and assigned:
        return "own"
    if not (graded and published):
        return "none"
    if p.role == "base_user" and _in_program(p, t) and p.base == t.base:
        return "averages"
    if p.role == "city_officer" and _in_program(p, t) and _in_region(p, t):
        return "averages"
    return "none"


def unused_scope_flags(role: str, given: set[str]) -> list[str]:
    """The scope flags among ``given`` that ``role`` does not use, sorted."""
    return sorted(given - SCOPE_FLAGS.get(role, frozenset()))
