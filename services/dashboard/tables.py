"""The dashboard's projections of the event log, and where it stopped reading."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class CycleRow(SQLModel, table=True):
    __tablename__ = "dashboard_cycles"

    program: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    base: str = Field(primary_key=True, max_length=64)
    region: str = Field(default="", max_length=6, index=True)
    stage: str = Field(max_length=16, index=True)
    grade: str | None = Field(default=None, max_length=16)
    total: float | None = None
    overdue: int = 0
    last_sequence: int = 0


class TimelineRow(SQLModel, table=True):
    __tablename__ = "dashboard_timeline"

    event_id: str = Field(primary_key=True, max_length=64)
    program: str = Field(max_length=64, index=True)
    year: int = Field(index=True)
    base: str = Field(max_length=64, index=True)
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
