"""Request/reply contracts of the registry service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.rules import ProgramRules

BaseStatus = Literal["active", "rectifying", "delisted"]


class Staff(BaseModel):
    total: int = Field(ge=0, le=100_000)
    senior_full_time: int = Field(ge=0, le=100_000)


class BaseRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code")
    domain: str = Field(min_length=1, max_length=64)
    host_type: str = Field("", max_length=64, description="承担主体类型")
    staff: Staff
    pct_minimum_data: bool = False


class BasePublic(BaseRegistration):
    program: str
    status: BaseStatus


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
