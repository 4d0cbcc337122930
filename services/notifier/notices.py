"""Which event becomes which notice, for whom, in Chinese and English. Pure: no I/O.

Dates are stated in Beijing time in words (「2027年4月1日24时前」), never as ISO strings, and a
deadline counted in a year without holiday data is marked provisional. Notices quote no program's
rules: they name the program and use neutral wording, so one province's clauses never appear in
another's notices.

Each builder reads its event's payload model (``shared.events.payloads``). Deadlines arrive as
the workflows write them: ``due`` (ISO instant), ``last_day`` (ISO date, when counted in days) and
``provisional``; a changed deadline as ``from``/``to``, each such a deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.domain.wording import BEIJING, deadline_en, deadline_zh
from shared.events.envelope import CloudEvent
from shared.events.payloads import (
    BaseDelisted,
    BaseDesignated,
    BaseReinstated,
    CycleContext,
    CycleEnded,
    DeadlineMoved,
    DeadlineRecomputed,
    Due,
    EventPayload,
    ExpertAssigned,
    ExpertReassigned,
    ObjectionDecided,
    ObjectionLodged,
    PlanOverdue,
    PlanStepTakenOver,
    ProgramLaunched,
    RectificationOrdered,
    ReminderSent,
    ResultsCorrected,
    ResultsPublished,
    SelfevalOverdue,
    read_payload,
)
from shared.events.subjects import PROGRAM_WIDE
from shared.events.types import EventType

DEADLINES_ZH = {
    "plan": "实施方案备案",
    "plan_review": "实施方案核实",
    "self_evaluation": "年度自评报告",
    "review": "绩效评估",
    "rectification": "整改报告",
    "publication": "评估结果公示期",
}
DEADLINES_EN = {
    "plan": "implementation plan",
    "plan_review": "plan verification",
    "self_evaluation": "self-evaluation report",
    "review": "expert review",
    "rectification": "rectification report",
    "publication": "publication (公示) period",
}


@dataclass(frozen=True)
class Notice:
    kind: str  # launch | reminder | overdue | rectification | delisting | publication | ...
    audience: str  # base | city | province | program | expert
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    recipient: str = ""  # a user name, for notices to one person (an expert)


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)
    return None


def _day(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _when(due: Any, last_day: Any = None, provisional: bool = False) -> tuple[str, str]:
    """A deadline in words: an instant and, when counted in days, its last day."""
    until, day = _instant(due), _day(last_day)
    if until is None and day is None:
        return "规定期限", "the set deadline"
    return (
        deadline_zh(until, day, provisional=provisional),
        deadline_en(until, day, provisional=provisional),
    )


def _due(d: Due) -> tuple[str, str]:
    return _when(d.due, d.last_day, d.provisional)


def _item(name: str) -> tuple[str, str]:
    return DEADLINES_ZH.get(name, name or "事项"), DEADLINES_EN.get(name, name or "item")


def notices_for(event: CloudEvent) -> list[Notice]:
    builder = _BUILDERS.get(EventType(event.event_type))
    return builder(event, read_payload(event)) if builder else []


def _launch(event: CloudEvent, d: ProgramLaunched) -> list[Notice]:
    name = d.name or event.program
    return [
        Notice(
            "launch",
            "program",
            f"{name}{event.year}年度启动通知",
            f"{event.year} cycle of {event.program} launched",
            f"{event.year}年度专利导航服务基地建设工作已启动，请在规定期限内报送实施方案。",
            f"The {event.year} cycle has started; file your implementation plan in time.",
        )
    ]


def _who(event: CloudEvent, d: EventPayload) -> str:
    """The program and year, by the program's name where the event carries it."""
    name = d.program_name if isinstance(d, CycleContext) else None
    return f"{name or event.program}/{event.year}"


def _base(event: CloudEvent, d: EventPayload) -> str:
    """The base by its name where the event carries it, else its id."""
    name = d.base_name if isinstance(d, CycleContext) else None
    return name or event.base


def _round(round_: int) -> tuple[str, str]:
    """A review round in words: round 0 is the yearly review, 1.. rectification re-reviews."""
    return (
        ("年度评审", "yearly review")
        if round_ == 0
        else (f"第{round_}轮整改复评", f"re-review {round_}")
    )


