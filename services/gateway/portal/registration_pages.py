"""Registering a program's bases in the portal (province officers).

- ``GET /portal/province/bases?program=`` (province_admin): the program's bases with their city,
  domain and status, and the registration form posted by ``static/portal.js`` to
  ``POST /v1/programs/{p}/bases``, where the eligibility check (staff, domain, one base per domain)
  and the audit are the API's. A refusal (``not_eligible``, ``domain_taken``, ``base_exists``) is
  shown in words beside the form.

The page reads through the API's own checks: ``require(..., "administer")`` as the registration
route asks, and the program's listing through the route function itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.gateway.auth import require, rpc
from services.gateway.deps import DepsDep
from services.gateway.portal.common_pages import problem_page
from services.gateway.portal.render import page
from services.gateway.portal.session import PortalUser
from services.gateway.portal.words import words
from services.gateway.problems import ApiError
from services.gateway.routes import programs
from shared.contracts.registry import GetProgram, PinnedRules
from shared.paging import MAX_PAGE

router = APIRouter(include_in_schema=False)  # pages, not API: kept out of OpenAPI
ID = r"^[A-Za-z0-9_-]{1,64}$"

words(
    {
        "registration.title": ("基地登记", "Register bases"),
        "registration.intro": (
            "登记本项目的专利导航服务基地。提交后由系统按项目规则核对资格（人员、领域等），"
            "不符合的会在表单旁说明原因。",
            "Register the program's patent navigation bases. The program's rules check each"
            " registration (staff, domain, …); a refusal is explained beside the form.",
        ),
        "registration.program": ("项目：{program}", "Program: {program}"),
        "registration.list": ("已登记的基地", "Registered bases"),
        "registration.none": ("尚未登记基地。", "No base is registered yet."),
        "registration.col.id": ("编号", "ID"),
        "registration.col.name": ("名称", "Name"),
        "registration.col.region": ("地区代码", "Region code"),
        "registration.col.domain": ("领域", "Domain"),
        "registration.col.status": ("状态", "Status"),
        "registration.status.active": ("正常", "Active"),
        "registration.status.rectifying": ("整改中", "Rectifying"),
        "registration.status.delisted": ("已撤销", "De-listed"),
        "registration.form": ("登记新基地", "Register a new base"),
        "registration.field.id": (
            "基地编号（字母、数字、-、_）",
            "Base ID (letters, digits, - and _)",
        ),
        "registration.field.name": ("基地名称", "Base name"),
        "registration.field.region": ("所在地区代码（6位）", "Region code (6 digits)"),
        "registration.field.domain": ("产业领域", "Industry domain"),
        "registration.field.host_type": ("承担主体类型", "Host organisation type"),
        "registration.field.staff_total": ("专（兼）职人员总数", "Staff in total"),
        "registration.field.senior": ("专职高级人员数", "Senior full-time staff"),
        "registration.field.pct": (
            "具备PCT最低文献量数据库",
            "Holds the PCT minimum documentation",
        ),
        "registration.rules": (
            "本项目要求：专（兼）职人员不少于 {staff} 人，其中专职高级人员不少于 {senior} 人。",
            "This program asks for at least {staff} staff, {senior} of them senior full-time.",
        ),
        "registration.submit": ("登记", "Register"),
    }
)


@router.get("/portal/province/bases", response_class=HTMLResponse)
async def province_bases(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    program: Annotated[str | None, Query(pattern=ID)] = None,
) -> HTMLResponse:
    chosen = program or user.program or ""
    try:
        if user.role != "province_admin":
            raise ApiError(403, "forbidden", f"a {user.role} registers no base")
        if not chosen:
            raise ApiError(422, "program_required", "name the program: ?program=")
        await require(deps, user, "administer", program=chosen)
        pinned = await rpc(
            deps.rpc.call("registry", "rules.current", GetProgram(program=chosen), PinnedRules)
        )
        listed = await programs.list_bases(
            chosen, deps, user, status=None, region=None, cursor=None, limit=MAX_PAGE
        )
    except ApiError as exc:
        return problem_page(request, user, exc)
    eligibility = pinned.rules.eligibility
    return page(
        request,
        "registration_bases.html",
        user=user,
        program=chosen,
        bases=listed.bases,
        domains=list(eligibility.domains or []),
        min_staff=eligibility.min_staff,
        min_senior=eligibility.min_senior_full_time,
    )
