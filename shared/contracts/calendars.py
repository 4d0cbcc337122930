"""Contracts of the holiday tables: the registry's calendar RPCs and the workflow signal."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CalendarApplied(BaseModel):
    """Signal ``calendar_applied`` to running workflows: holiday data changed for ``years``,
    so deadlines that were provisional in those years are counted again."""

    model_config = ConfigDict(frozen=True)

    calendar: str = Field(description="The holiday table's id, e.g. cn-statutory")
    version: int = Field(ge=1, description="The table's version now current")
    years: list[int] = Field(default_factory=list, description="The years whose data changed")


class ApplyCalendar(BaseModel):
    """``registry.calendars.apply``: store a table, merged into the stored one."""

    document: dict[str, object] = Field(description="A holiday table (shared.domain.holidays)")
    source: str = Field("api", max_length=200, description="Where it came from: api, cli, a file")
    only_new_years: bool = Field(
        False,
        description=(
            "Apply only the years not stored yet (the bundled tables at startup: never over a"
            " bureau's correction)"
        ),
    )


class GetCalendar(BaseModel):
    """``registry.calendars.get``: the current version of a table."""

    calendar: str


class CalendarVersionPublic(BaseModel):
    """A stored version of a holiday table."""

    calendar: str
    version: int
    digest: str
    document: dict[str, object] = Field(description="The whole table as stored (merged)")
    source: str = ""
    applied_at: datetime


class CalendarApplyResult(BaseModel):
    """What ``calendars.apply`` did: a new version only when something changed."""

    calendar: str
    version: int = Field(description="The current version after the apply")
    created: bool = Field(description="False: nothing changed, no new version")
    years: list[int] = Field(default_factory=list, description="The years whose data changed")
    digest: str


class CalendarApplyResponse(CalendarApplyResult):
    """``PUT /v1/calendars/{id}``: the apply, and how many running program years were told."""

    program_years_told: int = Field(
        0, description="Running program years signalled to count provisional deadlines again"
    )
