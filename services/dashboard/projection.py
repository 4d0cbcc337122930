"""How each event moves the dashboard's views: of a cycle, of a program year's 公示, of an
objection. Pure: no I/O.

Every view comes out the same whatever order its events are applied in (a consumer may apply an
event after a later one it failed on once), so each value remembers the key of the fact it came
from and only a later fact replaces it:

- a cycle's own facts are ordered by (business time, sequence, event id). Within one run of a
  cycle workflow that is its sequence; after an operator's reset the new run repeats sequence
  numbers, but its events happen later, so they win over the abandoned run's;
- a 公示 notice's facts are ordered by the notice number, and any notice outranks every cycle
  event: the dashboard shows what the latest notice (original or supplementary) says, and a
  change after publication only once it is published as a correction (DESIGN.md, "One story").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from shared.contracts.results import ResultEntry
from shared.domain import stage_machine
from shared.events.envelope import CloudEvent
from shared.events.payloads import (
    CycleClosed,
    CycleContext,
    CycleOpened,
    DeadlineExtended,
    DeadlineMoved,
    DeadlineNote,
    DeadlineRecomputed,
    DocumentNote,
    Due,
    Objection,
    ObjectionDecided,
    ObjectionLodged,
    PlanReturned,
    ReminderSent,
    ResultsCorrected,
    ResultsPublished,
    ReviewGraded,
    read_as,
    read_payload,
)
from shared.events.subjects import PROGRAM_WIDE
from shared.events.types import EventType

CycleKey = tuple[str, int, str]
YearKey = tuple[str, int]

CYCLE_SOURCE = "navcycle/workflows"
# Published by the program year workflow on the objected base's subject: not the cycle's stream.
OBJECTION_EVENTS = (EventType.OBJECTION_LODGED, EventType.OBJECTION_DECIDED)
NOTICE_EVENTS = (EventType.RESULTS_PUBLISHED, EventType.RESULTS_CORRECTED)

# Events that carry one deadline as ``{due, last_day, provisional}`` without naming it.
_DEADLINE_OF = {
    EventType.REVIEW_OPENED: "review",
    EventType.EXPERT_REASSIGNED: "review",
    EventType.RECTIFICATION_ORDERED: "rectification",
    EventType.PLAN_STEP_TAKEN_OVER: "plan_review",
    EventType.PLAN_OVERDUE: "plan",
    EventType.SELFEVAL_OVERDUE: "self_evaluation",
}


def event_key(event: CloudEvent) -> str:
    """The order of a workflow's facts: business time, then sequence, then id (a tie-break
    only two runs of one cycle could need). Compared as strings."""
    instant = event.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return f"e|{instant}|{event.sequence:012d}|{event.id}"


def key_instant(key: str) -> str:
    """The business time of the event an :func:`event_key` names, as the key writes it
    (``2027-03-01T08:00:00.000000``, UTC: compared as strings, they order as times); "" for a
    notice's key or none."""
    kind, _, rest = key.partition("|")
    if kind != "e" or not rest:
        return ""
    return rest.split("|", 1)[0]


def key_time(key: str) -> str | None:
    """The business time (ISO 8601, UTC) of the event an :func:`event_key` names; None for a
    notice's key or none."""
    instant = key_instant(key)
    return instant + "+00:00" if instant else None


def notice_key(number: int) -> str:
    """Notice ``number``'s facts: above every event's (``n`` sorts after ``e``)."""
    return f"n|{number:06d}"


def is_cycle_event(event: CloudEvent) -> bool:
    """Published by the cycle workflow itself (not an audit record, the assessment service or
    the program year on the base's subject)."""
    return (
        event.base != PROGRAM_WIDE
        and event.source == CYCLE_SOURCE
        and event.event_type not in OBJECTION_EVENTS
    )


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
    stage_key: str = ""
    stage_since: str = ""  # key_instant(stage_key): when the cycle entered its stage
    grade_key: str = ""
    total_key: str = ""
    # What the latest 公示 notice naming this base says (0: none yet).
    notice: int = 0
    outcome: str | None = None
    reason_zh: str = ""
    reason_en: str = ""
    rank_reason_zh: str = ""
    rank_reason_en: str = ""
    corrected: bool = False
    # name -> {"due", "last_day", "provisional", "key"}: the latest word on each deadline.
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class YearView:
    """A program year's 公示: the latest notice, and when its publication period ends."""

    program: str
    year: int
    notice: int = 0
    kind: str | None = None
    published_at: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    inline: bool = True  # the latest notice carried its entries (above 200 bases it does not)
    results_key: str | None = None
    corrected: list[str] = field(default_factory=list)
    publication_until: str | None = None
    publication_last_day: str | None = None
    provisional: bool = False
    publication_key: str = ""
    finalized_at: str | None = None


