"""Which event becomes which notice, for whom, in Chinese and English. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.envelope import CloudEvent
from shared.events.types import EventType

DEADLINES_ZH = {
    "plan": "实施方案备案",
    "plan_review": "实施方案核实",
    "self_evaluation": "年度自评报告",
    "review": "绩效评估",
    "rectification": "整改报告",
}


@dataclass(frozen=True)
class Notice:
    kind: str  # launch | reminder | overdue | rectification | delisting | publication
    audience: str  # base | city | province | program
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


def notices_for(event: CloudEvent) -> list[Notice]:
    t, d, who = event.event_type, event.data, f"{event.program}/{event.year}"
    base = event.base
    if t == EventType.PROGRAM_LAUNCHED:
        name = d.get("name", event.program)
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
    if t == EventType.REMINDER_SENT:
        deadline = str(d.get("deadline", ""))
        item = DEADLINES_ZH.get(deadline, deadline)
        audience = (
            "city"
            if d.get("escalation") and d.get("to") == "city"
            else ("province" if d.get("escalation") else "base")
        )
        return [
            Notice(
                "reminder",
                audience,
                f"催办提醒：{item}",
                f"Reminder: {deadline} due",
                f"基地 {base}（{who}）的{item}将于 {d.get('due')} 截止，请及时办理。",
                f"{deadline} for base {base} ({who}) is due at {d.get('due')}.",
            )
        ]
    if t in (EventType.PLAN_OVERDUE, EventType.SELFEVAL_OVERDUE):
        item = "实施方案" if t == EventType.PLAN_OVERDUE else "年度自评报告"
        item_en = "implementation plan" if t == EventType.PLAN_OVERDUE else "self-evaluation report"
        return [
            Notice(
                "overdue",
                audience,
                f"逾期通知：{item}",
                f"Overdue: {item_en}",
                f"基地 {base}（{who}）未在 {d.get('due')} 前报送{item}。",
                f"Base {base} ({who}) did not file its {item_en} by {d.get('due')}.",
            )
            for audience in ("base", "city")
        ]
    if t == EventType.RECTIFICATION_ORDERED:
        return [
            Notice(
                "rectification",
                "base",
                "整改通知",
                "Rectification ordered",
                f"基地 {base}（{who}）评估不合格，请于 {d.get('due')} 前完成整改并报送整改报告。",
                f"Base {base} ({who}) failed its review; rectify and report by {d.get('due')}.",
            )
        ]
    if t == EventType.BASE_DELISTED:
        return [
            Notice(
                "delisting",
                audience,
                "摘牌通知",
                "De-listed",
                f"基地 {base}（{who}）未按时整改到位，摘牌退出导航基地管理序列。",
                f"Base {base} ({who}) was not rectified in time and is de-listed.",
            )
            for audience in ("base", "province")
        ]
    if t == EventType.RESULTS_PUBLISHED:
        return [
            Notice(
                "publication",
                "program",
                f"{event.year}年度绩效评估结果公示",
                f"{event.year} results published",
                f"{event.year}年度评估结果现予公示，公示期至 {d.get('publication_until')}。",
                f"The {event.year} results are published until {d.get('publication_until')}.",
            )
        ]
    return []
