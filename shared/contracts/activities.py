"""Requests and replies of the workflows' activities (what a workflow asks of the world)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from shared.contracts.cycle import BaseInfo
from shared.contracts.filings import DocumentRecord
from shared.contracts.results import ResultsNotice
from shared.contracts.strict import StrictModel
from shared.domain.base_status import Status as BaseStatus
from shared.domain.grading import Grade
from shared.domain.rules import ProgramRules
from shared.events.envelope import CloudEvent


class ResolveDeadlineRequest(StrictModel):
    spec: str
    anchor: datetime
    year: int
    utc_offset: str
    calendar: str = "cn-statutory"


class ResolvedDeadline(StrictModel):
    until: datetime
    last_day: date | None = None
    provisional: bool = False
    rolled_from: date | None = None
    calendar_version: int | None = None


class SignalCyclesRequest(StrictModel):
    """One signal to many cycles, sent from an activity so a history stays bounded."""

    program: str
    year: int
    bases: list[str]
    signal: str
    payload: dict[str, Any] = Field(default_factory=dict)


class EndLaterCyclesRequest(StrictModel):
    program: str
    base: str
    year: int
    reason: str


class OpenCyclesRequest(StrictModel):
    program: str
    year: int
    rules: ProgramRules
    rules_version: int
    launched_at: datetime
    parent_id: str
    parent_secret: str = ""
    bases: list[BaseInfo]
    search_attributes: bool


class PublishRequest(StrictModel):
    event: CloudEvent


class RecordFiling(StrictModel):
    """A filing recorded in one call: its document registered, then its event published."""

    document: DocumentRecord
    event: CloudEvent


class BaseStatusRequest(StrictModel):
    program: str
    base: str
    status: BaseStatus
    reason: str = ""
    year: int | None = Field(None, description="The program year of the cycle that asks")


class StoreResultsRequest(StrictModel):
    program: str
    year: int
    notice: ResultsNotice


class ExpertsRequest(StrictModel):
    """Experts for one review round: open it (assign in turn) or replace the silent ones."""

    program: str
    year: int
    base: str
    round: int
    needed: int
    due: datetime | None = None
    keep: list[str] = Field(default_factory=list, description="Experts who already scored")


class StoredResults(StrictModel):
    key: str
    sha256: str
    size: int


class DecideOutcomesRequest(StrictModel):
    """The year's final grades, for the outcome rules: each decision is published as an event of
    the program year's stream, numbered from ``first_sequence``."""

    program: str
    year: int
    rules: ProgramRules
    grades: dict[str, Grade] = Field(default_factory=dict)
    ledger_batch: int | None = Field(
        None, description="Read the final grades from this year-ledger snapshot instead"
    )
    decided_at: datetime
    stream_key: str
    first_sequence: int = Field(ge=1)


class FinalizeCyclesRequest(StrictModel):
    program: str
    year: int
    grades: dict[str, Grade] = Field(default_factory=dict)
    rules: ProgramRules | None = Field(None, description="With ledger_batch: to rank the grades")
    ledger_batch: int | None = Field(
        None, description="Read the final grades from this year-ledger snapshot instead"
    )
    finalized_at: datetime
    secret: str = ""
