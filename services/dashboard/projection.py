"""How each event moves the dashboard's view of a cycle. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.envelope import CloudEvent
from shared.events.types import EventType

# The stage a cycle is in once the event has happened.
STAGE_AFTER = {
    EventType.CYCLE_OPENED: "plan_filing",
    EventType.PLAN_FILED: "plan_review",
    EventType.PLAN_RETURNED: "plan_filing",
    EventType.PLAN_ACCEPTED: "implementing",
    EventType.REVIEW_OPENED: "under_review",
    EventType.REVIEW_GRADED: "graded",
    EventType.RECTIFICATION_ORDERED: "rectifying",
    EventType.RECTIFICATION_FILED: "under_review",
    EventType.BASE_DELISTED: "delisted",
    EventType.CYCLE_EXCLUDED: "excluded",
    EventType.CYCLE_CLOSED: "closed",
}


@dataclass
class CycleView:
    program: str
    year: int
    base: str
    region: str = ""
    stage: str = "plan_filing"
    grade: str | None = None
    total: float | None = None
    overdue: int = 0
    last_sequence: int = 0


def apply(view: CycleView, event: CloudEvent) -> CycleView:
    """The view after ``event``, whatever order the cycle's events arrive in.

    A consumer may apply an event after a later one of the same cycle (it failed once and was
    redelivered). So the stage follows the latest event by sequence, while counts and grades take
    every event whenever it comes; the caller applies each event id once.
    """
    t = event.event_type
    latest = event.sequence > view.last_sequence
    region = str(event.data.get("region") or "")
    if region and (latest or not view.region):
        view.region = region
    if latest:
        view.last_sequence = event.sequence
        view.stage = STAGE_AFTER.get(t, view.stage)
    if t == EventType.REVIEW_GRADED and int(event.data.get("round", 0)) == 0:
        view.total = event.data.get("total")
        if view.grade is None or view.stage != "closed":  # a closing grade stands
            view.grade = event.data.get("grade")
    if t == EventType.CYCLE_CLOSED and event.data.get("grade") and not event.data.get("rectified"):
        view.grade = str(event.data["grade"])
    if t in (EventType.PLAN_OVERDUE, EventType.SELFEVAL_OVERDUE):
        view.overdue += 1
    return view


_DETAIL_KEYS = ("grade", "step", "decision", "deadline", "round", "reason")
_SCALARS = (str, int, float)


def timeline_detail(event: CloudEvent) -> tuple[str | None, str | None]:
    """The document an event filed, if any, and a few words on what happened."""
    data = event.data
    document = data.get("document")
    document_id = str(document.get("document_id")) if isinstance(document, dict) else None
    for key in _DETAIL_KEYS:
        value = data.get(key)
        if value is not None and isinstance(value, _SCALARS) and value != "":
            return document_id, f"{key}: {value}"[:200]
    return document_id, None


def city_of(region: str) -> str:
    """The city a base belongs to: a county's parent, or the region itself."""
    if len(region) == 6 and region.isdigit() and not region.endswith("00"):
        return region[:4] + "00"
    return region
