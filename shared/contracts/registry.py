"""Request/reply contracts of the registry service."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.rules import ProgramRules

BaseStatus = Literal["active", "rectifying", "delisted"]


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
    program: str


class ListBases(BaseModel):
    program: str
    status: BaseStatus | None = None
    region: str | None = None


class PinnedRules(BaseModel):
    """A program's rules at one version: what a cycle opens with and keeps."""

    rules: ProgramRules
    version: int


class ProgramList(BaseModel):
    programs: list[PinnedRules]


class BaseList(BaseModel):
    bases: list[dict[str, object]]


class GetBase(BaseModel):
    program: str
    base: str


class RegisterBase(BaseModel):
    program: str
    registration: BaseRegistration


class ApplyRules(BaseModel):
    document: dict[str, object]


class RulesApplied(BaseModel):
    program: str
    version: int
    created: bool
