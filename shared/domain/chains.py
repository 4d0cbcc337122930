"""Verification chains of a participant kind: who passes a participant's yearly plan, in order.

A step is taken at a region level (``city``, ``province`` or ``national``), going up. A step
either verifies each plan on its own (``verify``: 核实) or aggregates (``aggregate``: 汇总报送):
the level collects its units' plans and forwards them, as one filing of its own, to the next step
by ``forward_by`` (a calendar spec: a month-day such as ``--05-08`` or a duration from launch).
Seed 002's provinces do this: 「汇总后于5月8日前报送我局」. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.domain.holidays import WorkingDayCalendar
from shared.domain.periods import Deadline, resolve_period
from shared.domain.regions import RegionLevel, is_within, level_rank, region_at, region_level
from shared.domain.timespec import parse_timespec

ChainLevel = Literal["city", "province", "national"]
StepKind = Literal["verify", "aggregate"]
STEP_KINDS: dict[str, tuple[str, str]] = {
    "verify": ("逐一核实各单位计划", "verifies each unit's plan on its own"),
    "aggregate": (
        "汇总本级各单位计划，按期作为本级一份报送上报",
        "collects its units' plans and forwards them by a date as one filing of its own",
    ),
}


class ChainStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: ChainLevel
    kind: StepKind = "verify"
    forward_by: str | None = Field(
        None,
        description=(
            "aggregate: when the collected plans are forwarded to the next step, a month-day"
            " (--05-08) or a duration from launch (P2M)"
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """``city`` is short for ``{level: city}`` (a verify step), as chains were written."""
        return {"level": data} if isinstance(data, str) else data

    @field_validator("forward_by")
    @classmethod
    def _spec(cls, value: str | None) -> str | None:
        if value is not None:
            parse_timespec(value)
        return value

    @model_validator(mode="after")
    def _forward_by(self) -> ChainStep:
        if self.kind == "aggregate" and self.forward_by is None:
            raise ValueError(
                f"the {self.level} aggregation step needs forward_by, the date it forwards the"
                f" plans by / {_ZH[self.level]}汇总报送步骤须写明报送期限（forward_by）"
            )
        if self.kind == "verify" and self.forward_by is not None:
            raise ValueError(
                f"only an aggregation step has forward_by, not the {self.level} verify step"
                f" / 只有汇总报送步骤有报送期限，{_ZH[self.level]}核实步骤没有"
            )
        return self


_ZH: dict[str, str] = {"city": "市级", "province": "省级", "national": "国家级"}


def chain_problems(chain: list[ChainStep], program_region: str) -> list[str]:
    """Everything wrong with a chain under a program issued at ``program_region``, each in
    English and Chinese; an empty list means the chain is sound."""
    levels = [s.level for s in chain]
    problems = []
    if any(levels.count(level) > 1 for level in levels):
        problems.append("a level may take one step of the chain / 同一层级在核实顺序中只能出现一次")
    elif levels != sorted(levels, key=_rank):
        problems.append(
            f"the chain must go up, city before province before national, not {' → '.join(levels)}"
            f" / 核实顺序须自下而上（市级、省级、国家级），现为{'→'.join(_ZH[x] for x in levels)}"
        )
    if chain and chain[-1].kind == "aggregate":
        problems.append(
            f"the {chain[-1].level} aggregation step is last, so nobody receives what it forwards"
            f" / {_ZH[chain[-1].level]}汇总报送步骤之后须有接收的上级步骤"
        )
    issuer = region_level(program_region)
    above = [x for x in levels if _rank(x) > level_rank(issuer)]
    if above:
        problems.append(
            f"the program is issued at {program_region} ({issuer}), so it has no"
            f" {', '.join(above)} step / 本项目由{program_region}发布，核实顺序不能有"
            f"{'、'.join(_ZH[x] for x in above)}步骤"
        )
    return problems


def _rank(level: ChainLevel) -> int:
    as_region: RegionLevel = level
    return level_rank(as_region)


def aggregation(chain: list[ChainStep]) -> ChainStep | None:
    """The chain's aggregation step, if it has one (at most the first)."""
    return next((s for s in chain if s.kind == "aggregate"), None)


@dataclass(frozen=True)
class Forwarding:
    """What one region's aggregation step forwards, as one filing of its own: its units' plans."""

    region: str
    units: tuple[str, ...]


def forwardings(step: ChainStep, units: Mapping[str, str]) -> list[Forwarding]:
    """The filings an aggregation ``step`` makes: each region at the step's level with the units
    (id -> region code) lying in it, regions and units in code order."""
    if step.kind != "aggregate":
        raise ValueError(f"the {step.level} step verifies each plan; it forwards nothing")
    grouped: dict[str, list[str]] = {}
    for unit, region in units.items():
        collector = region_at(region, step.level)
        if collector is not None:
            grouped.setdefault(collector, []).append(unit)
    return [Forwarding(r, tuple(sorted(grouped[r]))) for r in sorted(grouped)]


def forward_by(
    step: ChainStep, *, launched_at: datetime, year: int, tz: timezone, days: WorkingDayCalendar
) -> Deadline:
    """When an aggregation step's filing is due: its ``forward_by`` from the year's launch,
    counted as every other period of the program (a month-day in the program year, a holiday
    moving the last day on)."""
    if step.forward_by is None:
        raise ValueError(f"the {step.level} step has no forward_by")
    return resolve_period(
        parse_timespec(step.forward_by), anchor=launched_at, year=year, tz=tz, days=days
    )


def forwarding_levels(chains: list[list[ChainStep]]) -> set[ChainLevel]:
    """The levels at which the program's chains (one a kind) have an aggregation step."""
    steps = (aggregation(chain) for chain in chains)
    return {s.level for s in steps if s is not None}


def forwarding_region_problem(
    region: str, levels: set[ChainLevel], program_region: str
) -> str | None:
    """Why ``region`` may not forward plans in a program issued at ``program_region`` whose
    chains aggregate at ``levels`` (English and Chinese), or None when it may: it is a region
    at one of those levels, inside the program's region."""
    try:
        level = region_level(region)
    except ValueError:
        return f"{region!r} is not a six-digit region code / {region}不是六位行政区划代码"
    if level not in levels:
        wanted = sorted(levels, key=_rank)
        return (
            f"{region} is a {level} region; the program's plans are forwarded at"
            f" {', '.join(wanted) or 'no level'} / {region}不是本项目汇总报送的层级"
            f"（{'、'.join(_ZH[x] for x in wanted) or '无汇总报送步骤'}）"
        )
    if not is_within(region, program_region):
        return (
            f"{region} lies outside the program's region {program_region}"
            f" / {region}不在本项目范围（{program_region}）内"
        )
    return None
