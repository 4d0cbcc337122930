"""The registry's tables: programs, their rules versions, and bases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.migrations import ServiceMigrations


def _now() -> datetime:
    return datetime.now(UTC)


class RulesVersion(SQLModel, table=True):
    __tablename__ = "registry_rules_versions"
    __table_args__ = (UniqueConstraint("program", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(index=True, max_length=64)
    version: int
    digest: str = Field(max_length=64)
    document: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=_now)


class BaseRow(SQLModel, table=True):
    __tablename__ = "registry_bases"

    program: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    region: str = Field(max_length=6, index=True)
    domain: str = Field(max_length=64)
    host_type: str = Field(default="", max_length=64)
    kind: str = Field(default="", max_length=64)  # participant kind; "" before kinds existed
    staff_total: int = 0
    senior_full_time: int = 0
    pct_minimum_data: bool = False
    declarations: dict = Field(  # type: ignore[type-arg]
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )  # key -> {affirmed, evidence}: the applicant's declarations and their evidence documents
    status: str = Field(default="active", max_length=16, index=True)
    status_reason: str = Field(default="", max_length=500)
    delisted_at: datetime | None = None  # business time of the last de-listing
    delisted_in_year: int | None = None  # the program year whose cycle de-listed it
    created_at: datetime = Field(default_factory=_now)


class CalendarVersion(SQLModel, table=True):
    """One version of a holiday table (节假日安排) the bureau maintains; the newest counts."""

    __tablename__ = "registry_calendar_versions"
    __table_args__ = (UniqueConstraint("calendar", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    calendar: str = Field(index=True, max_length=64)
    version: int
    digest: str = Field(max_length=64)
    document: dict = Field(sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    source: str = Field(default="", max_length=200)
    applied_at: datetime = Field(default_factory=_now)


class BaseStatusChangeRow(SQLModel, table=True):
    """Every change of a base's status: who (a cycle's year or a person), why and when."""

    __tablename__ = "registry_base_status_changes"
    __table_args__ = (UniqueConstraint("program", "base", "change"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(max_length=64)
    base: str = Field(max_length=64)
    change: int  # 1, 2, ... per base
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    reason: str = Field(default="", max_length=1000)
    by: str = Field(max_length=200)
    year: int | None = None  # the asking cycle's program year
    at: datetime  # business time
    recorded_at: datetime = Field(default_factory=_now)


class OutcomeActionRow(SQLModel, table=True):
    """An ``outcome.decided`` event the registry acted on, once per event id: what it did (an
    exit de-listed the base, a ban recorded until when) and the decision it came from."""

    __tablename__ = "registry_outcome_actions"

    event_id: str = Field(primary_key=True, max_length=200)
    program: str = Field(max_length=64)
    base: str = Field(max_length=64)
    year: int
    kind: str = Field(max_length=32)  # tier, promotion, exit, reapplication_ban
    rule: str = Field(max_length=200)
    effect: str = Field(max_length=32)  # delisted, already_delisted, banned, unknown_base, none
    decided_at: datetime  # the event's business time
    ban: str | None = Field(None, max_length=32)  # the ban's duration, as the decision says
    banned_until: datetime | None = None  # when re-applying is accepted again
    recorded_at: datetime = Field(default_factory=_now)


TABLES: list[type[SQLModel]] = [
    RulesVersion,
    BaseRow,
    CalendarVersion,
    BaseStatusChangeRow,
    OutcomeActionRow,
]

# What the shared migration runner migrates for this service (tables registry_*).
MIGRATIONS = ServiceMigrations("registry", Path(__file__).parent / "migrations", TABLES)
