"""The dashboard's projections of the event log, and where it stopped reading."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from shared.migrations import ServiceMigrations

KEY = 96  # projection.event_key: "e|<time>|<sequence>|<uuid>"


class CycleRow(SQLModel, table=True):
    __tablename__ = "dashboard_cycles"
    # Beyond the key (every query reads one program year, the key's prefix), one index: a
    # stage's cycles within a region, in the order they entered the stage (the officers' queue,
    # a page at a time). Each index is another B-tree every event's row update may rewrite.
    __table_args__ = (
        Index(
            "ix_dashboard_cycles_stage_queue", "program", "year", "stage", "region", "stage_since"
        ),
    )

    program: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    base: str = Field(primary_key=True, max_length=64)
    region: str = Field(default="", max_length=6)
    stage: str = Field(max_length=16)
    grade: str | None = Field(default=None, max_length=16)
    total: float | None = None
    overdue: int = 0
    last_sequence: int = 0
    # The facts each value came from (projection.event_key / notice_key): a later one replaces.
    stage_key: str = Field(default="", max_length=KEY)
    # When the cycle entered its stage: stage_key's time (2027-03-01T08:00:00.000000, UTC), ""
    # when unknown; ordered as strings, as times.
    stage_since: str = Field(default="", max_length=26)
    grade_key: str = Field(default="", max_length=KEY)
    total_key: str = Field(default="", max_length=KEY)
    # As the latest 公示 notice naming the base says.
    notice: int = 0
    outcome: str | None = Field(default=None, max_length=32)
    reason_zh: str = Field(default="", sa_type=Text)
    reason_en: str = Field(default="", sa_type=Text)
    rank_reason_zh: str = Field(default="", sa_type=Text)
    rank_reason_en: str = Field(default="", sa_type=Text)
    corrected: bool = False
    deadlines: str = Field(default="{}", sa_type=Text, description="JSON: name -> due")


class YearRow(SQLModel, table=True):
    """A program year's latest 公示 notice and its publication period."""

    __tablename__ = "dashboard_years"

    program: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    notice: int = 0
    kind: str | None = Field(default=None, max_length=16)
    published_at: str | None = Field(default=None, max_length=40)
    counts: str = Field(default="{}", sa_type=Text, description="JSON: grade -> bases")
    inline: bool = True
    results_key: str | None = Field(default=None, max_length=255)
    corrected: str = Field(default="[]", sa_type=Text, description="JSON: bases")
    publication_until: str | None = Field(default=None, max_length=40)
    publication_last_day: str | None = Field(default=None, max_length=10)
    provisional: bool = False
    publication_key: str = Field(default="", max_length=KEY)
    finalized_at: str | None = Field(default=None, max_length=40)


class ObjectionRow(SQLModel, table=True):
    """An objection against a base's published result; no objector's name or contact."""

    __tablename__ = "dashboard_objections"
    __table_args__ = (Index("ix_dashboard_objections_year", "program", "year", "base"),)

    objection_id: str = Field(primary_key=True, max_length=64)
    program: str = Field(max_length=64)
    year: int
    base: str = Field(max_length=64)
    role: str = Field(default="", max_length=32)
    grounds: str = Field(default="", sa_type=Text)
    received_at: str | None = Field(default=None, max_length=40)
    status: str = Field(default="lodged", max_length=16)
    reason: str = Field(default="", sa_type=Text)
    decided_by: str = Field(default="", max_length=128)
    decided_at: str | None = Field(default=None, max_length=40)


class TimelineRow(SQLModel, table=True):
    __tablename__ = "dashboard_timeline"
    # One index answers a base's timeline in order; one B-tree to write per event, not three.
    __table_args__ = (
        Index("ix_dashboard_timeline_base_events", "program", "year", "base", "stream_seq"),
    )

    event_id: str = Field(primary_key=True, max_length=64)
    program: str = Field(max_length=64)
    year: int
    base: str = Field(max_length=64)
    sequence: int
    type: str = Field(max_length=64)
    time: datetime
    stream_seq: int
    document_id: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=200, description="grade, step, kind")


class Checkpoint(SQLModel, table=True):
    __tablename__ = "dashboard_checkpoints"

    name: str = Field(primary_key=True, max_length=64)
    stream_seq: int = 0


TABLES: list[type[SQLModel]] = [CycleRow, YearRow, ObjectionRow, TimelineRow, Checkpoint]

# What the shared migration runner migrates for this service (tables dashboard_*).
MIGRATIONS = ServiceMigrations("dashboard", Path(__file__).parent / "migrations", TABLES)
