"""The notifier's tables: notices (the inbox), their deliveries (the outbox), processed events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.migrations import ServiceMigrations


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


class Delivery(SQLModel, table=True):
    """One notice to one recipient of one channel (a webhook URL, an e-mail address): the outbox.

    Written in the transaction that writes its notice, so a crash never loses it; the sender
    moves it from ``pending`` to ``sent``, or to ``dead`` after its last try.
    """

    __tablename__ = "notifier_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "channel", "recipient"),
        Index("ix_notifier_deliveries_due", "status", "next_try_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notifier_notices.id", index=True)
    notice_key: str = Field(max_length=100)  # stable across databases: <event id>.<audience>
    event_id: str = Field(max_length=64)
    channel: str = Field(max_length=16)  # webhook | email
    recipient: str = Field(max_length=500)  # the URL or the address
    payload: str  # the webhook body, or the e-mail as JSON {subject, body}
    status: str = Field(default="pending", max_length=16)  # pending | sent | dead
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    next_try_at: datetime = Field(default_factory=_now)
    created_at: datetime = Field(default_factory=_now)
    sent_at: datetime | None = None


class WebhookFailure(SQLModel, table=True):
    """Dead letters of the notifier before the outbox (kept readable; no longer written)."""

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


TABLES: list[type[SQLModel]] = [NoticeRow, Delivery, WebhookFailure, ProcessedEvent]

# What the shared migration runner migrates for this service (tables notifier_*).
MIGRATIONS = ServiceMigrations("notifier", Path(__file__).parent / "migrations", TABLES)
