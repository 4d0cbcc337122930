"""Objections (异议) lodged during 公示 against one base's published result, and their decisions.

They live in the program year's workflow (updates ``lodge_objection`` and ``decide_objection``,
query ``objections``): results become final only once the 公示 period has ended and every
objection is decided.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ObjectorRole = Literal["base_user", "city_officer", "province_admin", "expert", "public"]
ObjectionStatus = Literal["lodged", "upheld", "dismissed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LodgeObjection(_Model):
    base: str = Field(description="The base whose published result is objected to")
    grounds: str = Field(min_length=5, max_length=4000, description="异议理由")
    by: str = Field(description="The user's name, or 'public'")
    role: ObjectorRole
    contact: str = Field(
        "", max_length=200, description="How to reach the objector; required from the public"
    )
    received_at: datetime = Field(description="When the gateway received it (Beijing time)")
    objection_id: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Chosen by the gateway (idempotency)"
    )


class DecideObjection(_Model):
    objection_id: str
    decision: Literal["uphold", "dismiss"]
    reason: str = Field(min_length=2, max_length=4000)
    by: str


class Objection(_Model):
    objection_id: str
    base: str
    grounds: str
    by: str
    role: ObjectorRole
    contact: str = ""
    received_at: datetime
    status: ObjectionStatus = "lodged"
    decision_reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class ObjectionList(_Model):
    objections: list[Objection] = Field(default_factory=list)
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")


class ObjectionPageRequest(_Model):
    """A page of a program year's objections, asked of its workflow: those after ``after`` (an
    objection id; None from the first), ``limit`` at most, only ``base``'s when it is given, so
    the query's answer is bounded however many objections the year has."""

    after: str | None = None
    limit: int = Field(ge=1, le=1000)
    base: str | None = None


class ObjectionPage(_Model):
    """The query's answer: ``limit`` objections at most; ``more`` when others follow them;
    ``after_known`` False when ``after`` is no objection of the year (or not one of ``base``'s)."""

    objections: list[Objection] = Field(default_factory=list)
    more: bool = False
    after_known: bool = True
