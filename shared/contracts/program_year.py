"""What goes into and comes out of a program year (ProgramYearWorkflow) and its launch."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from shared.contracts.cycle import CycleConcluded, CycleGraded
from shared.contracts.forwardings import ForwardingRecord
from shared.contracts.objections import Objection
from shared.contracts.strict import StrictModel
from shared.contracts.targets import TargetProgressView
from shared.contracts.year_ledger import LedgerTally
from shared.domain.rules import ProgramRules


class ProgramYearInput(StrictModel):
    program: str
    year: int
    # Carried across continue-as-new:
    rules: ProgramRules | None = None
    rules_version: int | None = None
    launched_at: datetime | None = None
    cursor: str | None = None
    listing_done: bool = False
    opened: int = 0
    graded: dict[str, CycleGraded] = Field(default_factory=dict)
    sequence: int = 0
    phase: Literal["launching", "reviewing", "publication", "concluding", "done"] = "launching"
    notices: int = 0
    published_at: datetime | None = None
    publication_until: datetime | None = None
    publication_last_day: date | None = None
    publication_provisional: bool = False
    stored_results: dict[str, Any] = Field(default_factory=dict)
    objections: dict[str, Objection] = Field(default_factory=dict)
    regrading: list[str] = Field(
        default_factory=list, description="Bases re-reviewed after an upheld objection"
    )
    regraded: list[str] = Field(default_factory=list)
    regrades_received: int = 0
    finalized_at: datetime | None = None
    concluded: dict[str, CycleConcluded] = Field(default_factory=dict)
    secret: str = Field("", description="Given to this year's cycles; their reports carry it")
    targets: TargetProgressView | None = Field(
        None, description="The year's reported target actuals and progress (None: no report yet)"
    )
    awaiting: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Region -> its units whose plans wait at its aggregation step",
    )
    forward_due: dict[str, datetime] = Field(
        default_factory=dict, description="Region -> its aggregation step's forward_by"
    )
    forwardings: list[ForwardingRecord] = Field(default_factory=list)
    history_limit: int | None = Field(
        None, ge=20, description="Continue as new past this many history events (None: 10,000)"
    )
    # The year ledger (workflows/year_ledger.py): the cycles' reports kept outside the state.
    ledger: bool = Field(False, description="Reports go to the year ledger, not `graded`")
    ledger_batch: int = Field(0, description="The ledger's latest snapshot")
    tally: LedgerTally = Field(default_factory=LedgerTally)
    pending_graded: list[CycleGraded] = Field(
        default_factory=list, description="Grades received, not yet in the ledger"
    )
    pending_concluded: list[CycleConcluded] = Field(default_factory=list)


class ProgramYearState(StrictModel):
    program: str
    year: int
    phase: str
    opened: int
    graded: int
    excluded: int
    rules_version: int | None
    notices: int = 0
    publication_until: datetime | None = None
    publication_provisional: bool = False
    objections: int = 0
    concluded: int = 0
    targets: TargetProgressView | None = None
    awaiting: dict[str, list[str]] = Field(
        default_factory=dict, description="Region -> units waiting at its aggregation step"
    )
    forwardings: list[ForwardingRecord] = Field(default_factory=list)


class LaunchRequest(StrictModel):
    program: str
    at: datetime | None = Field(None, description="When; the program-local year of it is opened")
    search_attributes: bool = True


class LaunchResult(StrictModel):
    workflow_id: str
    year: int
    status: Literal["launched", "already_launched"]
