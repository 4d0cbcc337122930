"""The city and province officers' pages of the portal.

- ``GET /portal/officer`` (city_officer, province_admin): the plans awaiting the officer's step
  in a program year (``?program=&year=&city=&after=``): a city officer's ``city`` step within its
  region, the province's ``province`` step and every ``city`` step it may take over (handed to
  it by the rules, or silent past its window). Overdue items first, each deadline in words.
- ``GET /portal/officer/{year}/{base}?program=``: one plan: the document (opened in the browser
  from ``/v1/documents/{id}``) with its targets beside it, and the review form posted to
  ``POST /v1/programs/{p}/years/{y}/bases/{b}/plan/review`` (approve or return with a comment;
  a province taking a city step sends ``take_over`` and ``reason``).
- ``GET /portal/province?program=&year=`` (province_admin): the whole year (counts by stage,
  linking to ``/dashboard``), and the forms to launch the year (``.../launch``), extend a base's
  deadline with a reason (``.../bases/{b}/deadlines``), reassign a review's experts
  (``.../bases/{b}/review/experts``) and decide the objections (``.../objections/{id}/decision``).

Reads go through the API's own checks: ``require`` for the program or the cycle, the policy's
``row_visible`` for each base's row (as the dashboard's rows; the queue asks the dashboard for
the rows ``row_region_prefix`` says, and checks each), ``need_to_know`` on each state.
The queue and the desk read the dashboard's projections and ask the cycle workflows of one page
at most (``officer_sweep``): the queue ``PAGE_SIZE`` plans in verification a load, the earliest
in first (``?after=`` the cursor of its "next page" link), with their count and cities, the desk
``PAGE_SIZE`` rows a page (``?after=`` the cursor of its "next page" link), only those under
review asked (for their experts); the counts by stage are the dashboard's. The desk's
objections are a page too: ``OBJECTIONS_PAGE`` of them asked of the program year
(``?objections_after=`` the cursor of their "next page" link).
Every change is a form posted by ``static/portal.js`` to the ``/v1`` route named above.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.gateway.access import Target, allowed
from services.gateway.auth import require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.portal.common_pages import problem_page
from services.gateway.portal.officer_sweep import (
    BaseCycle,
    cycles_page,
    desk_rows,
    stage_counts,
    states_of,
    visible_page,
)
from services.gateway.portal.render import lang_of, page
from services.gateway.portal.session import PortalUser
from services.gateway.portal.words import Lang, say, words
from services.gateway.problems import ApiError
from services.gateway.public_models import CyclePublic
from services.gateway.routes import cycles, objections
from services.gateway.routes.params import ID
from services.gateway.year_view import year_state
from shared.contracts.cycle import CycleState
from shared.contracts.dashboard import SINCE_CURSOR
from shared.contracts.registry import ProgramList
from shared.domain.regions import is_within
from shared.domain.wording import BEIJING, deadline_en, deadline_zh, moment_en, moment_zh
from shared.rpc import Empty

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50  # rows a page shows, and so the most cycle workflows one page load asks
OBJECTIONS_PAGE = 50  # the objections the province desk shows a page
OFFICERS = ("city_officer", "province_admin")
DEADLINE_NAMES = ("plan", "plan_review", "self_evaluation", "review", "rectification")
STAGES = (
    "plan_filing",
    "plan_review",
    "implementing",
    "under_review",
    "graded",
    "rectifying",
    "closed",
    "delisted",
    "excluded",
    "held",
    "ended",
)

words(
    {
        "officer.title": ("待核实的实施方案", "Plans awaiting verification"),
        "officer.intro.city_officer": (
            "以下是本市（辖区）基地提交、等待市级核实的实施方案，逾期的排在最前。",
            "Plans filed by the bases of your city awaiting the city's verification; overdue"
            " ones first.",
        ),
        "officer.intro.province_admin": (
            "以下是等待省级核实的实施方案，以及可由省局代为核实的市级步骤，逾期的排在最前。",
            "Plans awaiting the province's verification, and city steps the province may take"
            " over; overdue ones first.",
        ),
        "officer.filter": ("筛选", "Filter"),
        "officer.program": ("项目", "Program"),
        "officer.year": ("年度", "Year"),
        "officer.city": ("城市", "City"),
        "officer.city.all": ("全部城市", "All cities"),
        "officer.show": ("显示", "Show"),
        "officer.queue.count": (
            "核实阶段共 {n} 个方案；本页列出其中等待您核实的。",
            "{n} plan(s) in verification; this page lists those awaiting your step.",
        ),
        "officer.queue.empty": ("目前没有等待您核实的方案。", "No plan awaits your step now."),
        "officer.col.base": ("基地", "Base"),
        "officer.col.city": ("城市", "City"),
        "officer.col.step": ("核实步骤", "Step"),
        "officer.col.filed": ("提交时间", "Filed"),
        "officer.col.deadline": ("核实期限", "Verify by"),
        "officer.col.state": ("状态", "State"),
        "officer.col.open": ("操作", "Action"),
        "officer.open": ("查看并核实", "Open and verify"),
        "officer.open.label": ("查看并核实 {base} 的方案", "Open and verify the plan of {base}"),
        "officer.step.city": ("市级核实", "City verification"),
        "officer.step.province": ("省级核实", "Province verification"),
        "officer.takeover": ("可由省局代为核实", "The province may take this step over"),
        "officer.step.national": ("国家级核实", "National verification"),
        "officer.forward.heading": ("待汇总报送", "Waiting to be forwarded"),
        "officer.forward.units": (
            "{region} 有 {n} 个单位的计划等待汇总报送：",
            "{n} unit plan(s) wait for {region} to forward them:",
        ),
        "officer.forward.document": ("报送函编号（可选）", "Covering letter reference (optional)"),
        "officer.forward.submit": ("汇总报送", "Forward"),
        "officer.overdue": ("已逾期", "Overdue"),
        "officer.on_time": ("未逾期", "On time"),
        "officer.left.days": ("还剩 {n} 天", "{n} days left"),
        "officer.left.hours": ("还剩 {n} 小时", "{n} hours left"),
        "officer.left.soon": ("不足 1 小时", "less than an hour left"),
        "officer.late.days": ("已逾期 {n} 天", "{n} days overdue"),
        "officer.late.hours": ("已逾期 {n} 小时", "{n} hours overdue"),
        "officer.late.soon": ("刚刚逾期", "just overdue"),
        "officer.none": ("—", "—"),
        "officer.next": ("下一页", "Next page"),
        "officer.first": ("回到第一页", "Back to the first page"),
        "officer.pager": ("翻页", "Pages"),
        "officer.province.link": (
            "省局工作台（启动年度、延期、专家、异议）",
            "Province desk (launch, extensions, experts, objections)",
        ),
        # one plan
        "officer.plan.title": ("{base} 的实施方案", "The plan of {base}"),
        "officer.plan.back": ("返回待办列表", "Back to the queue"),
        "officer.plan.facts": ("基本情况", "At a glance"),
        "officer.plan.stage": ("当前阶段", "Stage"),
        "officer.plan.step": ("待核实步骤", "Step awaited"),
        "officer.plan.no_step": ("目前没有待核实的步骤。", "No verification step is awaited."),
        "officer.plan.deadline": ("核实期限", "Verify by"),
        "officer.plan.document": ("方案文件", "Plan document"),
        "officer.plan.document.none": ("尚未提交方案文件。", "No plan document filed yet."),
        "officer.plan.document.open": (
            "在新窗口打开方案文件（第 {v} 版，{name}）",
            "Open the plan document in a new window (version {v}, {name})",
        ),
        "officer.plan.document.frame": ("方案文件预览", "Plan document preview"),
        "officer.plan.document.show": ("在本页显示方案文件", "Show the plan document on this page"),
        "officer.plan.document.sha": ("SHA-256 校验值", "SHA-256"),
        "officer.plan.targets": ("年度目标", "Targets"),
        "officer.plan.targets.none": ("方案未列出目标。", "The plan lists no targets."),
        "officer.plan.col.key": ("指标代码", "Key"),
        "officer.plan.col.name": ("指标", "Indicator"),
        "officer.plan.col.target": ("目标值", "Target"),
        "officer.plan.col.unit": ("单位", "Unit"),
        "officer.plan.history": ("以往核实意见", "Earlier verification comments"),
        "officer.review": ("核实意见", "Your decision"),
        "officer.review.decision": ("核实结论", "Decision"),
        "officer.review.approve": ("通过", "Approve"),
        "officer.review.return": ("退回修改", "Return for changes"),
        "officer.review.comment": (
            "意见（退回时请写明需修改之处）",
            "Comment (say what to change when returning)",
        ),
        "officer.review.take_over": ("由省局代为核实市级步骤", "The province takes the city step"),
        "officer.review.reason": ("代为核实的理由", "Why the province takes the step"),
        "officer.review.submit": ("提交核实意见", "Send the decision"),
        "officer.review.not_yours": (
            "此步骤不由您核实。",
            "This step is not yours to take.",
        ),
        # province desk
        "officer.province.title": ("省局工作台", "Province desk"),
        "officer.province.summary": ("全年概况", "The whole year"),
        "officer.province.register": ("登记基地", "Register bases"),
        "officer.province.phase": ("年度状态", "Year"),
        "officer.province.phase.none": ("本年度尚未启动。", "This year has not been launched."),
        "officer.province.phase.value": (
            "{phase}（已开启 {n} 个周期）",
            "{phase} ({n} cycles opened)",
        ),
        "officer.province.phase.launching": ("正在启动", "launching"),
        "officer.province.phase.reviewing": (
            "进行中（备案、实施与评估）",
            "under way (filing, work, review)",
        ),
        "officer.province.phase.publication": ("公示期", "results in publication (公示)"),
        "officer.province.phase.concluding": ("公示结束，正在收尾", "publication over, concluding"),
        "officer.province.phase.done": ("已结束", "done"),
        "officer.province.col.stage": ("阶段", "Stage"),
        "officer.province.col.count": ("基地数", "Bases"),
        "officer.province.dashboard": ("打开全年概况看板", "Open the year dashboard"),
        "officer.province.launch": ("启动年度评估", "Launch the year"),
        "officer.province.launch.hint": (
            "为 {year} 年度的所有在册基地开启周期。已启动的年度不会重复启动。",
            "Opens a cycle for every registered base in {year}. A year already launched is"
            " not launched twice.",
        ),
        "officer.province.launch.submit": ("启动 {year} 年度", "Launch {year}"),
        "officer.province.extend": ("延长期限", "Extend a deadline"),
        "officer.province.extend.base": ("基地", "Base"),
        "officer.province.extend.deadline": ("期限", "Deadline"),
        "officer.province.extend.until": ("延至（北京时间）", "Until (Beijing time)"),
        "officer.province.extend.reason": ("延期理由", "Reason"),
        "officer.province.extend.submit": ("延长期限", "Extend"),
        "officer.province.reassign": ("更换评审专家", "Reassign experts"),
        "officer.province.reassign.base": ("基地", "Base"),
        "officer.province.reassign.replace": (
            "需更换的专家（用户名，多个以逗号分隔）",
            "Experts to replace (user names, comma separated)",
        ),
        "officer.province.reassign.reason": ("更换理由", "Reason"),
        "officer.province.reassign.submit": ("更换专家", "Reassign"),
        "officer.province.reassign.current": ("当前评审专家", "Experts now assigned"),
        "officer.province.objections": ("异议处理", "Objections"),
        "officer.province.objections.none": ("本年度没有异议。", "No objection this year."),
        "officer.province.objections.unavailable": (
            "本年度尚未启动，没有异议。",
            "The year has not been launched: no objections.",
        ),
        "officer.province.obj.col.base": ("基地", "Base"),
        "officer.province.obj.col.grounds": ("异议理由", "Grounds"),
        "officer.province.obj.col.by": ("提出人", "Lodged by"),
        "officer.province.obj.col.status": ("状态", "Status"),
        "officer.province.obj.decision": ("处理结论", "Decision"),
        "officer.province.obj.uphold": ("异议成立（重新评审）", "Uphold (the review reopens)"),
        "officer.province.obj.dismiss": ("异议不成立", "Dismiss"),
        "officer.province.obj.reason": ("处理理由", "Reason"),
        "officer.province.obj.submit": ("提交处理结论", "Send the decision"),
        "officer.province.obj.decided": (
            "已处理：{status}。理由：{reason}",
            "Decided: {status}. Reason: {reason}",
        ),
        "officer.province.obj.status.lodged": ("待处理", "awaiting a decision"),
        "officer.province.obj.status.upheld": ("异议成立", "upheld"),
        "officer.province.obj.status.dismissed": ("异议不成立", "dismissed"),
        "officer.province.bases": ("各基地", "The bases"),
        "officer.province.col.experts": ("评审专家", "Experts"),
        "officer.province.no_bases": ("尚无基地周期。", "No base cycle yet."),
        "officer.province.more": ("下一页基地", "Next page of bases"),
        "officer.province.first": ("回到第一页", "Back to the first page"),
        "officer.province.obj.more": ("下一页异议", "Next page of objections"),
        "officer.province.obj.first": (
            "回到第一页异议",
            "Back to the first page of objections",
        ),
        "officer.province.obj.pager": ("异议分页", "Pages of objections"),
        "officer.deadline.plan": ("方案提交", "Plan filing"),
        "officer.deadline.plan_review": ("方案核实", "Plan verification"),
        "officer.deadline.self_evaluation": ("自评报告", "Self-evaluation"),
        "officer.deadline.review": ("专家评审", "Expert review"),
        "officer.deadline.rectification": ("整改报告", "Rectification"),
        "officer.stage.plan_filing": ("实施方案备案", "Plan filing"),
        "officer.stage.plan_review": ("方案核实", "Plan verification"),
        "officer.stage.implementing": ("实施建设", "Implementing"),
        "officer.stage.under_review": ("绩效评估", "Under review"),
        "officer.stage.graded": ("等待公示", "Graded, awaiting publication"),
        "officer.stage.rectifying": ("限期整改", "Rectifying"),
        "officer.stage.closed": ("已结束", "Closed"),
        "officer.stage.delisted": ("摘牌退出", "De-listed"),
        "officer.stage.excluded": ("未纳入评估", "Excluded"),
        "officer.stage.held": ("待上年度整改结束", "Held until last year's rectification ends"),
        "officer.stage.ended": ("因摘牌终止", "Ended by de-listing"),
        "officer.problem.not_officer": (
            "此页面供市、省知识产权局使用。",
            "This page is for the city and province IP offices.",
        ),
    }
)


# ---------------------------------------------------------------------------- reading


@dataclass
class QueueItem:
    base: str
    name: str
    city: str
    step: str
    take_over: bool
    filed_at: str
    due: datetime | None
    due_words: str
    overdue: bool
    left_words: str


@dataclass
class Scope:
    """The program year a page shows, and the programs the viewer may pick from."""

    program: str
    year: int
    programs: list[str] = field(default_factory=list)


def left_words(due: datetime, now: datetime, lang: Lang) -> str:
    """「还剩 12 天」 / "12 days left", or 「已逾期 3 天」 / "3 days overdue"."""
    ahead = due - now
    late = ahead.total_seconds() < 0
    span = (now - due) if late else ahead
    prefix = "officer.late" if late else "officer.left"
    if span.days >= 1:
        return say(f"{prefix}.days", lang, n=span.days)
    if span.seconds >= 3600:
        return say(f"{prefix}.hours", lang, n=span.seconds // 3600)
    return say(f"{prefix}.soon", lang)


def deadline_text(state: CycleState, name: str, lang: Lang) -> str:
    until = state.deadlines.get(name)
    if until is None:
        return say("officer.none", lang)
    info = state.deadline_info.get(name)
    last_day, provisional = (info.last_day, info.provisional) if info else (None, False)
    said = deadline_zh if lang == "zh" else deadline_en
    return said(until, last_day, provisional=provisional)


async def _programs(deps: Deps, user: Principal) -> list[str]:
    """The programs ``user`` may read: its own, or those the registry lists that it may."""
    if user.program:
        return [user.program]
    listed = await rpc(deps.rpc.call("registry", "programs.list", Empty(), ProgramList))
    # The policy ``require`` asks, with the issuing region the listing already carries.
    return sorted(
        p.rules.id
        for p in listed.programs
        if allowed(
            user,
            "read_program",
            Target(program=p.rules.id, program_region=p.rules.region),
        )
    )


async def _scope(deps: Deps, user: Principal, program: str | None, year: int | None) -> Scope:
    """The program asked for is checked before anything else is read; without one, the first
    of the programs the viewer may read."""
    if program:
        await require(deps, user, "read_program", program=program)
    programs = await _programs(deps, user)
    chosen = program or (programs[0] if programs else "")
    if not chosen:
        raise ApiError(404, "program_not_found", "no program this account may read")
    if not program:
        await require(deps, user, "read_program", program=chosen)
    return Scope(chosen, year or await _latest_year(deps, chosen), programs)


async def _latest_year(deps: Deps, program: str) -> int:
    """The latest launched year of ``program`` around today (this year when none is)."""
    this_year = datetime.now(BEIJING).year
    candidates = list(range(this_year + 1, this_year - 3, -1))
    found = await asyncio.gather(*(_phase(deps, Scope(program, y)) for y in candidates))
    return next((y for y, (phase, _) in zip(candidates, found, strict=True) if phase), this_year)


def _awaits_me(
    user: Principal, state: CycleState | CyclePublic, now: datetime
) -> tuple[bool, bool]:
    """Whether the plan awaits ``user``'s step, and whether that is a take-over."""
    step = state.verification_step
    if state.stage.value != "plan_review" or step is None:
        return False, False
    if getattr(state, "forwarding_region", None) is not None:
        return False, False  # at an aggregation step: forwarded by its region, not reviewed
    if user.role == "city_officer":
        return step == "city", False
    if user.role == "province_admin":
        if step in ("province", "national"):
            return True, False
        due = state.deadlines.get("plan_review")
        silent = state.step_taken_by == "province" or (due is not None and due < now)
        return silent, silent
    return False, False


