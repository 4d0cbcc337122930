"""Pages for everyone signed in: the home page by role, the inbox, the rules, the help page.

Every read goes through the API's own route functions (and so through ``require``): the inbox
is ``GET /v1/inbox``'s, the rules ``GET /v1/programs/{p}``'s and its rubric's. A refusal is
shown as a page in words with the API's status (404 for what the caller may not see).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.deps import DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.portal.kind_rows import kind_rows
from services.gateway.portal.problem_words import PROBLEM_WORDS
from services.gateway.portal.render import lang_of, page
from services.gateway.portal.session import PortalUser
from services.gateway.portal.words import say, words
from services.gateway.problems import ApiError
from services.gateway.routes import inbox as inbox_route
from services.gateway.routes import programs as programs_route
from shared.domain.rules import ProgramRules
from shared.domain.wording import moment_en, moment_zh, period_en, period_zh

router = APIRouter(include_in_schema=False)

# Where each role starts; operators and viewers get the small home page instead.
HOMES = {
    "base_user": "/portal/base",
    "city_officer": "/portal/officer",
    "province_admin": "/portal/officer",
    "expert": "/portal/expert",
}

words(
    {
        "common.problem.title": ("无法显示此页", "This page cannot be shown"),
        "common.problem.status": ("状态码 {status}（{code}）", "Status {status} ({code})"),
        "common.problem.back": ("返回首页", "Back to the home page"),
        "common.home.title": ("首页", "Home"),
        "common.home.intro": (
            "您的账号用于查看和运维，不参与填报、核实或评审。",
            "Your account is for reading and operating; it files, verifies and scores nothing.",
        ),
        "common.home.dashboard": ("查看全年概况", "Open the year dashboard"),
        "common.home.inbox": ("查看通知", "Read your notices"),
        "common.home.rules": ("查看项目规则", "Read the program's rules"),
        "common.home.help": ("使用帮助", "Help"),
        "common.inbox.title": ("通知", "Inbox"),
        "common.inbox.empty": ("暂无通知。", "No notices yet."),
        "common.inbox.count": (
            "本页 {n} 条通知，最新的在前。",
            "{n} notices on this page, newest first.",
        ),
        "common.inbox.older": ("更早的通知", "Older notices"),
        "common.inbox.newest": ("回到最新通知", "Back to the newest"),
        "common.inbox.caption": ("发给您的通知", "Notices addressed to you"),
        "common.inbox.when": ("时间", "When"),
        "common.inbox.what": ("通知", "Notice"),
        "common.inbox.about": ("涉及", "About"),
        "common.inbox.about_base": ("{year}年度 · 基地 {base}", "{year} · base {base}"),
        "common.inbox.about_year": ("{year}年度", "{year}"),
        "common.inbox.open_named": ("查看 {base}", "Open {base}"),
        "common.program.label": ("项目编号", "Program id"),
        "common.program.ask": (
            "您的账号未限定项目，请输入要查看的项目编号。",
            "Your account is not scoped to one program: enter the program to read.",
        ),
        "common.program.show": ("查看", "Show"),
        "common.rules.title": ("项目规则：{name}", "Program rules: {name}"),
        "common.rules.version": (
            "规则版本 {version}（评分规则 {rubric}），发布单位：{issuer}",
            "Rules version {version} (rubric {rubric}), issued by {issuer}",
        ),
        "common.rules.source": ("依据：{source}", "Source: {source}"),
        "common.rules.windows": ("时间安排与期限", "Windows and deadlines"),
        "common.rules.windows.caption": ("各环节的期限", "The deadline of each step"),
        "common.rules.step": ("环节", "Step"),
        "common.rules.period": ("期限", "Period"),
        "common.rules.launch": ("年度启动", "Yearly launch"),
        "common.rules.plan_window": ("提交实施方案（自启动起）", "File the plan (from the launch)"),
        "common.rules.plan_review_window": (
            "每一级核实实施方案（自提交起）",
            "Each verification step (from the filing)",
        ),
        "common.rules.self_evaluation_due": (
            "提交年度自评报告（自启动起，或每年固定日期）",
            "File the self-evaluation (from the launch, or a fixed date)",
        ),
        "common.rules.review_window": (
            "专家评审（自评报告截止后）",
            "Expert review (after the self-evaluation is due)",
        ),
        "common.rules.rectification_period": ("限期整改", "Rectification"),
        "common.rules.rectification_rounds": ("整改次数上限", "Rectification rounds at most"),
        "common.rules.publication_period": ("结果公示", "Publication of results (公示)"),
        "common.rules.reminders": ("截止前提醒", "Reminders before each deadline"),
        "common.rules.none": ("无", "none"),
        "common.rules.verification": ("核实顺序：{chain}", "Verification: {chain}"),
        "common.rules.verification.none": (
            "实施方案无需核实。",
            "Plans need no verification.",
        ),
        "common.rules.step.city": ("市知识产权局", "city IP office"),
        "common.rules.step.province": ("省知识产权局", "provincial IP office"),
        "common.rules.deadline_words": (
            "以日计算的期限到最后一日24时截止；遇法定节假日顺延。",
            "A deadline counted in days ends at 24:00 of its last day; holidays move it on.",
        ),
        "common.rules.rubric": ("评分规则", "Rubric"),
        "common.rules.rubric.caption": ("评分指标、权重与满分", "Indicators, weights and maxima"),
        "common.rules.indicator": ("指标", "Indicator"),
        "common.rules.weight": ("权重", "Weight"),
        "common.rules.max": ("满分", "Maximum"),
        "common.rules.experts": (
            "每个基地由 {n} 名专家评审。",
            "Each base is reviewed by {n} expert(s).",
        ),
        "common.rules.vetoes": ("否决项", "Veto items"),
        "common.rules.vetoes.none": ("本项目不设否决项。", "This program has no veto items."),
        "common.rules.veto_outcome": ("触及否决项：{what}", "A veto means: {what}"),
        "common.rules.grades": ("等级划分", "Grade thresholds"),
        "common.rules.grades.caption": ("等级与分数线", "Grades and their thresholds"),
        "common.rules.grade": ("等级", "Grade"),
        "common.rules.threshold": ("条件", "Threshold"),
        "common.rules.grade.excellent": ("优秀", "Excellent"),
        "common.rules.grade.pass": ("合格", "Pass"),
        "common.rules.grade.fail": ("不合格", "Fail"),
        "common.rules.at_least": ("总分不低于 {n} 分", "total at least {n}"),
        "common.rules.below": (
            "总分低于 {n} 分，或触及否决项",
            "total below {n}, or a veto item applies",
        ),
        "common.rules.top": (
            "合格基地中总分排名前 {top}%（且不低于 {floor} 分）",
            "top {top}% of passing bases by total (and at least {floor})",
        ),
        "common.rules.outcomes": ("逾期与无人处理时", "When a deadline passes or no one acts"),
        "common.rules.plan_overdue": ("逾期未提交实施方案", "Plan not filed in time"),
        "common.rules.self_evaluation_overdue": (
            "逾期未提交自评报告",
            "Self-evaluation not filed in time",
        ),
        "common.rules.outcome.fail": ("评为不合格", "graded fail"),
        "common.rules.outcome.exclude": ("不参加本年度评价", "left out of the year's grading"),
        "common.rules.plan_review_silence": (
            "核实环节逾期未处理",
            "A verification step left silent",
        ),
        "common.rules.silence.consent": ("视为同意（备案）", "counts as verified (备案)"),
        "common.rules.silence.province": ("由省知识产权局代为核实", "the province takes the step"),
        "common.rules.silence.wait": ("继续等待，每日提醒", "wait, with a reminder every day"),
        "common.rules.review_silence": ("专家逾期未评分", "Experts silent past the review"),
        "common.rules.silence.reassign": (
            "改派专家库中的下一位专家",
            "the place goes to the next expert on the roster",
        ),
        "common.rules.rectifying_next_year": (
            "下一年度启动时仍在整改",
            "Still rectifying when the next year launches",
        ),
        "common.rules.next.open": ("立即开启新年度周期", "its next cycle opens at once"),
        "common.rules.next.hold": ("整改结束后再开启", "its next cycle waits for the end"),
        "common.rules.reapplication_ban": ("摘牌后重新申请限制", "Reapplication after de-listing"),
        "common.rules.no_ban": ("不限制", "no ban"),
        "common.rules.case": ("情形", "Case"),
        "common.rules.then": ("处理", "Then"),
        "common.rules.outcomes.caption": ("逾期与无人处理的后果", "What silence leads to"),
        "common.help.title": ("使用帮助", "Help"),
        "common.help.toc": ("目录", "Contents"),
    }
)


# The help page: (heading, paragraphs) per section, in the order people need them.
HELP: list[tuple[str, list[str]]] = [
    ("signin", ["1", "2"]),
    ("roles", ["base", "city", "province", "expert", "viewer"]),
    ("deadlines", ["1", "2", "3"]),
    ("objection", ["1", "2"]),
    ("contact", ["1"]),
]
words(
    {
        "common.help.intro": (
            "本平台用于专利导航服务基地年度建设周期的填报、核实、评审与公示。下面说明如何登录、"
            "各方在周期中做什么、期限从何而来、如何提出异议以及遇到问题找谁。",
            "This portal is where the yearly cycle of the patent navigation service bases is"
            " filed, verified, scored and published. Below: how to sign in, what each person"
            " does, where deadlines come from, how to lodge an objection and whom to contact.",
        ),
        "common.help.signin.h": ("如何登录", "Signing in"),
        "common.help.signin.1": (
            "省知识产权局为您开通账号后，会把一次性登录链接发给您。点击链接即可登录；链接只能使用"
            "一次，并在规定时间后失效。",
            "Once the provincial IP office opens your account it sends you a one-time sign-in"
            " link. Open it to sign in; it works once and expires after a set time.",
        ),
        "common.help.signin.2": (
            "一段时间不操作会自动退出，需要重新登录；用完请点击右上角的“退出登录”。链接失效时，"
            "请联系省知识产权局重新发送。",
            "After a while without activity you are signed out and sign in again; sign out with"
            " the button at the top when you are done. If the link has expired, ask the"
            " provincial IP office for a new one.",
        ),
        "common.help.roles.h": ("各方在周期中做什么", "Who does what in the cycle"),
        "common.help.roles.base": (
            "基地：在期限内提交实施方案（含年度目标）；方案被退回时按意见修改后重新提交；年底提交"
            "年度自评报告并填写各项目标的完成情况；评为不合格时在限期内提交整改报告。",
            "Bases file the implementation plan with its yearly targets in time, refile a"
            " returned plan as the comment asks, file the self-evaluation with the actuals"
            " against each target at the year's end, and a rectification report when graded"
            " fail.",
        ),
        "common.help.roles.city": (
            "市知识产权局：核实本市基地的实施方案，同意或退回并说明意见。",
            "City IP offices verify the plans of their city's bases: approve, or return with"
            " a comment.",
        ),
        "common.help.roles.province": (
            "省知识产权局：启动年度工作，核实实施方案，必要时延长期限或改派专家，处理异议，"
            "发布评价结果。",
            "The provincial IP office launches the year, verifies plans, extends a deadline or"
            " reassigns experts when needed, decides objections and publishes the results.",
        ),
        "common.help.roles.expert": (
            "评审专家：在评审期内阅读分配给您的基地的材料，对照目标与完成情况，按评分规则逐项打分，"
            "如有否决情形勾选否决项，提交后可查看自己的评分表。",
            "Experts read the documents of the bases assigned to them within the review"
            " window, compare the targets with the actuals, score every indicator on the"
            " rubric, tick a veto item where one applies, and see their own sheet once sent.",
        ),
        "common.help.roles.viewer": (
            "查看者与运维人员：查看全年概况，不参与填报和评审。",
            "Viewers and operators read the year dashboard; they file and score nothing.",
        ),
        "common.help.deadlines.h": ("期限从何而来", "Where deadlines come from"),
        "common.help.deadlines.1": (
            "所有期限都由项目规则确定（见“规则”页），在年度启动时为每个基地计算一次；页面上显示的"
            "截止时间和剩余天数即来自这里。",
            "Every deadline comes from the program's rules (see the Rules page) and is"
            " counted once for each base when the year launches; the dates and days left shown"
            " on your pages are those.",
        ),
        "common.help.deadlines.2": (
            "以日计算的期限到最后一日24时截止，遇法定节假日顺延；以到达平台的时间为准。",
            "A deadline counted in days ends at 24:00 of its last day, moved past public"
            " holidays; a filing counts by when it reaches the portal.",
        ),
        "common.help.deadlines.3": (
            "确有困难需要延期的，请在截止前联系省知识产权局；延期须说明理由，并记入周期记录。",
            "If you need more time, contact the provincial IP office before the deadline; an"
            " extension needs a reason and is recorded in the cycle.",
        ),
        "common.help.objection.h": ("如何提出异议", "Lodging an objection"),
        "common.help.objection.1": (
            "评价结果公示期间，基地、相关部门和公众均可对公示结果提出异议，须写明理由；公众须留下"
            "联系方式。基地可在本基地页面提交。",
            "While the results are published (公示), bases, the offices and the public may"
            " object to a result, giving the grounds; the public leaves a contact. A base"
            " lodges it from its own page.",
        ),
        "common.help.objection.2": (
            "省知识产权局逐件处理异议：异议成立的，重新评审并发布补充公示。",
            "The provincial IP office decides each objection; an upheld one reopens the review"
            " and a supplementary notice (补充公示) follows.",
        ),
        "common.help.contact.h": ("遇到问题找谁", "Whom to contact"),
        "common.help.contact.1": (
            "业务问题（期限、材料要求、评审、异议）请联系发布项目规则的省知识产权局；账号与系统问题"
            "请联系平台运维人员。页面出错时，请把错误提示中的代码一并告知。",
            "Questions about deadlines, documents, reviews or objections go to the provincial"
            " IP office that issued the rules; account and system problems to the portal's"
            " operators. When a page shows a problem, quote its code.",
        ),
    }
)


def problem_page(
    request: Request, user: Principal | None, exc: ApiError, *, hint: str = ""
) -> HTMLResponse:
    """A refusal as a page: the API's status and code, and what to do next in words (with
    ``hint``, a page's own word on it)."""
    said = PROBLEM_WORDS.get(exc.code)
    text = (said[0] if lang_of(request) == "zh" else said[1]) if said else exc.detail
    return page(
        request,
        "common_problem.html",
        user=user,
        status=exc.status,
        problem_status=exc.status,
        problem_code=exc.code,
        problem_text=text,
        problem_hint=hint,
    )


