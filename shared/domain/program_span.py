"""Multi-year programs: the years a program runs, the years it checks its targets, and the years
of its mid-term and final evaluations. Pure: no I/O, no clock.

A program with a span (「2022—2025年」) runs one program year per year from ``start_year`` to
``end_year``. Each checkpoint year measures the program-level targets against every actual
reported from the start to that year; the mid-term and final years also publish the measurement
as an evaluation. A program without a span has no checkpoints and evaluates nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EvaluationKind = Literal["mid_term", "final"]


class ProgramSpan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start_year: int = Field(ge=1900, le=2200, description="The program's first year")
    end_year: int = Field(ge=1900, le=2200, description="The program's last year")
    checkpoints: list[int] = Field(
        default_factory=list,
        description="Years the targets are measured in; left empty, every year of the span",
    )
    mid_term: int | None = Field(None, description="The mid-term evaluation's year (中期评估)")
    final: int | None = Field(None, description="The final evaluation's year; left out, end_year")

    @model_validator(mode="after")
    def _consistent(self) -> ProgramSpan:
        inside = range(self.start_year, self.end_year + 1)
        problems = [
            "start_year must not be after end_year / 起始年份不得晚于终止年份"
            if self.start_year > self.end_year
            else None,
            "checkpoints must lie within the span, each once / 检查年份须在实施期内且不重复"
            if any(y not in inside for y in self.checkpoints)
            or len(set(self.checkpoints)) != len(self.checkpoints)
            else None,
            "the mid-term year must lie within the span, before the final year"
            " / 中期评估年份须在实施期内且早于终期评估"
            if self.mid_term is not None
            and (self.mid_term not in inside or self.mid_term >= self.final_year)
            else None,
            "the final year must lie within the span / 终期评估年份须在实施期内"
            if self.final is not None and self.final not in inside
            else None,
        ]
        found = [p for p in problems if p]
        if found:
            raise ValueError("; ".join(found))
        return self

    @property
    def final_year(self) -> int:
        return self.final if self.final is not None else self.end_year

    def checkpoint_years(self) -> list[int]:
        """Every year the targets are measured in: the checkpoints, and the evaluation years."""
        listed = self.checkpoints or list(range(self.start_year, self.end_year + 1))
        evaluations = [y for y in (self.mid_term, self.final_year) if y is not None]
        return sorted({*listed, *evaluations})

    def is_checkpoint(self, year: int) -> bool:
        return year in self.checkpoint_years()

    def evaluation(self, year: int) -> EvaluationKind | None:
        """mid_term or final in those years, else None."""
        if year == self.final_year:
            return "final"
        if year == self.mid_term:
            return "mid_term"
        return None

    def years_read(self, year: int) -> list[int]:
        """The years whose actuals a checkpoint in ``year`` reads: the span's, up to ``year``."""
        return list(range(self.start_year, min(year, self.end_year) + 1))
