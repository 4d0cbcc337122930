"""The year ledger: where a program year keeps what each of its cycles reported (its grade, then
how it ended), outside the workflow, so the program year carries counts and not a record per base
through continue-as-new (a 10,000-base year's records are over Temporal's 2 MiB payload limit).

The workflow sends the reports in numbered batches; the ledger answers with the year's counts.
The notices, the final grades and the outcome decisions are read from one numbered snapshot.
"""

from __future__ import annotations

from pydantic import Field

from shared.contracts.cycle import CycleConcluded, CycleGraded
from shared.contracts.results import ObjectionSummary, ResultsNotice
from shared.contracts.strict import StrictModel
from shared.domain.rules import ProgramRules

# A notice's entries ride inline on ``results.published`` up to this many.
INLINE_RESULTS = 200


class LedgerBatch(StrictModel):
    """Batch ``batch`` of a year's reports, in the order the program year received them."""

    program: str
    year: int
    batch: int = Field(ge=1, description="1, 2, 3 ... without gaps: the snapshot it makes")
    graded: list[CycleGraded] = Field(default_factory=list)
    concluded: list[CycleConcluded] = Field(default_factory=list)


class LedgerTally(StrictModel):
    """The year's counts once a batch is kept: bases counted once, however often they report."""

    batch: int = 0
    graded: int = Field(0, description="Bases with a grade report, excluded ones included")
    excluded: int = 0
    concluded: int = 0
    outcomes_changed: bool = Field(
        False, description="A cycle ended other than 'graded, nothing follows'"
    )
    changed: list[str] = Field(
        default_factory=list,
        description="This batch's bases whose total or grade differs from their earlier report",
    )


class LedgerRef(StrictModel):
    program: str
    year: int
    batch: int = Field(ge=0, description="The snapshot to read (0: nothing reported yet)")


class PublishedEntryLookup(StrictModel):
    """Whether ``base`` has a result (not excluded) in the notice stored under ``key``."""

    key: str
    base: str


class PublishResultsRequest(LedgerRef):
    """A notice built from the ledger's snapshot: the workflow gives its header (``entries``
    empty), the objections and the corrected bases; the activity adds the entries."""

    rules: ProgramRules
    notice: ResultsNotice
    objections: dict[str, list[ObjectionSummary]] = Field(default_factory=dict)
    corrected: list[str] = Field(default_factory=list)


class PublishedResults(StrictModel):
    key: str
    sha256: str
    size: int
    counts: dict[str, int]
    excluded: int
    entries: list[dict[str, object]] | None = Field(
        None, description="The entries inline (JSON) when there are few enough for an event"
    )


class GradeCountsRequest(LedgerRef):
    rules: ProgramRules
