"""The assessment service's tables: the expert roster, assignments, decisions, processed events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.migrations import ServiceMigrations


def _now() -> datetime:
    return datetime.now(UTC)


class ExpertRow(SQLModel, table=True):
    __tablename__ = "assessment_experts"

    program: str = Field(primary_key=True, max_length=64)
    expert: str = Field(primary_key=True, max_length=100)
    added_at: datetime = Field(default_factory=_now)


class CursorRow(SQLModel, table=True):
    """Where the next assignment of a program starts, so experts take reviews in turn."""

    __tablename__ = "assessment_cursors"

    program: str = Field(primary_key=True, max_length=64)
    position: int = 0


class AssignmentRow(SQLModel, table=True):
    __tablename__ = "assessment_assignments"
    # An expert's own list (assignments.of_expert, the portal's review list, reassignments)
    # looks up by program and expert, which the primary key (program, year, base, ...) can't.
    __table_args__ = (Index("ix_assessment_assignments_expert", "program", "expert"),)

    program: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    base: str = Field(primary_key=True, max_length=64)
    round: int = Field(primary_key=True)
    expert: str = Field(primary_key=True, max_length=100)
    assigned_at: datetime = Field(default_factory=_now)
    due: datetime | None = None  # the review's deadline, as the cycle gave it
    replaced_at: datetime | None = None  # set when the expert's place went to another
    replaced_by: str | None = Field(default=None, max_length=100)  # the expert who took it
    reason: str = Field(default="", max_length=1000)  # why the place changed hands


class DecisionRow(SQLModel, table=True):
    """Each grade's decision record, as the cycle published it."""

    __tablename__ = "assessment_decisions"

    program: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    base: str = Field(primary_key=True, max_length=64)
    round: int = Field(primary_key=True)
    total: float
    grade: str = Field(max_length=16)
    record: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "assessment_processed_events"

    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(default_factory=_now)


TABLES: list[type[SQLModel]] = [ExpertRow, CursorRow, AssignmentRow, DecisionRow, ProcessedEvent]

# What the shared migration runner migrates for this service (tables assessment_*).
MIGRATIONS = ServiceMigrations("assessment", Path(__file__).parent / "migrations", TABLES)
