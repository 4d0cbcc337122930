"""Program-level target reports in a program year: the province's report of the year's actuals,
what the year records of it, and the activities that store and read the reports."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.contracts.strict import StrictModel
from shared.domain.target_reports import TargetLine


class ReportTargetActuals(StrictModel):
    """The ``report_target_actuals`` update: the year's actuals by target key (replacing an
    earlier report of the year; the same actuals again change nothing)."""

    actuals: dict[str, Any]
    by: str = ""


class TargetProgressView(StrictModel):
    """The year's reported actuals and the progress of the program-level targets."""

    year: int
    revision: int = Field(0, description="Reports received this year (0: none yet)")
    actuals: dict[str, Any] = Field(default_factory=dict)
    years_read: list[int] = Field(default_factory=list)
    evaluation: str | None = Field(None, description="mid_term | final, once evaluated")
    targets: list[TargetLine] = Field(default_factory=list)


class StoreTargetActuals(StrictModel):
    """Store the year's actuals and read the earlier years' (``earlier``) back."""

    program: str
    year: int
    actuals: dict[str, Any]
    earlier: list[int] = Field(default_factory=list)


class ReadTargetActuals(StrictModel):
    program: str
    years: list[int]


class ActualsByYear(StrictModel):
    """year -> the actuals reported for it; a year without a report is absent."""

    years: dict[int, dict[str, Any]] = Field(default_factory=dict)
