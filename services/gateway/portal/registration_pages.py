"""Registering a program's bases in the portal (province officers).

- ``GET /portal/province/bases?program=`` (province_admin): the program's bases with their city,
  domain and status, ``BASES_PAGE`` a page (``&after=`` the cursor of its "next page" link),
  and the registration form posted by ``static/portal.js`` to
  ``POST /v1/programs/{p}/bases``, where the eligibility check (staff, domain, one base per domain)
  and the audit are the API's. A refusal (``not_eligible``, ``domain_taken``, ``base_exists``) is
  shown in words beside the form, with each unmet condition in the page's language.
- A program with kinds of participant (``participants``) gets a kind selector, each kind's names
  in Chinese and English, and the chosen kind's conditions and declarations: a checkbox each, and
  where ``evidence_required`` an evidence file, whose SHA-256 the browser computes
  (``static/registration.js``) and sends as the declaration's evidence reference, which is what
  the API takes (a document id may be typed instead). The file itself is not uploaded: the
  registration API takes references only.

The page reads through the API's own checks: ``require(..., "administer")`` as the registration
route asks, and the program's listing through the route function itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.gateway.auth import require, rpc
from services.gateway.deps import DepsDep
from services.gateway.portal.common_pages import problem_page
from services.gateway.portal.render import page
from services.gateway.portal.session import PortalUser
from services.gateway.portal.words import Lang, words
from services.gateway.problems import ApiError
from services.gateway.routes import programs
from shared.contracts.registry import GetProgram, PinnedRules
from shared.domain.participants import participant_rules
from shared.domain.rules import Declaration, ProgramRules
from shared.paging import MAX_PAGE

router = APIRouter(include_in_schema=False)  # pages, not API: kept out of OpenAPI
ID = r"^[A-Za-z0-9_-]{1,64}$"
BASES_PAGE = MAX_PAGE  # the registered bases one page lists

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
        "registration.more": ("下一页基地", "Next page of bases"),
        "registration.first": ("回到第一页", "Back to the first page"),
        "registration.pager": ("基地分页", "Pages of bases"),
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
        "registration.field.kind": ("参与单位类型", "Kind of participant"),
        "registration.kind.rules": ("{name}的登记条件", "Conditions for a {name}"),
        "registration.kind.domains": ("建设领域：{domains}", "Domains: {domains}"),
        "registration.kind.domains_open": (
            "建设领域（可另填）：{domains}",
            "Domains (others accepted): {domains}",
        ),
        "registration.kind.host_types": ("承担主体类型：{types}", "Host types: {types}"),
        "registration.kind.pct": (
            "专利数据资源应不低于PCT最低文献量。",
            "Data resources must cover at least the PCT minimum documentation.",
        ),
        "registration.kind.one_per_domain": (
            "一个产业领域只登记一个单位。",
            "One unit per industry domain.",
        ),
        "registration.kind.declarations": (
            "申报事项：勾选即声明属实；标明需附证明材料的，请选择证明材料文件。",
            "Declarations: ticking one affirms it; where evidence is required, choose the"
            " evidence file.",
        ),
        "registration.kind.none": ("本类型无申报事项。", "This kind has no declarations."),
        "registration.kind.evidence_required": ("（需附证明材料）", "(evidence required)"),
        "registration.kind.evidence_file": ("证明材料文件", "Evidence file"),
        "registration.kind.evidence_ref": (
            "证明材料编号或SHA-256（选择文件后自动填写）",
            "Evidence document id or SHA-256 (filled in when a file is chosen)",
        ),
        "registration.reasons": ("未满足的条件：", "Conditions not met:"),
    }
)


@router.get("/portal/province/bases", response_class=HTMLResponse)
async def province_bases(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    program: Annotated[str | None, Query(pattern=ID)] = None,
    after: Annotated[str | None, Query(pattern=ID)] = None,
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
            chosen, deps, user, status=None, region=None, cursor=after, limit=BASES_PAGE
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
        after=after or "",
        next_cursor=listed.next_cursor,
        domains=list(eligibility.domains or []),
        min_staff=eligibility.min_staff,
        min_senior=eligibility.min_senior_full_time,
        kinds=kind_choices(pinned.rules),
    )


@dataclass(frozen=True)
class KindChoice:
    """One kind of participant as the form offers it: its names and its conditions."""

    key: str
    name_zh: str
    name_en: str
    min_staff: int
    min_senior: int
    domains: list[str]
    domains_open: bool
    host_types: list[str]
    pct: bool
    one_per_domain: bool
    declarations: list[Declaration]

    def name(self, lang: Lang) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def kind_choices(rules: ProgramRules) -> list[KindChoice]:
    """The program's kinds in its order; none for a program of one kind (no selector)."""
    choices = []
    for key in rules.participants:
        own = participant_rules(rules, key)
        e = own.eligibility
        choices.append(
            KindChoice(
                key=key,
                name_zh=own.name_zh,
                name_en=own.name_en,
                min_staff=e.min_staff,
                min_senior=e.min_senior_full_time,
                domains=list(e.domains),
                domains_open=e.domains_open,
                host_types=list(e.host_types),
                pct=e.require_pct_minimum_data,
                one_per_domain=e.one_base_per_domain,
                declarations=list(e.declarations),
            )
        )
    return choices