@router.get("/portal")
async def home(request: Request, user: PortalUser) -> Response:
    if user.role in HOMES:
        return RedirectResponse(HOMES[user.role], status_code=303)
    return page(request, "common_home.html", user=user)


INBOX_PAGE = 50


@router.get("/portal/inbox")
async def inbox(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    cursor: str | None = Query(None, pattern=r"^\d{1,18}$"),
) -> HTMLResponse:
    try:  # every argument given: a route function called directly has no FastAPI defaults
        found = await inbox_route.inbox(deps, user, limit=INBOX_PAGE, cursor=cursor)
    except ApiError as exc:
        return problem_page(request, user, exc)
    notices = sorted(found.notices, key=lambda n: n.created_at, reverse=True)
    return page(
        request,
        "common_inbox.html",
        user=user,
        notices=notices,
        older=f"/portal/inbox?cursor={found.next_cursor}" if found.next_cursor else None,
        first_page=cursor is None,
        link=lambda n: notice_link(user, n.year, n.base),
        when=moment_zh if lang_of(request) == "zh" else moment_en,
    )


def notice_link(user: Principal, year: int, base: str) -> str | None:
    """Where the person acts on a notice about ``base`` in ``year``: their own page of it."""
    if not base:
        return None
    if user.role == "expert":
        return f"/portal/expert/{year}/{base}"
    if user.role == "base_user":
        return f"/portal/base/{year}" if base == user.base else None
    if user.role in ("city_officer", "province_admin"):
        return f"/portal/officer/{year}/{base}"
    return None


