"""Request/reply contracts of the assessment service: the expert roster and review assignments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from shared.paging import MAX_PAGE

_ID = r"^[A-Za-z0-9_-]{1,64}$"


class AddExpert(BaseModel):
    program: str = Field(pattern=_ID)
    expert: str = Field(min_length=1, max_length=100)


class AssignmentQuery(BaseModel):
    program: str
    year: int
    base: str
    expert: str | None = None


class Assignments(BaseModel):
    """The experts on a review round now (replaced ones left out)."""

    round: int | None
    experts: list[str]
    due: datetime | None = None
    replaced: list[str] = Field(
        default_factory=list, description="Experts whose places on this round went to others"
    )

    def includes(self, expert: str) -> bool:
        return expert in self.experts


class ExpertReviewsQuery(BaseModel):
    """A page of the reviews an expert holds a place on now, in one program, newest year first
    then by base, after ``cursor`` (``assignments.of_expert``)."""

    program: str = Field(pattern=_ID)
    expert: str = Field(min_length=1, max_length=100)
    cursor: str | None = Field(
        None,
        pattern=r"^\d{4}/[A-Za-z0-9_-]{1,64}$",
        description="next_cursor of the page before (year/base)",
    )
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class ExpertReview(BaseModel):
    year: int
    base: str
    round: int
    due: datetime | None = None
    decided: bool = Field(description="The round's grade is recorded")


class ExpertReviews(BaseModel):
    """Each review whose latest round counts the expert among its experts (what
    ``assignments.current`` answers per base), newest year first."""

    reviews: list[ExpertReview]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


class OpenAssignments(BaseModel):
    """Assign a review round before it opens: idempotent per (program, year, base, round).

    Refused with ``roster_too_short`` (409) while the roster has fewer than ``needed`` experts;
    the caller (an activity) retries until it is long enough."""

    program: str = Field(pattern=_ID)
    year: int
    base: str = Field(pattern=_ID)
    round: int = Field(ge=0)
    needed: int = Field(ge=1, le=50)
    due: datetime | None = None
    at: datetime | None = Field(None, description="Business time of the events; None: now")


class RosterQuery(BaseModel):
    program: str = Field(pattern=_ID)
    needed: int = Field(ge=1, le=50)


class RosterStatus(BaseModel):
    size: int
    needed: int
    ok: bool
    message: str | None = Field(None, description="When too short: Chinese — English")


class ReassignExperts(BaseModel):
    """Give the places of a round's experts not in ``keep`` (or those in ``replace``) to the next
    experts on the roster not yet on this review. Refused with ``roster_too_short`` if the roster
    cannot fill them."""

    program: str = Field(pattern=_ID)
    year: int
    base: str = Field(pattern=_ID)
    round: int | None = Field(None, description="None: the latest round assigned")
    keep: list[str] | None = Field(None, max_length=50)
    replace: list[str] | None = Field(None, max_length=50)
    reason: str = Field(min_length=1, max_length=1000)
    by: str = Field(min_length=1, max_length=200)
    due: datetime | None = Field(None, description="A new deadline for the round, if any")
    at: datetime | None = None

    @model_validator(mode="after")
    def _one_list(self) -> ReassignExperts:
        if (self.keep is None) == (self.replace is None):
            raise ValueError("give exactly one of keep or replace")
        return self


class RemoveExpert(BaseModel):
    """Take an expert off the roster (a revoked user) and reassign their undecided reviews."""

    program: str = Field(pattern=_ID)
    expert: str = Field(min_length=1, max_length=100)
    reason: str = Field("", max_length=1000)
    by: str = Field(min_length=1, max_length=200)


class ReviewRef(BaseModel):
    year: int
    base: str
    round: int
    message: str | None = None


class ExpertRemoved(BaseModel):
    program: str
    expert: str
    removed: bool = Field(description="False: the expert was not on the roster")
    reassigned: list[ReviewRef] = Field(default_factory=list)
    unfilled: list[ReviewRef] = Field(
        default_factory=list,
        description="Reviews the roster could not fill: the expert stays on them until reassigned",
    )
