"""The dashboard's projections of the event log, and where it stopped reading."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class CycleRow(SQLModel, table=True):
    __tablename__ = "dashboard_cycles"

    program: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    base: str = Field(primary_key=True, max_length=64)
    # No index beyond the key: every query reads one program year, the key's prefix, and an
    # index on the stage would be rewritten by most events.
    region: str = Field(default="", max_length=6)
    stage: str = Field(max_length=16)
    grade: str | None = Field(default=None, max_length=16)
    total: float | None = None
    overdue: int = 0
    last_sequence: int = 0


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


TABLES: list[type[SQLModel]] = [CycleRow, TimelineRow, Checkpoint]