def _program_asked(user: Principal, asked: str | None) -> str | None:
    """The program a page reads: the user's own when scoped (another is refused by ``require``),
    else the one asked for."""
    return asked or user.program


@router.get("/portal/rules")
async def rules(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    program: str | None = Query(None, pattern=r"^[A-Za-z0-9_-]{1,64}$"),
) -> HTMLResponse:
    chosen = _program_asked(user, program)
    if chosen is None:
        return page(request, "common_rules.html", user=user, pinned=None, rubric=None)
    try:
        pinned = await programs_route.get_program(chosen, deps, user)
        rubric = await programs_route.get_rubric(chosen, deps, user)
    except ApiError as exc:
        return problem_page(request, user, exc)
    lang = lang_of(request)
    return page(
        request,
        "common_rules.html",
        user=user,
        pinned=pinned,
        rubric=rubric,
        windows=windows(pinned.rules, lang),
        chain=" → ".join(say(f"common.rules.step.{s}", lang) for s in pinned.rules.verification),
        kinds=kind_rows(pinned.rules, lang),
        period=period_zh if lang == "zh" else period_en,
    )


WINDOWS = (
    "launch",
    "plan_window",
    "plan_review_window",
    "self_evaluation_due",
    "review_window",
    "rectification_period",
    "publication_period",
)


def windows(rules: ProgramRules, lang: str) -> list[tuple[str, str]]:
    """Each window of the calendar as (text key, period in words)."""
    in_words = period_zh if lang == "zh" else period_en
    calendar = rules.calendar
    rows: list[tuple[str, Any]] = [
        (f"common.rules.{name}", in_words(getattr(calendar, name))) for name in WINDOWS
    ]
    rows.append(("common.rules.rectification_rounds", str(calendar.rectification_rounds)))
    reminders = "、" if lang == "zh" else ", "
    rows.append(
        ("common.rules.reminders", reminders.join(in_words(r) for r in calendar.reminders) or "")
    )
    return rows


@router.get("/portal/help")
async def help_page(request: Request, user: PortalUser) -> HTMLResponse:
    return page(request, "common_help.html", user=user, sections=HELP)
