"""The dashboard service's answers: counts, overdue bases and timelines, from its projections."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class YearQuery(BaseModel):
    program: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    year: int = Field(ge=2000, le=2200)


class BaseQuery(YearQuery):
    base: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class OverdueBase(BaseModel):
    base: str
    region: str
    stage: str
    overdue: int


class YearCounts(BaseModel):
    program: str
    year: int
    bases: int
    by_stage: dict[str, int]
    by_grade: dict[str, int]
    overdue_by_city: dict[str, list[OverdueBase]]
    stream_seq: int = Field(description="The projections include every event up to here")


class TimelineItem(BaseModel):
    time: datetime
    sequence: int
    type: str
    document_id: str | None = None
    detail: str | None = None
    stream_seq: int


class CycleSummary(BaseModel):
    base: str
    region: str
    stage: str
    grade: str | None
    total: float | None
    overdue: int


class BaseTimeline(BaseModel):
    program: str
    year: int
    base: str
    cycle: CycleSummary | None
    events: list[TimelineItem]


class YearRef(BaseModel):
    program: str
    year: int
    bases: int


class YearList(BaseModel):
    years: list[YearRef]


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
