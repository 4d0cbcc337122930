"""Payloads of the program year: launch, 公示 and its notices, objections, final results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.results import ResultEntry
from shared.domain.outcome_rules import OutcomeDecision
from shared.events.payloads.base import EventPayload, IsoDay, IsoInstant, payload
from shared.events.types import EventType


class StoredNotice(BaseModel):
    """Where a notice's document is stored, and its digest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    sha256: str
    size: int


@payload(EventType.PROGRAM_LAUNCHED)
class ProgramLaunched(EventPayload):
    rules_version: int
    name: str = ""
    issuer: str = ""


@payload(EventType.RESULTS_PUBLISHED)
class ResultsPublished(EventPayload):
    """A 公示 notice: the original (notice 1); a supplementary one is ``results.corrected``."""

    notice: int = 1
    kind: str = "original"
    counts: dict[str, int] = Field(default_factory=dict)
    excluded: int = 0
    publication_until: IsoInstant | None = None
    publication_last_day: IsoDay | None = None
    holidays_known: bool = True
    provisional: bool = False
    results: StoredNotice | None = None
    entries: list[ResultEntry] | None = Field(
        None, description="The notice's entries inline, when few enough; else read results"
    )


@payload(EventType.RESULTS_CORRECTED)
class ResultsCorrected(ResultsPublished):
    """A supplementary notice (补充公示): a published notice, and the bases it changes."""

    corrected: list[str] = Field(default_factory=list, description="The bases it changes")


@payload(EventType.RESULTS_FINALIZED)
class ResultsFinalized(EventPayload):
    counts: dict[str, int] = Field(default_factory=dict)
    results: StoredNotice | None = None
    notices: int = 1


class Objection(EventPayload):
    """What every objection event names: the objection and the base whose result it is about."""

    objection_id: str
    base: str


@payload(EventType.OBJECTION_LODGED)
class ObjectionLodged(Objection):
    role: str = ""
    grounds: str = ""
    received_at: IsoInstant | None = None


@payload(EventType.OBJECTION_DECIDED)
class ObjectionDecided(Objection):
    decision: str = Field(description="upheld | dismissed")
    reason: str = ""
    by: str = ""


@payload(EventType.OUTCOME_DECIDED)
class OutcomeDecided(EventPayload, OutcomeDecision):
    """An outcome rule applied to a base's final grade once the year's results are final (a
    reward tier, a promotion, an exit, a ban on re-applying), with its decision record. Published
    by the program year on the base's subject, from ``YEAR_SOURCE``: not the cycle's stream."""
