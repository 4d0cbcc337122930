"""The base pages of the portal: a base's staff see their cycle and do their part.

``/portal/base`` shows the base's cycle of the latest launched year of its program;
``/portal/base/{year}`` that year's; ``/portal/base/{year}/{base}`` names the base (what a link
from elsewhere uses; a base's staff reading another base get 404, as the API answers).

Every read goes through the API's own route functions (:func:`cycles.cycle_state`,
:func:`objections.objection_page`), so ``require`` and need to know decide what is shown; the
forms post to the ``/v1`` filing and objection routes (``static/portal.js``), never here. The
objections shown are the base's own, ``OBJECTIONS_PAGE`` at most (``?objections_after=`` the
cursor of their "next page" link).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from temporalio.service import RPCError, RPCStatusCode

from services.gateway.access import Target as Scope
from services.gateway.access import allowed
from services.gateway.auth import base_of, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.portal.problem_words import PROBLEM_WORDS
from services.gateway.portal.render import lang_of, page
from services.gateway.portal.session import PortalUser
from services.gateway.portal.words import Lang, say, words
from services.gateway.problems import ApiError
from services.gateway.public_models import CyclePublic
from services.gateway.routes import cycles, objections
from services.gateway.routes.params import ID, Base, Year
from services.gateway.year_view import year_state
from shared.contracts.cycle import Target
from shared.contracts.dashboard import YearList, YearsQuery
from shared.contracts.objections import Objection, ObjectionList
from shared.contracts.program_year import ProgramYearState
from shared.contracts.results import OUTCOME_EN, OUTCOME_ZH
from shared.contracts.workflow_names import cycle_id
from shared.domain.grading import completion_rates
from shared.domain.stages import Stage
from shared.domain.wording import BEIJING, deadline_en, deadline_zh, moment_en, moment_zh
from shared.paging import pages

router = APIRouter(include_in_schema=False)

OBJECTIONS_PAGE = 50  # the base's objections one page shows

# Which deadline the stage is waiting on, and what the base is expected to do in it.
STAGE_DEADLINE: dict[Stage, str] = {
    Stage.PLAN_FILING: "plan",
    Stage.PLAN_REVIEW: "plan_review",
    Stage.IMPLEMENTING: "self_evaluation",
    Stage.UNDER_REVIEW: "review",
    Stage.RECTIFYING: "rectification",
}

words(
    {
        "base.title": ("{year}年度 · 基地工作台", "{year} · Base workspace"),
        "base.h1": ("{name}：{year}年度工作", "{name}: the {year} cycle"),
        "base.id": ("编号 {base}", "id {base}"),
        "base.year.pick": ("年度", "Year"),
        "base.year.go": ("查看该年度", "Show that year"),
        "base.year.none": (
            "尚未找到本基地已启动的年度。年度启动后，这里会显示您的工作。也可以输入年度查看。",
            "No launched year was found for this base yet. Once a year is launched your work"
            " appears here; you may also enter a year.",
        ),
        "base.years": ("其他年度", "Other years"),
        "base.glance": ("本年度概况", "The cycle at a glance"),
        "base.stage": ("当前阶段", "Stage"),
        "base.deadline": ("下一截止时间", "Next deadline"),
        "base.deadline.none": ("当前阶段没有截止时间。", "No deadline in this stage."),
        "base.expected": ("现在需要做什么", "What is expected now"),
        "base.round.n": ("（整改复评第 {n} 轮）", " (rectification re-review {n})"),
        "base.sep": ("：", ": "),
        # Stages, in words.
        "base.stage.plan_filing": ("实施方案备案", "Filing the implementation plan"),
        "base.stage.plan_review": ("方案核实", "Plan verification"),
        "base.stage.implementing": ("实施建设", "Implementing the plan"),
        "base.stage.under_review": ("绩效评估", "Performance review"),
        "base.stage.graded": ("等待公示", "Graded, awaiting publication"),
        "base.stage.rectifying": ("限期整改", "Rectifying"),
        "base.stage.closed": ("已结束", "Closed"),
        "base.stage.delisted": ("摘牌退出", "De-listed"),
        "base.stage.excluded": ("未纳入评估", "Excluded from the assessment"),
        "base.stage.held": ("待上年度整改结束", "Held until last year's rectification ends"),
        "base.stage.ended": ("因摘牌终止", "Ended by de-listing"),
        # What is expected now.
        "base.todo.file_plan": (
            "请填写目标表并上传实施方案，在截止时间前提交备案。",
            "Fill in the targets and upload the implementation plan before the deadline.",
        ),
        "base.todo.refile_plan": (
            "实施方案已被退回，请按审核意见修改后重新提交。",
            "Your plan was returned: revise it as the comment says and file it again.",
        ),
        "base.todo.wait_city": (
            "方案已提交，等待市知识产权局核实。",
            "Plan filed; waiting for the city IP office to verify it.",
        ),
        "base.todo.wait_province": (
            "方案已提交，等待省知识产权局核实。",
            "Plan filed; waiting for the provincial IP office to verify it.",
        ),
        "base.todo.wait_verification": (
            "方案已提交，等待核实。",
            "Plan filed; waiting for verification.",
        ),
        "base.todo.self_evaluate": (
            "方案已通过。请按方案实施，并在截止时间前填报目标完成情况、上传年度自评报告。",
            "Your plan was accepted. Implement it, then report the actuals against your"
            " targets and upload the self-evaluation report before the deadline.",
        ),
        "base.todo.self_evaluated": (
            "自评报告已提交；截止前仍可重新提交。",
            "Self-evaluation filed; you may file it again before the deadline.",
        ),
        "base.todo.wait_review": (
            "专家正在评审，请等待结果。",
            "The experts are reviewing; please wait for the result.",
        ),
        "base.todo.wait_publication": (
            "评审已完成，等待结果公示。",
            "The review is done; the results will be published.",
        ),
        "base.todo.rectify": (
            "请按要求整改，并在截止时间前上传整改报告。",
            "Rectify as required and upload the rectification report before the deadline.",
        ),
        "base.todo.rectified": (
            "整改报告已提交，等待复评。",
            "Rectification report filed; waiting for the re-review.",
        ),
        "base.todo.closed": ("本年度工作已结束。", "This year's cycle has ended."),
        "base.todo.held": (
            "上年度整改结束后，本年度的方案备案才开始。",
            "Plan filing starts once last year's rectification ends.",
        ),
        "base.todo.objection": (
            "结果公示中：如对公示结果有异议，可在公示期内提出。",
            "The results are published: you may lodge an objection within the 公示 period.",
        ),
        # Countdown.
        "base.left.days": ("还剩 {n} 天，{when}", "{n} days left, {when}"),
        "base.left.day": ("还剩 1 天，{when}", "1 day left, {when}"),
        "base.left.today": ("今天截止，{when}", "Due today, {when}"),
        "base.left.hours": ("还剩约 {n} 小时，{when}", "About {n} hours left, {when}"),
        "base.left.minutes": ("还剩约 {n} 分钟，{when}", "About {n} minutes left, {when}"),
        "base.left.minute": ("还剩不到 1 分钟，{when}", "Less than a minute left, {when}"),
        "base.overdue.days": ("已逾期 {n} 天（{when}）", "{n} days overdue ({when})"),
        "base.overdue.day": ("已逾期 1 天（{when}）", "1 day overdue ({when})"),
        "base.overdue.now": ("已过截止时间（{when}）", "The deadline has passed ({when})"),
        "base.deadline.name.plan": ("方案备案截止", "Plan filing"),
        "base.deadline.name.plan_review": ("方案核实截止", "Plan verification"),
        "base.deadline.name.self_evaluation": ("自评报告截止", "Self-evaluation"),
        "base.deadline.name.review": ("专家评审截止", "Expert review"),
        "base.deadline.name.rectification": ("整改报告截止", "Rectification report"),
        # The plan form.
        "base.plan.h": ("提交实施方案", "File the implementation plan"),
        "base.plan.targets": ("目标表", "Targets"),
        "base.plan.targets.hint": (
            "每行一个目标：编号（字母、数字，每行不同）、名称、目标值（数字）和单位。",
            "One target a row: a key (unique), a name, the target (a number) and its unit.",
        ),
        "base.col.key": ("编号", "Key"),
        "base.col.name": ("目标名称", "Name"),
        "base.col.target": ("目标值", "Target"),
        "base.col.unit": ("单位", "Unit"),
        "base.col.actual": ("完成值", "Actual"),
        "base.col.completion": ("完成率", "Completion"),
        "base.col.row": ("第 {n} 行", "Row {n}"),
        "base.col.remove": ("操作", "Action"),
        "base.row.add": ("添加一行", "Add a row"),
        "base.row.remove": ("删除第 {n} 行", "Remove row {n}"),
        "base.plan.file": ("实施方案文件", "Plan document"),
        "base.file.hint": (
            "可将文件拖到此处，或点击选择文件（PDF、Word 等）。",
            "Drop the file here, or choose it (PDF, Word, ...).",
        ),
        "base.file.chosen": ("已选择：", "Chosen: "),
        "base.upload.progress": ("上传进度", "Upload progress"),
        "base.plan.submit": ("提交实施方案", "File the plan"),
        "base.noscript": (
            "此页面的表单需要启用浏览器脚本。",
            "The forms on this page need JavaScript enabled.",
        ),
        # Self-evaluation.
        "base.selfeval.h": ("提交年度自评", "File the self-evaluation"),
        "base.selfeval.actuals": ("目标完成情况", "Actuals against the targets"),
        "base.selfeval.notargets": (
            "方案中没有目标，只需上传自评报告。",
            "The plan has no targets: upload the report only.",
        ),
        "base.selfeval.file": ("年度自评报告", "Self-evaluation report"),
        "base.selfeval.submit": ("提交自评", "File the self-evaluation"),
        "base.completion.none": ("未填写", "not entered"),
        # Rectification.
        "base.rect.h": ("提交整改报告", "File the rectification report"),
        "base.rect.file": ("整改报告", "Rectification report"),
        "base.rect.submit": ("提交整改报告", "File the rectification report"),
        # Targets as filed.
        "base.targets.h": ("备案的目标", "The targets filed"),
        # Receipts.
        "base.receipts.h": ("已提交的材料（回执）", "Filed documents (receipts)"),
        "base.receipts.none": ("尚未提交任何材料。", "Nothing filed yet."),
        "base.col.kind": ("材料", "Document"),
        "base.col.version": ("版本", "Version"),
        "base.col.file": ("文件名", "File"),
        "base.col.sha256": ("SHA-256 校验值", "SHA-256"),
        "base.col.arrived": ("收到时间", "Received"),
        "base.kind.plan": ("实施方案", "Implementation plan"),
        "base.kind.self_evaluation": ("年度自评报告", "Self-evaluation report"),
        "base.kind.rectification": ("整改报告", "Rectification report"),
        "base.kind.evidence": ("佐证材料", "Evidence"),
        "base.kind.results": ("结果", "Results"),
        "base.download": ("下载", "Download"),
        # Returned plans.
        "base.returns.h": ("被退回的方案", "Returned plans"),
        "base.col.when": ("时间", "When"),
        "base.col.step": ("核实环节", "Step"),
        "base.col.comment": ("审核意见", "Comment"),
        "base.col.refile_by": ("重新提交截止", "Refile by"),
        "base.step.city": ("市级核实", "City verification"),
        "base.step.province": ("省级核实", "Provincial verification"),
        "base.comment.none": ("（未填写意见）", "(no comment given)"),
        # Results.
        "base.results.h": ("评估结果", "Results"),
        "base.results.grade": ("等级", "Grade"),
        "base.results.total": ("总分", "Total"),
        "base.results.outcome": ("结论", "Outcome"),
        "base.results.reason": ("说明", "Reason"),
        "base.results.averages": ("各指标平均分", "Indicator averages"),
        "base.col.indicator": ("指标", "Indicator"),
        "base.col.average": ("平均分", "Average"),
        "base.col.max": ("满分", "Maximum"),
        "base.results.notyet": (
            "结果公示后，这里会显示您的等级和各指标平均分。",
            "Your grade and the indicator averages appear here once the results are published.",
        ),
        "base.grade.excellent": ("优秀", "Excellent"),
        "base.grade.pass": ("合格", "Pass"),
        "base.grade.fail": ("不合格", "Fail"),
        # Objections.
        "base.obj.h": ("对公示结果提出异议", "Lodge an objection to the published results"),
        "base.obj.until": ("公示期至 {when}", "The 公示 period lasts until {when}"),
        "base.obj.grounds": ("异议理由", "Grounds"),
        "base.obj.grounds.hint": ("至少 5 个字，最多 4000 字。", "5 to 4000 characters."),
        "base.obj.contact": ("联系方式（选填）", "Contact (optional)"),
        "base.obj.submit": ("提交异议", "Lodge the objection"),
        "base.obj.mine": ("本基地的异议", "Objections about this base"),
        "base.obj.more": ("下一页异议", "Next page of objections"),
        "base.obj.first": ("回到第一页异议", "Back to the first page of objections"),
        "base.obj.pager": ("异议分页", "Pages of objections"),
        "base.obj.status.lodged": ("已受理，待处理", "Lodged, awaiting a decision"),
        "base.obj.status.upheld": ("异议成立", "Upheld"),
        "base.obj.status.dismissed": ("异议不成立", "Dismissed"),
        "base.col.grounds": ("理由", "Grounds"),
        "base.col.status": ("处理结果", "Status"),
        # Problems.
        "base.problem.h": ("无法显示此页面", "This page cannot be shown"),
        "base.problem.not_base": (
            "此页面供基地工作人员使用。",
            "This page is for a base's staff.",
        ),
        "base.problem.back": ("返回首页", "Back to the home page"),
        # Validation as they type (base.js reads these from the page).
        "base.v.key": (
            "请填写编号（1–64 个字符）。",
            "Enter a key (1 to 64 characters).",
        ),
        "base.v.key.dup": ("编号与其他行重复。", "This key is used on another row."),
        "base.v.name": ("请填写名称（1–200 个字符）。", "Enter a name (1 to 200 characters)."),
        "base.v.target": ("目标值须为数字。", "The target must be a number."),
        "base.v.unit": ("单位最多 32 个字符。", "The unit is at most 32 characters."),
        "base.v.rows": ("目标最多 200 行。", "At most 200 targets."),
        "base.v.actual": ("完成值须为数字。", "The actual must be a number."),
        "base.v.file": ("请选择要上传的文件。", "Choose the file to upload."),
        "base.v.fix": ("请先改正标出的问题。", "Please correct the problems marked."),
    }
)


@dataclass
class Countdown:
    text: str
    overdue: bool


@dataclass
class Receipt:
    kind: str
    version: int
    filename: str
    sha256: str
    arrived: str
    document_id: str


@dataclass
class Returned:
    when: str
    step: str
    comment: str
    refile_by: str


@dataclass
class Average:
    name: str
    average: float
    maximum: float | None


@dataclass
class BaseView:
    program: str
    year: int
    base: str
    base_name: str
    cycle: CyclePublic
    stage_words: str
    expected: list[str]
    deadline_name: str | None
    deadline_words: str
    countdown: Countdown | None
    can_file: bool
    show_plan_form: bool
    show_selfeval_form: bool
    show_rect_form: bool
    receipts: list[Receipt]
    returns: list[Returned]
    published: bool
    grade: str | None
    total: float | None
    outcome: str | None
    outcome_reason: str
    averages: list[Average]
    publication: bool
    publication_until: str
    objections: list[Objection]
    objections_next: str | None
    may_object: bool
    years: list[int]
    keys: dict[str, str] = field(default_factory=dict)


def countdown(
    until: datetime, last_day: date | None, now: datetime, lang: Lang, when: str = ""
) -> Countdown:
    """A deadline as a countdown in words: whole days left (rounded up) while a day or more
    remains; then "due today" for a deadline counted in days (it ends at 24:00 of its last
    day), hours or minutes for one that ends within a day; overdue by whole days after it."""
    if not when:
        when = deadline_zh(until, last_day) if lang == "zh" else deadline_en(until, last_day)
    local = until.astimezone(BEIJING)
    day_counted = last_day is not None or local.time() == time(0, 0)
    left = until - now
    if left <= timedelta(0):
        days = (now - until) // timedelta(days=1)
        if days >= 2:
            return Countdown(say("base.overdue.days", lang, n=days, when=when), True)
        if days == 1:
            return Countdown(say("base.overdue.day", lang, when=when), True)
        return Countdown(say("base.overdue.now", lang, when=when), True)
    if left >= timedelta(days=1):
        days = math.ceil(left / timedelta(days=1))
        key = "base.left.day" if days == 1 else "base.left.days"
        return Countdown(say(key, lang, n=days, when=when), False)
    if day_counted:
        return Countdown(say("base.left.today", lang, when=when), False)
    if left >= timedelta(hours=2):
        hours = math.ceil(left / timedelta(hours=1))
        return Countdown(say("base.left.hours", lang, n=hours, when=when), False)
    minutes = math.ceil(left / timedelta(minutes=1))
    key = "base.left.minute" if minutes <= 1 else "base.left.minutes"
    return Countdown(say(key, lang, n=minutes, when=when), False)


def _moment(instant: datetime, lang: Lang) -> str:
    return moment_zh(instant) if lang == "zh" else moment_en(instant)


def _expected(view_cycle: CyclePublic, rect_filed: bool, publication: bool) -> list[str]:
    stage = view_cycle.stage
    returned = any(h.event == "plan.returned" for h in view_cycle.history)
    todo: list[str] = []
    if stage == Stage.PLAN_FILING:
        todo.append("base.todo.refile_plan" if returned else "base.todo.file_plan")
    elif stage == Stage.PLAN_REVIEW:
        step = view_cycle.verification_step
        todo.append(f"base.todo.wait_{step}" if step else "base.todo.wait_verification")
    elif stage == Stage.IMPLEMENTING:
        filed = any(d.kind == "self_evaluation" for d in view_cycle.documents)
        todo.append("base.todo.self_evaluated" if filed else "base.todo.self_evaluate")
    elif stage == Stage.UNDER_REVIEW:
        todo.append("base.todo.wait_review")
    elif stage == Stage.GRADED:
        todo.append("base.todo.wait_publication")
    elif stage == Stage.RECTIFYING:
        todo.append("base.todo.rectified" if rect_filed else "base.todo.rectify")
    elif stage == Stage.HELD:
        todo.append("base.todo.held")
    else:
        todo.append("base.todo.closed")
    if publication:
        todo.append("base.todo.objection")
    return todo


def _grade_words(grade: str | None, lang: Lang) -> str | None:
    return say(f"base.grade.{grade}", lang) if grade else None


async def _year_state(deps: Deps, program: str, year: int) -> ProgramYearState | None:
    """The program year, or None for a cycle run without one (an operator's single cycle)."""
    try:
        return await year_state(deps, program, year)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


async def _objections(
    deps: Deps, user: Principal, program: str, year: int, base: str, after: str | None
) -> ObjectionList:
    """One page of ``base``'s objections (after ``after``) as the API lists them to ``user``."""
    try:
        return await objections.objection_page(
            program, year, deps, user, after, OBJECTIONS_PAGE, base=base
        )
    except ApiError as exc:
        if exc.status in (404, 409):
            return ObjectionList()
        raise


async def build_view(
    deps: Deps,
    user: Principal,
    program: str,
    year: int,
    base: str,
    lang: Lang,
    objections_after: str | None = None,
) -> BaseView:
    """Everything the page shows, read as the API reads it for ``user``: of the objections, the
    page of ``base``'s after ``objections_after``."""
    cycle = await cycles.cycle_state(program, year, base, deps, user)  # require(read_cycle)
    registered = await base_of(deps, program, base)  # read only once the cycle may be read
    can_file = allowed(user, "file", Scope(program=program, base=base))
    state = await _year_state(deps, program, year)
    published = bool(state and state.notices > 0)
    publication = bool(state and state.phase == "publication")
    stage = cycle.stage

    deadline_name = STAGE_DEADLINE.get(stage)
    if deadline_name not in cycle.deadlines:
        deadline_name = None
    deadline_text, count = "", None
    if deadline_name is not None:
        info = cycle.deadline_info.get(deadline_name)
        said = cycle.deadline_words.get(deadline_name)
        deadline_text = (said.zh if lang == "zh" else said.en) if said else ""
        count = countdown(
            cycle.deadlines[deadline_name],
            info.last_day if info else None,
            datetime.now(UTC),
            lang,
            deadline_text,
        )

    rect_docs = sum(1 for d in cycle.documents if d.kind == "rectification")
    rect_filed = stage == Stage.RECTIFYING and rect_docs >= max(cycle.round, 1)
    receipts = [
        Receipt(
            kind=say(f"base.kind.{d.kind}", lang),
            version=d.version,
            filename=d.filename,
            sha256=d.sha256,
            arrived=_moment(d.filed_at, lang),
            document_id=d.document_id,
        )
        for d in sorted(cycle.documents, key=lambda d: d.filed_at)
    ]
    returns = []
    for step in cycle.history:
        if step.event != "plan.returned":
            continue
        detail = step.detail
        refile = detail.get("refile_by")
        refile_words = ""
        if isinstance(refile, str) and refile:
            try:
                refile_words = _moment(datetime.fromisoformat(refile), lang)
            except ValueError:
                refile_words = refile
        which = detail.get("step")
        returns.append(
            Returned(
                when=_moment(step.at, lang),
                step=say(f"base.step.{which}", lang) if which in ("city", "province") else "",
                comment=str(detail.get("comment") or ""),
                refile_by=refile_words,
            )
        )

    grade = cycle.final_grade or cycle.grade
    averages: list[Average] = []
    if published and cycle.decisions:
        record = cycle.decisions[-1]
        scale = record.rubric.scale
        for indicator in record.rubric.indicators:
            if indicator.key not in record.averaged:
                continue
            name = indicator.name if lang == "zh" else (indicator.name_en or indicator.name)
            averages.append(Average(name, record.averaged[indicator.key], indicator.maximum(scale)))
    outcome = None
    if published and cycle.outcome:
        table = OUTCOME_ZH if lang == "zh" else OUTCOME_EN
        outcome = table.get(cycle.outcome, cycle.outcome)
    may_object = publication and allowed(
        user, "lodge_objection", Scope(program=program, base=base, region=None)
    )
    listed = (
        await _objections(deps, user, program, year, base, objections_after)
        if published
        else ObjectionList()
    )
    until = ""
    if state is not None and state.publication_until is not None:
        until = _moment(state.publication_until, lang)
    return BaseView(
        program=program,
        year=year,
        base=base,
        base_name=registered.name,
        cycle=cycle,
        stage_words=say(f"base.stage.{stage.value}", lang),
        expected=[say(k, lang) for k in _expected(cycle, rect_filed, may_object)],
        deadline_name=deadline_name,
        deadline_words=deadline_text,
        countdown=count,
        can_file=can_file,
        show_plan_form=can_file and stage == Stage.PLAN_FILING and not cycle.plan_filed,
        show_selfeval_form=can_file and stage == Stage.IMPLEMENTING,
        show_rect_form=can_file and stage == Stage.RECTIFYING and not rect_filed,
        receipts=receipts,
        returns=returns,
        published=published,
        grade=_grade_words(grade, lang) if published else None,
        total=cycle.total if published else None,
        outcome=outcome,
        outcome_reason=(
            (cycle.outcome_reason_zh if lang == "zh" else cycle.outcome_reason_en)
            if published
            else ""
        ),
        averages=averages,
        publication=publication,
        publication_until=until,
        objections=listed.objections,
        objections_next=listed.next_cursor,
        may_object=may_object,
        years=[],
        # One Idempotency-Key per form and page: a retried send files once.
        keys={k: f"portal-{k}-{uuid.uuid4().hex}" for k in ("plan", "selfeval", "rect", "obj")},
    )


async def _dashboard_years(deps: Deps, program: str) -> set[int]:
    """The years the dashboard knows of the program (what GET /v1/dashboard/years lists)."""

    async def page(cursor: str | None) -> YearList:
        return await rpc(
            deps.rpc.call(
                "dashboard", "years", YearsQuery(program=program, cursor=cursor), YearList
            )
        )

    try:
        return {
            y.year async for listed in pages(page) for y in listed.years if y.program == program
        }
    except ApiError:
        return set()  # no dashboard service running: the cycles themselves are asked below


async def _has_cycle(deps: Deps, program: str, year: int, base: str) -> bool:
    try:
        await deps.temporal.get_workflow_handle(cycle_id(program, year, base)).describe()
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return False
        raise ApiError(503, "temporal_unavailable", str(exc)) from None
    return True


async def launched_years(deps: Deps, program: str, base: str) -> list[int]:
    """The years of the program with a cycle of this base, latest first: the dashboard's list
    and the years around today, each confirmed by the base's cycle existing."""
    this_year = datetime.now(BEIJING).year
    candidates = await _dashboard_years(deps, program) | set(range(this_year - 2, this_year + 2))
    ordered = sorted(candidates, reverse=True)
    found = await asyncio.gather(*(_has_cycle(deps, program, y, base) for y in ordered))
    return [y for y, ok in zip(ordered, found, strict=True) if ok]


def _problem_page(request: Request, user: Principal, exc: ApiError) -> HTMLResponse:
    lang = lang_of(request)
    said = PROBLEM_WORDS.get(exc.code)
    message = (said[0] if lang == "zh" else said[1]) if said else exc.detail
    return page(
        request,
        "base_problem.html",
        user=user,
        status=exc.status,
        message=message,
        code=exc.code,
    )


def _not_base(request: Request, user: Principal) -> HTMLResponse:
    return _problem_page(
        request,
        user,
        ApiError(404, "not_a_base_user", say("base.problem.not_base", lang_of(request))),
    )


async def _show(
    request: Request,
    deps: Deps,
    user: Principal,
    year: int,
    base: str,
    years: list[int],
    program: str | None = None,
) -> HTMLResponse:
    program = program or user.program
    if program is None:
        return _not_base(request, user)
    lang = lang_of(request)
    after = request.query_params.get("objections_after") or None
    try:
        if after is not None and not re.fullmatch(ID, after):
            raise ApiError(422, "unknown_cursor", f"no such cursor: {after}")
        view = await build_view(deps, user, program, year, base, lang, after)
    except ApiError as exc:
        return _problem_page(request, user, exc)
    view.years = [y for y in years if y != year]
    return page(
        request,
        "base_cycle.html",
        user=user,
        view=view,
        objections_more=(
            _objections_link(request, view.objections_next) if view.objections_next else ""
        ),
        objections_first=_objections_link(request, None) if after else "",
        base_words_json=json.dumps(
            {k: say(k, lang) for k in SCRIPT_WORDS}, ensure_ascii=False
        ).replace("</", "<\\/"),
        targets_json=json.dumps([t.model_dump() for t in view.cycle.targets], ensure_ascii=False),
        completion=lambda row: completion_words(row, view.cycle.actuals, lang),
        moment=lambda instant: _moment(instant, lang),
    )


def _objections_link(request: Request, cursor: str | None) -> str:
    """This page with its objections after ``cursor``; None: from the first."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "objections_after"]
    if cursor is not None:
        kept.append(("objections_after", cursor))
    query = f"?{urlencode(kept)}" if kept else ""
    return f"{request.url.path}{query}#objections"


# The texts base.js shows as the person types (validation, row labels, completion).
SCRIPT_WORDS = (
    "base.v.key",
    "base.v.key.dup",
    "base.v.name",
    "base.v.target",
    "base.v.unit",
    "base.v.rows",
    "base.v.actual",
    "base.v.file",
    "base.v.fix",
    "base.col.key",
    "base.col.name",
    "base.col.target",
    "base.col.unit",
    "base.col.row",
    "base.row.remove",
    "base.file.chosen",
    "base.completion.none",
)


def completion_words(row: Target, actuals: dict[str, float], lang: Lang) -> str:
    """Actual over target as a percentage, as the review computes it (completion_rates)."""
    rate = completion_rates({row.key: row.target}, actuals).get(row.key)
    if rate is None:
        return say("base.completion.none", lang)
    return f"{rate * 100:.1f}%"


@router.get("/portal/base", response_class=HTMLResponse)
async def base_home(request: Request, deps: DepsDep, user: PortalUser) -> HTMLResponse:
    """The base's cycle of the latest launched year of its program."""
    if user.role != "base_user" or not user.base or not user.program:
        return _not_base(request, user)
    years = await launched_years(deps, user.program, user.base)
    asked = request.query_params.get("year", "")
    if asked.isdigit() and 2000 <= int(asked) <= 2100:
        return await _show(request, deps, user, int(asked), user.base, years)
    if not years:
        return page(request, "base_none.html", user=user)
    return await _show(request, deps, user, years[0], user.base, years)


@router.get("/portal/base/{year}", response_class=HTMLResponse)
async def base_year(year: Year, request: Request, deps: DepsDep, user: PortalUser) -> HTMLResponse:
    if user.role != "base_user" or not user.base or not user.program:
        return _not_base(request, user)
    return await _show(request, deps, user, year, user.base, [])


@router.get("/portal/base/{year}/{base}", response_class=HTMLResponse)
async def base_cycle(
    year: Year, base: Base, request: Request, deps: DepsDep, user: PortalUser
) -> HTMLResponse:
    """A named base's cycle: whoever the API lets read it (a base's staff only their own).
    ``?program=`` names the program for a reader not scoped to one (a city officer)."""
    program = request.query_params.get("program") or user.program
    if program is None or not re.fullmatch(ID, program):
        return _not_base(request, user)
    return await _show(request, deps, user, year, base, [], program)