@dataclass
class ObjectionView:
    objection_id: str
    program: str
    year: int
    base: str
    role: str = ""
    grounds: str = ""
    received_at: str | None = None
    status: str = "lodged"
    reason: str = ""
    decided_by: str = ""
    decided_at: str | None = None


@dataclass(frozen=True)
class Touched:
    """The views an event changes."""

    cycles: tuple[CycleKey, ...] = ()
    year: YearKey | None = None
    objection: str | None = None


def touched(event: CloudEvent) -> Touched:
    t = event.event_type
    key = (event.program, event.year)
    if t in OBJECTION_EVENTS:
        objection = read_as(event, Objection).objection_id
        return Touched(objection=objection or None)
    if t in NOTICE_EVENTS:
        bases = tuple((*key, e.base) for e in _entries(event))
        return Touched(cycles=bases, year=key)
    if event.base == PROGRAM_WIDE:
        if t == EventType.RESULTS_FINALIZED or _is_publication_deadline(event):
            return Touched(year=key)
        return Touched()
    if is_cycle_event(event):
        return Touched(cycles=((*key, event.base),))
    return Touched()


# ---------------------------------------------------------------- cycles


def apply(view: CycleView, event: CloudEvent) -> CycleView:
    """The cycle view after ``event``: one of the cycle's own, or a notice naming its base."""
    if event.event_type in NOTICE_EVENTS:
        return _apply_notice(view, event)
    if not is_cycle_event(event):
        return view
    t = event.event_type
    key = event_key(event)
    payload = read_payload(event)
    region = (payload.region or "") if isinstance(payload, CycleContext) else ""
    if region and (key > view.stage_key or not view.region):
        view.region = region
    view.last_sequence = max(view.last_sequence, event.sequence)
    stage = stage_after(event)
    if stage is not None and key > view.stage_key:
        view.stage, view.stage_key, view.stage_since = stage, key, key_instant(key)
    if isinstance(payload, ReviewGraded) and payload.round == 0:
        if key > view.total_key:
            view.total, view.total_key = payload.total, key
        if key > view.grade_key:
            view.grade, view.grade_key = payload.grade.value, key
    if isinstance(payload, CycleClosed) and payload.grade and not payload.rectified:
        if key > view.grade_key:  # the final grade (relative grading, objections) stands
            view.grade, view.grade_key = payload.grade, key
    if t in (EventType.PLAN_OVERDUE, EventType.SELFEVAL_OVERDUE):
        view.overdue += 1
    for name, due in deadline_facts(event):
        if key > str(view.deadlines.get(name, {}).get("key", "")):
            view.deadlines = dict(sorted({**view.deadlines, name: {**due, "key": key}}.items()))
    return view


def stage_after(event: CloudEvent) -> str | None:
    """The stage a cycle event leaves the cycle in, or None when it does not say. The stage
    machine's table first: the cycle's own ``data["stage"]`` is the stage when it emitted the
    event, for some still the stage before (a filed plan moves to verification without another
    event)."""
    payload = read_payload(event)
    moved = stage_machine.after(event.event_type, payload.model_dump())
    if moved is not None:
        return str(moved)
    return (payload.stage or None) if isinstance(payload, CycleContext) else None


def deadline_facts(event: CloudEvent) -> list[tuple[str, dict[str, Any]]]:
    """The deadlines an event states, as ``(name, {due, last_day, provisional})``."""
    p = read_payload(event)
    if isinstance(p, CycleOpened):
        return [
            (name, _due(due, p.deadline_info.get(name, DeadlineNote())))
            for name, due in p.deadlines.items()
        ]
    if isinstance(p, DeadlineRecomputed | DeadlineMoved):
        return [(p.deadline, _due(p.to.due, p.to))]
    if isinstance(p, DeadlineExtended):
        return [(p.deadline, _due(p.until))]
    if isinstance(p, PlanReturned):
        return [("plan", _due(p.refile_by))] if p.refile_by else []
    if not isinstance(p, Due) or not p.due:
        return []
    name = p.deadline if isinstance(p, ReminderSent) else _DEADLINE_OF.get(event.event_type)
    return [(str(name), _due(p.due, p))] if name else []