# Reasons the workflows record as codes, in words.
_REASONS = {
    "not rectified": ("未按期整改到位", "not rectified in time"),
    "vetoed": ("一票否决", "vetoed"),
    "silent": ("逾期未评分", "did not score in time"),
}


def _reason(code: str) -> tuple[str, str]:
    return _REASONS.get(code, (code, code))


def _reminder(event: CloudEvent, d: ReminderSent) -> list[Notice]:
    zh, en = _item(d.deadline)
    due_zh, due_en = _due(d)
    audience = (
        "city" if d.escalation and d.to == "city" else ("province" if d.escalation else "base")
    )
    base, who = _base(event, d), _who(event, d)
    return [
        Notice(
            "reminder",
            audience,
            f"催办提醒：{zh}",
            f"Reminder: {en} due",
            f"基地 {base}（{who}）的{zh}应于{due_zh}办理，请及时办理。",
            f"The {en} for base {base} ({who}) is due {due_en}.",
        )
    ]


def _overdue(event: CloudEvent, d: PlanOverdue | SelfevalOverdue) -> list[Notice]:
    plan = isinstance(d, PlanOverdue)
    item = "实施方案" if plan else "年度自评报告"
    item_en = "implementation plan" if plan else "self-evaluation report"
    due_zh, due_en = _due(d)
    base, who = _base(event, d), _who(event, d)
    return [
        Notice(
            "overdue",
            audience,
            f"逾期通知：{item}",
            f"Overdue: {item_en}",
            f"基地 {base}（{who}）未在{due_zh}报送{item}。",
            f"Base {base} ({who}) did not file its {item_en} {due_en}.",
        )
        for audience in ("base", "city")
    ]


def _rectification(event: CloudEvent, d: RectificationOrdered) -> list[Notice]:
    due_zh, due_en = _due(d)
    base, who = _base(event, d), _who(event, d)
    return [
        Notice(
            "rectification",
            "base",
            "整改通知",
            "Rectification ordered",
            f"基地 {base}（{who}）评估不合格，请于{due_zh}完成整改并报送整改报告。",
            f"Base {base} ({who}) failed its review; rectify and report {due_en}.",
        )
    ]


def _delisted(event: CloudEvent, d: BaseDelisted) -> list[Notice]:
    reason, reason_en = _reason(d.reason or "not rectified")
    base, who = _base(event, d), _who(event, d)
    return [
        Notice(
            "delisting",
            audience,
            "摘牌通知",
            "De-listed",
            f"基地 {base}（{who}）因{reason}，依据本项目评估规则予以摘牌。",
            f"Base {base} ({who}) is de-listed under this program's rules: {reason_en}.",
        )
        for audience in ("base", "province")
    ]


def _published(event: CloudEvent, d: ResultsPublished) -> list[Notice]:
    until_zh, until_en = _when(
        d.publication_until, d.publication_last_day, d.provisional or not d.holidays_known
    )
    return [
        Notice(
            "publication",
            "program",
            f"{event.year}年度绩效评估结果公示",
            f"{event.year} results published",
            f"{event.year}年度评估结果现予公示。如有异议，请于{until_zh}提出。",
            f"The {event.year} results are published; objections may be lodged {until_en}.",
        )
    ]


def _corrected(event: CloudEvent, d: ResultsCorrected) -> list[Notice]:
    number = d.notice
    bases = "、".join(d.corrected)
    until_zh, until_en = _when(
        d.publication_until, d.publication_last_day, d.provisional or not d.holidays_known
    )
    no_zh = f"（第{number}号）" if number else ""
    no_en = f" no. {number}" if number else ""
    return [
        Notice(
            "correction",
            audience,
            f"{event.year}年度评估结果补充公示{no_zh}",
            f"{event.year} results: supplementary notice{no_en}",
            f"{event.year}年度评估结果有变更，现予补充公示"
            + (f"，涉及基地：{bases}" if bases else "")
            + f"。如有异议，请于{until_zh}提出。",
            f"The {event.year} results have changed and are published in a supplementary notice"
            + (f" (bases: {bases})" if bases else "")
            + f"; objections may be lodged {until_en}.",
        )
        for audience in ("program", "province")
    ]


