"""Who may act on a cycle, judged inside the workflow against its own state: one pure rule.

The gateway asks the access policy first; this is the cycle's own check, so that anything that
reaches Temporal directly (bypassing the gateway) still cannot file for another base, verify a
step that is not its role's, or score a review it was not assigned.
"""

from __future__ import annotations

from typing import Literal

from shared.contracts.cycle import Actor, CycleState
from shared.domain import errors
from shared.domain.regions import NATIONAL, is_within, region_at

Act = Literal[
    "file", "verify_city", "verify_province", "verify_national", "take_over", "score", "extend"
]

_WHO = {
    "file": "the base's own users / 本基地用户",
    "verify_city": "the city officer of the base's region / 所在地市局",
    "verify_province": "the province: the program's admin or the officer of the base's province"
    " / 省局（项目管理员或所在省的主管部门）",
    "verify_national": "the national office: the admin of a program issued at 000000"
    " / 国家知识产权局（全国项目的管理员）",
    "take_over": "the province / 省局",
    "score": "an expert assigned to this review / 本轮评审专家",
    "extend": "the province / 省局",
}


def actor_refusal(
    actor: Actor | None,
    act: Act,
    state: CycleState,
    base_region: str,
    program_region: str | None = None,
) -> tuple[str, str] | None:
    """``(code, message)`` when ``actor`` may not ``act`` on this cycle, else ``None``.

    A province step: the program's admin, or an officer whose region is the base's province. A
    national step: the admin of a program issued nationally (``program_region`` 000000).

    Whether an expert is assigned is checked by the caller against the experts recorded when
    the review opened (and the assessment service for a later reassignment)."""
    if actor is None:
        return errors.ACTOR_REQUIRED, "the input does not say who acts / 未注明操作人"
    allowed = {
        "file": actor.role == "base_user" and actor.base == state.base,
        "verify_city": actor.role == "city_officer"
        and actor.region is not None
        and is_within(base_region, actor.region),
        "verify_province": actor.role == "province_admin"
        or (
            actor.role == "city_officer"
            and actor.region is not None
            and actor.region == region_at(base_region, "province")
        ),
        "verify_national": actor.role == "province_admin" and program_region == NATIONAL,
        "take_over": actor.role == "province_admin",
        "score": actor.role == "expert",
        "extend": actor.role == "province_admin",
    }[act]
    if allowed:
        return None
    return (
        errors.NOT_YOUR_ROLE,
        f"{actor.name} ({actor.role}) may not do this: only {_WHO[act]}",
    )
