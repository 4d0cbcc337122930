"""Request/reply contracts of the assessment service."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AddExpert(BaseModel):
    program: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    expert: str = Field(min_length=1, max_length=100)


class AssignmentQuery(BaseModel):
    program: str
    year: int
    base: str
    expert: str | None = None


class Assignments(BaseModel):
    round: int | None
    experts: list[str]

    def includes(self, expert: str) -> bool:
        return expert in self.experts