def _assignment(
    event: CloudEvent, d: EventPayload, expert: str, round_: int, due: tuple[str, str]
) -> Notice:
    round_zh, round_en = _round(round_)
    base, who = _base(event, d), _who(event, d)
    return Notice(
        "expert_assigned",
        "expert",
        "评审任务通知",
        "Review assigned",
        f"您已被确定为基地 {base}（{who}）{round_zh}的评审专家，请于{due[0]}完成评分。",
        f"You are assigned to the {round_en} of base {base} ({who}); submit your scores {due[1]}.",
        recipient=expert,
    )


def _expert_assigned(event: CloudEvent, d: ExpertAssigned) -> list[Notice]:
    return [_assignment(event, d, d.expert, d.round, _when(d.due))]


def _expert_reassigned(event: CloudEvent, d: ExpertReassigned) -> list[Notice]:
    replaced_text = "、".join(d.replaced_names)
    reason, reason_en = _reason(d.reason)
    round_zh, round_en = _round(d.round)
    base, who = _base(event, d), _who(event, d)
    notices = [
        Notice(
            "expert_moved",
            "province",
            "评审专家调整",
            "Expert reassigned",
            f"基地 {base}（{who}）{round_zh}的评审专家已调整"
            + (f"，替换：{replaced_text}" if replaced_text else "")
            + (f"，原因：{reason}" if reason else "")
            + "。",
            f"The experts of the {round_en} of base {base} ({who}) were changed"
            + (f"; replaced: {replaced_text}" if replaced_text else "")
            + (f"; reason: {reason_en}" if reason_en else "")
            + ".",
        )
    ]
    if d.expert:  # one successor named: tell them
        notices.append(_assignment(event, d, d.expert, d.round, _due(d)))
    return notices


def _deadline_changed(event: CloudEvent, d: DeadlineMoved | DeadlineRecomputed) -> list[Notice]:
    zh, en = _item(d.deadline)
    old_zh, old_en = _due(d.from_)
    new_zh, new_en = _due(d.to)
    recomputed = isinstance(d, DeadlineRecomputed)
    why_zh = "节假日安排公布后重新计算" if recomputed else "因前一环节办理时间顺延"
    why_en = "recomputed with the published holiday schedule" if recomputed else "moved"
    on_base = event.base != PROGRAM_WIDE
    who = _who(event, d)
    whom = f"基地 {_base(event, d)}（{who}）的" if on_base else f"{who} "
    audiences = ("base", "city") if on_base else ("program",)
    return [
        Notice(
            "deadline",
            audience,
            f"期限调整：{zh}",
            f"Deadline changed: {en}",
            f"{whom}{zh}期限{why_zh}：原为{old_zh}，现为{new_zh}。",
            f"The {en} deadline ({event.base if on_base else who}) was {why_en}: "
            f"it was {old_en}, it is now {new_en}.",
        )
        for audience in audiences
    ]


def _objection_lodged(event: CloudEvent, d: ObjectionLodged) -> list[Notice]:
    base, who = d.base or event.base, _who(event, d)
    return [
        Notice(
            "objection",
            audience,
            "异议受理通知",
            "Objection received",
            f"公示期内收到对基地 {base}（{who}）评估结果的异议，省级知识产权管理部门将予审查。",
            f"An objection to the result of base {base} ({who}) was received during the "
            "publication period and will be examined by the province.",
        )
        for audience in ("base", "province")
    ]


def _objection_decided(event: CloudEvent, d: ObjectionDecided) -> list[Notice]:
    base, who = d.base or event.base, _who(event, d)
    upheld = d.decision in ("upheld", "uphold")
    reason = d.reason
    zh = (
        "异议成立，基地评审重新进行，结果将以补充公示发布"
        if upheld
        else "异议不成立，维持原评估结果"
    )
    en = (
        "upheld: the review is reopened and its result will be published in a supplementary notice"
        if upheld
        else "dismissed: the published result stands"
    )
    return [
        Notice(
            "objection",
            audience,
            "异议处理结果",
            "Objection decided",
            f"对基地 {base}（{who}）评估结果的异议经审查，{zh}"
            + (f"。理由：{reason}" if reason else "。"),
            f"The objection to the result of base {base} ({who}) was {en}"
            + (f". Reason: {reason}" if reason else "."),
        )
        for audience in ("base", "province")
    ]


