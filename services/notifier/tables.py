"""The notifier's tables: notices (the inbox), webhook deliveries that failed, processed events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class NoticeRow(SQLModel, table=True):
    __tablename__ = "notifier_notices"
    __table_args__ = (UniqueConstraint("event_id", "audience"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, index=True)
    program: str = Field(max_length=64, index=True)
    year: int
    base: str = Field(max_length=64, index=True)
    region: str = Field(default="", max_length=6, index=True)
    audience: str = Field(max_length=16)
    recipient: str = Field(default="", max_length=64, index=True)  # one person, e.g. an expert
    kind: str = Field(max_length=16)
    title_zh: str = Field(max_length=200)
    title_en: str = Field(max_length=200)
    body_zh: str = Field(max_length=2000)
    body_en: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=_now)


class WebhookFailure(SQLModel, table=True):
    """A dead-letter record: a notice no webhook endpoint accepted after every retry."""

    __tablename__ = "notifier_webhook_failures"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64)
    url: str = Field(max_length=500)
    attempts: int
    error: str = Field(max_length=1000)
    payload: str
    failed_at: datetime = Field(default_factory=_now)


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "notifier_processed_events"

    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(default_factory=_now)


TABLES: list[type[SQLModel]] = [NoticeRow, WebhookFailure, ProcessedEvent]
