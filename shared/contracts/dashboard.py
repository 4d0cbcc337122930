"""The dashboard service's answers: counts, overdue bases and timelines, from its projections."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.paging import MAX_PAGE


class YearQuery(BaseModel):
    program: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    year: int = Field(ge=2000, le=2200)


# ``dashboard.cycles``' cursor in ``stage_since`` order: the last row's stage_since ("" when
# unknown) and base, as ``2027-03-01T08:00:00.000000/base``.
SINCE_CURSOR = r"^[0-9T:.-]{0,26}/[A-Za-z0-9_-]{1,64}$"
REGION_PREFIX = r"^\d{0,6}$"


class CyclesQuery(YearQuery):
    """A page of a year's cycles after ``cursor`` (``dashboard.cycles``): in base order, or in
    the order they entered their stage (``order="stage_since"``: the earliest first, then by
    base); only those in ``stage``, within ``region_prefix`` and of ``base``, when given; with
    how many the query matches in all when ``count``."""

    cursor: str | None = Field(None, max_length=96, description="next_cursor of the page before")
    stage: str | None = Field(
        None, pattern=r"^[a-z_]{1,16}$", description="only the cycles in this stage"
    )
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)
    region_prefix: str | None = Field(
        None,
        pattern=REGION_PREFIX,
        description="only the cycles whose region code starts so (shared.domain.regions)",
    )
    order: Literal["base", "stage_since"] = Field(
        "base", description="base, or stage_since: when each entered its stage, then base"
    )
    count: bool = Field(False, description="answer total: the cycles the query matches")
    base: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="only this base's cycle"
    )


class CitiesQuery(YearQuery):
    """How many of a year's cycles each city has (``dashboard.cities``), in city order after
    ``cursor``: those in ``stage`` and within ``region_prefix`` when given."""

    stage: str | None = Field(None, pattern=r"^[a-z_]{1,16}$")
    region_prefix: str | None = Field(None, pattern=REGION_PREFIX)
    cursor: str | None = Field(
        None, pattern=r"^\d{0,6}$", description="next_cursor of the page before"
    )
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class BaseQuery(YearQuery):
    """One base's timeline: a page of its events in stream order after ``cursor``
    (``dashboard.timeline``)."""

    base: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    cursor: str | None = Field(
        None, pattern=r"^\d{1,18}$", description="next_cursor of the page before"
    )
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class ObjectionsQuery(YearQuery):
    """A page of a year's objections, in base order after ``cursor`` (``dashboard.objections``)."""

    cursor: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="next_cursor of the page before"
    )
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class OverdueQuery(YearQuery):
    """A page of a year's overdue bases, in base order after ``cursor`` (``dashboard.overdue``)."""

    cursor: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="next_cursor of the page before"
    )
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class YearsQuery(BaseModel):
    """A page of the projected program years, newest first, after ``cursor``
    (``dashboard.years``); one program's only when ``program`` is given."""

    program: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    cursor: str | None = Field(
        None,
        pattern=r"^\d{4}/[A-Za-z0-9_-]{1,64}$",
        description="next_cursor of the page before (year/program)",
    )
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class OverdueBase(BaseModel):
    base: str
    region: str
    city: str = Field("", description="The city the base's region lies in")
    stage: str
    overdue: int = Field(description="How many of its deadlines it has missed")


class OverdueList(BaseModel):
    """A page of the year's bases that missed a deadline (``dashboard.overdue``)."""

    program: str
    year: int
    bases: list[OverdueBase]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


class YearCounts(BaseModel):
    program: str
    year: int
    bases: int
    by_stage: dict[str, int]
    by_grade: dict[str, int]
    overdue: int = Field(
        description="How many bases missed a deadline (the list: dashboard.overdue, paged)"
    )
    stream_seq: int = Field(description="The projections include every event up to here")
    publication: Publication | None = Field(None, description="The latest 公示 notice, if any")
    objections: dict[str, int] = Field(
        default_factory=dict, description="Objections by status: lodged, upheld, dismissed"
    )


class TimelineItem(BaseModel):
    time: datetime
    sequence: int
    type: str
    document_id: str | None = None
    detail: str | None = None
    stream_seq: int


class DeadlineView(BaseModel):
    name: str = Field(description="plan, plan_review, self_evaluation, review, rectification")
    due: str | None = Field(None, description="The exact instant (ISO 8601)")
    last_day: str | None = Field(None, description="Its last day, when counted in days")
    provisional: bool = Field(False, description="Counted without the year's holiday data")
    words_zh: str = Field("", description="「2027年4月1日24时前」")
    words_en: str = Field("", description='"by end of 1 April 2027"')


class ObjectionItem(BaseModel):
    """An objection (异议) and its outcome, without the objector's name or contact."""

    objection_id: str
    base: str
    role: str = ""
    grounds: str = ""
    received_at: str | None = None
    status: str = "lodged"
    status_zh: str = ""
    status_en: str = ""
    reason: str = Field("", description="The province's reason, once decided")
    decided_by: str = ""
    decided_at: str | None = None


class Publication(BaseModel):
    """The latest 公示 notice of a program year, as the dashboard last heard of it."""

    notice: int = Field(description="1 the 公示, 2.. each 补充公示")
    kind: str
    published_at: str | None = None
    until: str | None = None
    last_day: str | None = None
    provisional: bool = False
    until_zh: str = ""
    until_en: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    corrected: list[str] = Field(default_factory=list)
    entries_inline: bool = Field(
        True, description="False above 200 bases: per-base values come from the stored notice"
    )
    finalized_at: str | None = None


class CycleSummary(BaseModel):
    base: str
    region: str
    stage: str
    stage_since: str | None = Field(
        None, description="When the event that moved the cycle to its stage happened (ISO 8601)"
    )
    grade: str | None
    total: float | None
    overdue: int
    # As the latest 公示 notice naming the base says (notice 0: none yet).
    notice: int = 0
    outcome: str | None = None
    outcome_zh: str = ""
    outcome_en: str = ""
    reason_zh: str = ""
    reason_en: str = ""
    rank_reason_zh: str = ""
    rank_reason_en: str = ""
    corrected: bool = False
    deadlines: list[DeadlineView] = Field(default_factory=list)
    objections: list[ObjectionItem] = Field(default_factory=list)


class BaseTimeline(BaseModel):
    program: str
    year: int
    base: str
    cycle: CycleSummary | None
    events: list[TimelineItem]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


class YearRef(BaseModel):
    program: str
    year: int
    bases: int


class YearList(BaseModel):
    years: list[YearRef]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


class AppliedEvent(BaseModel):
    base: str
    event_id: str
    type: str
    stream_seq: int


class ProjectionUpdated(BaseModel):
    """Published (core NATS, not stored) after each commit of the projections, per program year
    it changed: the events it applied, in stream order."""

    program: str
    year: int
    stream_seq: int = Field(description="The last event applied for this program year")
    events: list[AppliedEvent]


def updated_subject(program: str, year: int) -> str:
    return f"navcycle.projection.updated.{program}.{year}"


class CycleList(BaseModel):
    program: str
    year: int
    cycles: list[CycleSummary]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")
    total: int | None = Field(
        None, description="How many cycles the query matches on all its pages (when counted)"
    )


class CityCount(BaseModel):
    city: str = Field(description="The city's code (a county's cycles count for its city)")
    cycles: int


class CityCounts(BaseModel):
    """A page of a year's cycles counted by city (``dashboard.cities``)."""

    program: str
    year: int
    cities: list[CityCount]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


class ObjectionsList(BaseModel):
    program: str
    year: int
    objections: list[ObjectionItem]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


YearCounts.model_rebuild()