def _reinstated(event: CloudEvent, d: BaseReinstated) -> list[Notice]:
    reason, base = d.reason, _base(event, d)
    return [
        Notice(
            "reinstated",
            audience,
            "恢复基地资格通知",
            "Base reinstated",
            f"基地 {base}（{event.program}）经省级知识产权管理部门决定恢复资格"
            + (f"，理由：{reason}" if reason else "")
            + "。",
            f"Base {base} ({event.program}) was reinstated by the province"
            + (f"; reason: {reason}" if reason else "")
            + ".",
        )
        for audience in ("base", "province")
    ]


def _cycle_ended(event: CloudEvent, d: CycleEnded) -> list[Notice]:
    year = d.delisted_in_year
    reason, reason_en = _reason(d.reason)
    base, who = _base(event, d), _who(event, d)
    return [
        Notice(
            "cycle_ended",
            audience,
            f"{event.year}年度评估终止通知",
            f"{event.year} cycle ended",
            f"基地 {base}（{who}）"
            + (f"已于{year}年度被摘牌" if year else "已被摘牌")
            + f"，其{event.year}年度评估终止"
            + (f"（{reason}）" if reason else "")
            + "。",
            f"Base {base} ({who}) was de-listed"
            + (f" in the {year} cycle" if year else "")
            + f"; its {event.year} cycle has ended"
            + (f" ({reason_en})" if reason_en else "")
            + ".",
        )
        for audience in ("base", "province")
    ]


def _taken_over(event: CloudEvent, d: PlanStepTakenOver) -> list[Notice]:
    if d.how == "consent":
        zh, en = "核实期限届满未办理，视为同意", "was not taken in time and counts as consent"
    else:
        due_zh, due_en = _due(d)
        zh = f"核实期限届满未办理，改由省级知识产权管理部门办理，期限为{due_zh}"
        en = f"was not taken in time and is taken by the province, {due_en}"
    base, who = _base(event, d), _who(event, d)
    return [
        Notice(
            "step_taken_over",
            audience,
            "实施方案核实环节处理通知",
            "Plan verification step taken over",
            f"基地 {base}（{who}）实施方案的核实环节{zh}。",
            f"The verification step for base {base}'s plan ({who}) {en}.",
        )
        for audience in ("base", "city", "province")
    ]


def _designated(event: CloudEvent, d: BaseDesignated) -> list[Notice]:
    due_zh, due_en = _due(d)
    base, who = _base(event, d), _who(event, d)
    return [
        Notice(
            "designated",
            audience,
            "省级专利导航服务基地确定通知",
            "Designated a provincial base",
            f"基地 {base}（{who}）经验收确定为省级专利导航服务基地，请于{due_zh}报送新的实施方案。",
            f"Base {base} ({who}) is designated a provincial patent navigation "
            f"base; file its new implementation plan {due_en}.",
        )
        for audience in ("base", "province")
    ]


# Each builder reads the payload model of its event type (read_payload picks it).
_BUILDERS: dict[EventType, Callable[[CloudEvent, Any], list[Notice]]] = {
    EventType.PROGRAM_LAUNCHED: _launch,
    EventType.REMINDER_SENT: _reminder,
    EventType.PLAN_OVERDUE: _overdue,
    EventType.SELFEVAL_OVERDUE: _overdue,
    EventType.RECTIFICATION_ORDERED: _rectification,
    EventType.BASE_DELISTED: _delisted,
    EventType.RESULTS_PUBLISHED: _published,
    EventType.RESULTS_CORRECTED: _corrected,
    EventType.EXPERT_ASSIGNED: _expert_assigned,
    EventType.EXPERT_REASSIGNED: _expert_reassigned,
    EventType.DEADLINE_RECOMPUTED: _deadline_changed,
    EventType.DEADLINE_MOVED: _deadline_changed,
    EventType.OBJECTION_LODGED: _objection_lodged,
    EventType.OBJECTION_DECIDED: _objection_decided,
    EventType.BASE_REINSTATED: _reinstated,
    EventType.CYCLE_ENDED: _cycle_ended,
    EventType.PLAN_STEP_TAKEN_OVER: _taken_over,
    EventType.BASE_DESIGNATED: _designated,
}