def queue_items(user: Principal, found: list[BaseCycle], lang: Lang) -> list[QueueItem]:
    now = datetime.now(UTC)
    items = []
    for c in found:
        mine, take_over = _awaits_me(user, c.state, now)
        if not mine:
            continue
        plans = [d for d in c.state.documents if d.kind == "plan"]
        due = c.state.deadlines.get("plan_review")
        items.append(
            QueueItem(
                base=c.id,
                name=c.name,
                city=c.city,
                step=c.state.verification_step or "",
                take_over=take_over,
                filed_at=_moment(plans[-1].filed_at, lang) if plans else say("officer.none", lang),
                due=due,
                due_words=deadline_text(c.state, "plan_review", lang),
                overdue=due is not None and due < now,
                left_words=left_words(due, now, lang) if due else "",
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda i: (not i.overdue, i.due or far, i.base))
    return items


@dataclass(frozen=True)
class Forwarding:
    """A region whose units' plans wait at its aggregation step, for the 汇总报送 form."""

    region: str
    units: list[str]  # names (ids), in id order
    idempotency: str


def forwardings(user: Principal, found: list[BaseCycle]) -> list[Forwarding]:
    """The regions ``user`` may forward (the program's admin: any; an officer: those within its
    region) with their units among ``found`` waiting there."""
    waiting: dict[str, list[BaseCycle]] = {}
    for c in found:
        region = c.state.forwarding_region
        if c.state.stage.value != "plan_review" or region is None:
            continue
        if user.role == "province_admin" or (
            user.role == "city_officer" and user.region and is_within(region, user.region)
        ):
            waiting.setdefault(region, []).append(c)
    return [
        Forwarding(
            region=region,
            units=[f"{c.name} ({c.id})" for c in sorted(units, key=lambda c: c.id)],
            idempotency=_key(),
        )
        for region, units in sorted(waiting.items())
    ]


def _moment(at: datetime, lang: Lang) -> str:
    return moment_zh(at) if lang == "zh" else moment_en(at)


def _problem_page(request: Request, user: Principal, exc: ApiError) -> HTMLResponse:
    """common_pages.problem_page, telling a non-officer refused whom the page is for."""
    not_officer = exc.code == "forbidden" and user.role not in OFFICERS
    hint = say("officer.problem.not_officer", lang_of(request)) if not_officer else ""
    return problem_page(request, user, exc, hint=hint)


def _officer(user: Principal) -> None:
    if user.role not in OFFICERS:
        raise ApiError(403, "forbidden", f"a {user.role} has no officer's queue")


def _key() -> str:
    return f"portal-{uuid.uuid4().hex}"


ProgramQ = Annotated[str | None, Query(pattern=ID)]
YearQ = Annotated[int | None, Query(ge=2000, le=2100)]
CityQ = Annotated[str | None, Query(pattern=r"^(\d{4}00)?$")]  # a city's code, not a county's


# ----------------------------------------------------------------------------- routes


@router.get("/portal/officer", response_class=HTMLResponse)
async def officer_queue(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    program: ProgramQ = None,
    year: YearQ = None,
    city: CityQ = None,
    after: Annotated[str | None, Query(pattern=SINCE_CURSOR)] = None,
) -> HTMLResponse:
    try:
        _officer(user)
        scope = await _scope(deps, user, program, year)
        listed = await visible_page(
            deps,
            user,
            scope.program,
            scope.year,
            "plan_review",
            city=city or None,
            after=after,
            limit=PAGE_SIZE,
        )
        found = await states_of(deps, user, scope.program, scope.year, listed.rows)
    except ApiError as exc:
        return _problem_page(request, user, exc)
    return page(
        request,
        "officer_queue.html",
        user=user,
        scope=scope,
        cities=listed.cities,
        city=city or "",
        items=queue_items(user, found, lang_of(request)),
        forwardings=forwardings(user, found),
        total=listed.total,
        after=after or "",
        next_cursor=listed.next_cursor,
    )


@router.get("/portal/officer/{year}/{base}", response_class=HTMLResponse)
async def officer_plan(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    year: Annotated[int, Path(ge=2000, le=2100)],
    base: Annotated[str, Path(pattern=ID)],
    program: ProgramQ = None,
) -> HTMLResponse:
    lang = lang_of(request)
    try:
        _officer(user)
        scope = await _scope(deps, user, program, year)
        found = await require(deps, user, "read_cycle", program=scope.program, base=base, year=year)
        cycle = await cycles.cycle_state(scope.program, year, base, deps, user)
    except ApiError as exc:
        return _problem_page(request, user, exc)
    mine, take_over = _awaits_me(user, cycle, datetime.now(UTC))
    if user.role == "province_admin" and cycle.verification_step == "city":
        mine = True  # the route decides whether the take-over is allowed yet
        take_over = True
    plans = [d for d in cycle.documents if d.kind == "plan"]
    words_of = cycle.deadline_words.get("plan_review")
    due = cycle.deadlines.get("plan_review")
    returned = [
        h
        for h in cycle.history
        if h.event in ("plan.returned", "plan.verified") and h.detail.get("comment")
    ]
    return page(
        request,
        "officer_plan.html",
        user=user,
        scope=scope,
        base=base,
        base_name=found.name if found else base,
        cycle=cycle,
        stage=cycle.stage.value,
        plan=plans[-1] if plans else None,
        due_words=(words_of.zh if lang == "zh" else words_of.en) if words_of else "",
        left_words=left_words(due, datetime.now(UTC), lang) if due else "",
        overdue=due is not None and due < datetime.now(UTC),
        mine=mine,
        take_over=take_over,
        comments=returned,
        idempotency=_key(),
    )


@router.get("/portal/province", response_class=HTMLResponse)
async def province_desk(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    program: ProgramQ = None,
    year: YearQ = None,
    after: Annotated[str | None, Query(pattern=ID)] = None,
    objections_after: Annotated[str | None, Query(pattern=ID)] = None,
) -> HTMLResponse:
    lang = lang_of(request)
    try:
        if user.role != "province_admin":
            raise ApiError(403, "forbidden", f"a {user.role} has no province desk")
        scope = await _scope(deps, user, program, year)
        await require(deps, user, "administer", program=scope.program)
        listed_rows = await cycles_page(
            deps, scope.program, scope.year, cursor=after, limit=PAGE_SIZE
        )
        rows = await desk_rows(deps, user, scope.program, scope.year, listed_rows.cycles)
        stages = await stage_counts(deps, scope.program, scope.year)
        phase, opened = await _phase(deps, scope)
        listed, objections_next = (
            await _objections(deps, user, scope, objections_after) if phase else ([], None)
        )
    except ApiError as exc:
        return _problem_page(request, user, exc)
    return page(
        request,
        "officer_province.html",
        user=user,
        scope=scope,
        phase=phase,
        opened=opened,
        stages=[(s, stages[s]) for s in STAGES if stages.get(s)],
        rows=rows,
        bases=[r.base for r in rows],
        after=after or "",
        next_cursor=listed_rows.next_cursor,
        deadline_names=DEADLINE_NAMES,
        objections=listed,
        objections_after=objections_after or "",
        objections_next=objections_next,
        keys={"launch": _key(), "extend": _key(), "reassign": _key()},
        lang_code=lang,
    )


async def _phase(deps: Deps, scope: Scope) -> tuple[str | None, int]:
    """The program year's phase and how many cycles it opened; None when not launched."""
    try:
        state = await year_state(deps, scope.program, scope.year)
    except ApiError as exc:
        if exc.status == 404:
            return None, 0
        raise
    return state.phase, state.opened


async def _objections(
    deps: Deps, user: Principal, scope: Scope, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the year's objections (``OBJECTIONS_PAGE``, after ``after``), each with the
    Idempotency-Key of its decision form, and the cursor of the next page."""
    try:
        listed = await objections.objection_page(
            scope.program, scope.year, deps, user, after, OBJECTIONS_PAGE
        )
    except (ApiError, ValidationError) as exc:
        if isinstance(exc, ApiError) and exc.status != 404:
            raise
        return [], None
    shown = [o.model_dump(mode="json") | {"key": _key()} for o in listed.objections]
    return shown, listed.next_cursor
