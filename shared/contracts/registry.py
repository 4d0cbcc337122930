"""Request/reply contracts of the registry service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts.cycle import BaseInfo
from shared.contracts.strict import StrictModel
from shared.domain.base_status import Status as BaseStatus
from shared.domain.rules import ProgramRules
from shared.paging import MAX_PAGE


class Staff(BaseModel):
    total: int = Field(ge=0, le=100_000)
    senior_full_time: int = Field(ge=0, le=100_000)


EvidenceRef = Annotated[
    str,
    Field(
        pattern=r"^([0-9a-f]{64}|[A-Za-z0-9_.:-]{1,128})$",
        description="An evidence document: its sha256 (hex) or its document id",
    ),
]


class DeclarationAnswer(BaseModel):
    """The applicant's answer to one of the program's declarations (申报条件 not counted in
    numbers, such as experience or an industry base)."""

    model_config = ConfigDict(extra="forbid")

    affirmed: bool
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=50)


class BaseRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code")
    domain: str = Field(min_length=1, max_length=64)
    host_type: str = Field("", max_length=64, description="承担主体类型")
    kind: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description=(
            "参与单位类型 / The kind of participant, one of the program's participants (see"
            " GET /v1/programs/{id}); left out: the program's first (or only) kind"
        ),
    )
    staff: Staff
    pct_minimum_data: bool = False
    declarations: dict[str, DeclarationAnswer] = Field(
        default_factory=dict,
        max_length=50,
        description="Answers to the program's declarations, by key (see GET /v1/programs/{id})",
    )

    @field_validator("staff")
    @classmethod
    def _senior_within_total(cls, value: Staff) -> Staff:
        if value.senior_full_time > value.total:
            raise ValueError(
                f"senior_full_time ({value.senior_full_time}) exceeds total ({value.total}):"
                " 专职人员不能多于专(兼)职人员总数"
            )
        return value


class BasePublic(BaseRegistration):
    program: str
    status: BaseStatus

    @field_validator("staff")
    @classmethod
    def _senior_within_total(cls, value: Staff) -> Staff:
        return value  # what is stored is shown as it is, even from before the check existed


class GetProgram(BaseModel):
    """Which program: asks for its current rules (``rules.current``), or anything by program."""

    program: str


class ListBasesRequest(StrictModel):
    """A page of a program's active bases, in id order (``bases.active``)."""

    program: str
    cursor: str | None = None
    limit: int = 500
    count: bool = Field(False, description="answer total: how many active bases in all")


class BasesPage(StrictModel):
    bases: list[BaseInfo]
    next_cursor: str | None = None
    total: int | None = Field(None, description="The program's active bases in all (if asked)")


class ListBases(BaseModel):
    """A page of a program's bases, in id order after ``cursor`` (``bases.list``)."""

    program: str
    status: BaseStatus | None = None
    region: str | None = None
    cursor: str | None = Field(None, max_length=64, description="next_cursor of the page before")
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class PinnedRules(BaseModel):
    """A program's rules at one version: what a cycle opens with and keeps."""

    rules: ProgramRules
    version: int


class ProgramList(BaseModel):
    programs: list[PinnedRules]


class BaseList(BaseModel):
    bases: list[dict[str, object]]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


class GetBase(BaseModel):
    program: str
    base: str


class RegisterBase(BaseModel):
    program: str
    registration: BaseRegistration
    at: datetime | None = Field(
        None, description="Business time, for a re-application's ban; None: now"
    )


class ApplyRules(BaseModel):
    document: dict[str, object]


class RulesApplied(BaseModel):
    program: str
    version: int
    created: bool


class BaseStatusChange(BaseModel):
    """A base's status change asked by a cycle (an activity's ``BaseStatusRequest`` is sent as
    this) or by a person (``by``). The registry answers with :class:`BaseStatusResult`."""

    program: str
    base: str
    status: BaseStatus
    reason: str = Field("", max_length=500)
    year: int | None = Field(None, description="The program year of the asking cycle")
    by: str | None = Field(None, description="A person; None: the cycle of `year` asks")
    at: datetime | None = Field(None, description="Business time of the change; None: now")


class BaseStatusResult(BaseModel):
    """The answer to a status change: never a failure for a refused change, so a cycle reads it.

    ``refused`` is a stable code (``status_transition_refused``) when the change is not allowed,
    e.g. a later year's cycle asking ``rectifying`` or ``active`` of a de-listed base."""

    status: BaseStatus = Field(description="The base's status after the request")
    changed: bool
    refused: str | None = None
    message: str | None = Field(None, description="Why it was refused, Chinese — English")
    delisted_in_year: int | None = Field(
        None, description="The program year whose cycle de-listed the base, while de-listed"
    )


class Reinstate(BaseModel):
    """``delisted -> active`` by a province_admin, with a reason (audited by the caller)."""

    program: str
    base: str
    reason: str = Field(min_length=1, max_length=1000)
    by: str = Field(min_length=1, max_length=200)
    at: datetime | None = Field(None, description="Business time; None: now")


class Reinstated(BaseModel):
    program: str
    base: str
    status: BaseStatus
    reason: str
    by: str
    at: datetime
    delisted_at: datetime | None
    delisted_in_year: int | None
    change: int = Field(description="The base's status change number: the event's source key")