def _due(due: str | None, counted: Due | DeadlineNote | None = None) -> dict[str, Any]:
    """A deadline as the view keeps it: the instant, its last day, whether provisional."""
    return {
        "due": due or None,
        "last_day": counted.last_day if counted and counted.last_day else None,
        "provisional": bool(counted and counted.provisional),
    }


def _entries(event: CloudEvent) -> list[ResultEntry]:
    """A notice's entries as the event carries them (None above 200 bases: none here)."""
    return [e for e in read_as(event, ResultsPublished).entries or [] if e.base]


def _apply_notice(view: CycleView, event: CloudEvent) -> CycleView:
    number = read_as(event, ResultsPublished).notice or 1
    if number <= view.notice:
        return view
    entry = next((e for e in _entries(event) if e.base == view.base), None)
    if entry is None:
        return view
    key = notice_key(number)
    view.notice = number
    view.grade, view.grade_key = entry.grade, key
    view.total, view.total_key = entry.total, key
    view.outcome = entry.outcome
    view.reason_zh, view.reason_en = entry.reason_zh, entry.reason_en
    view.rank_reason_zh, view.rank_reason_en = entry.rank_reason_zh, entry.rank_reason_en
    view.corrected = entry.corrected
    if entry.region and not view.region:
        view.region = entry.region
    return view


# ---------------------------------------------------------------- program years


def _is_publication_deadline(event: CloudEvent) -> bool:
    return (
        event.event_type == EventType.DEADLINE_RECOMPUTED
        and read_as(event, DeadlineRecomputed).deadline == "publication"
    )


def apply_year(view: YearView, event: CloudEvent) -> YearView:
    t = event.event_type
    if t in NOTICE_EVENTS:
        notice = read_as(event, ResultsPublished)
        number = notice.notice or 1
        if number > view.notice:
            view.notice = number
            view.kind = notice.kind or "original"
            view.published_at = event.time.isoformat()
            view.counts = dict(notice.counts)
            view.inline = notice.entries is not None
            view.results_key = notice.results.key if notice.results else None
            view.corrected = list(notice.corrected) if isinstance(notice, ResultsCorrected) else []
        _publication(
            view,
            event_key(event),
            notice.publication_until,
            notice.publication_last_day,
            notice.provisional,
        )
    elif _is_publication_deadline(event):
        to = read_as(event, DeadlineRecomputed).to
        _publication(view, event_key(event), to.due, to.last_day, to.provisional)
    elif t == EventType.RESULTS_FINALIZED:
        view.finalized_at = event.time.isoformat()
    return view


def _publication(view: YearView, key: str, until: Any, last_day: Any, provisional: bool) -> None:
    if until and key > view.publication_key:
        view.publication_until = str(until)
        view.publication_last_day = str(last_day) if last_day else None
        view.provisional = provisional
        view.publication_key = key


# ---------------------------------------------------------------- objections


def apply_objection(view: ObjectionView, event: CloudEvent) -> ObjectionView:
    """Lodged and decided merge in either order: each sets only its own fields."""
    p = read_payload(event)
    if isinstance(p, ObjectionLodged):
        view.role, view.grounds = p.role, p.grounds
        view.received_at = p.received_at or None
    elif isinstance(p, ObjectionDecided):
        view.status = p.decision or "lodged"
        view.reason, view.decided_by = p.reason, p.by
        view.decided_at = event.time.isoformat()
    return view


def new_objection(event: CloudEvent) -> ObjectionView:
    p = read_as(event, Objection)
    return ObjectionView(p.objection_id, event.program, event.year, p.base or event.base)


# ---------------------------------------------------------------- timeline and regions


_DETAIL_KEYS = ("grade", "step", "decision", "deadline", "round", "reason")
_SCALARS = (str, int, float)


def timeline_detail(event: CloudEvent) -> tuple[str | None, str | None]:
    """The document an event filed, if any, and a few words on what happened."""
    payload = read_payload(event)
    document = getattr(payload, "document", None)
    document_id = document.document_id if isinstance(document, DocumentNote) else None
    # A few words from whichever of these fields the event's model has, by name.
    data = payload.model_dump(mode="json")
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
