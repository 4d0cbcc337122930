"""The holiday table a bureau maintains: statutory holidays and make-up working days per year.

Each December the State Council's General Office publishes the next year's holiday arrangement
(国务院办公厅关于某年部分节假日安排的通知): which days are off (放假) and which weekend days are
worked instead (调休上班). The bureau keeps those notices as a versioned table, one entry per
year with the notice named as its source, and counts working days with it.

The table answers first. For a year the table lacks, the ``chinese_calendar`` package answers if
it covers that year (it raises ``NotImplementedError`` beyond its last year); otherwise nobody
knows, and :class:`WorkingDayCalendar` says so with ``None`` so that the caller can mark what it
computed as provisional rather than silently treat 元旦 or 清明 as working days.

A table applied later replaces the years it contains and keeps the years it does not mention
(:meth:`HolidayTable.merged`), so a bureau can add 2027 alone once its notice appears.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import chinese_calendar
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.domain.documents import InvalidDocument, load_mapping

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class HolidayYear(BaseModel):
    """One year of the State Council's notice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=1949, le=2200, description="公历年份 / Calendar year")
    holidays: list[date] = Field(
        default_factory=list,
        description="放假日期（含假期内的周末）/ Days off, weekends inside a holiday included",
    )
    workdays: list[date] = Field(
        default_factory=list,
        description="调休上班日期 / Make-up working days (weekend days worked instead)",
    )
    source: str = Field(
        min_length=1,
        max_length=500,
        description="来源通知 / The notice these dates come from, named so a reader can check it",
    )

    @model_validator(mode="after")
    def _consistent(self) -> HolidayYear:
        stray = sorted({d for d in [*self.holidays, *self.workdays] if d.year != self.year})
        if stray:
            raise ValueError(
                f"dates outside {self.year}: {', '.join(map(str, stray))} "
                f"（日期不在{self.year}年内）"
            )
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(
                f"both a holiday and a make-up working day: {', '.join(map(str, both))} "
                "（同一天不能既放假又上班）"
            )
        return self

    @field_validator("holidays", "workdays")
    @classmethod
    def _sorted(cls, days: list[date]) -> list[date]:
        # Sorted and without repeats, so the digest does not depend on how the file was written.
        return sorted(set(days))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


class HolidayTable(BaseModel):
    """A named holiday table (e.g. ``cn-statutory``): the years a bureau has data for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Lower-case letters, digits, '-' or '_', e.g. cn-statutory")
    name: str = Field(min_length=1, max_length=200, description="名称 / Name")
    years: dict[int, HolidayYear] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _year_from_key(cls, data: Any) -> Any:
        # In YAML the year is the key; writing it again inside each entry is optional.
        if isinstance(data, dict) and isinstance(data.get("years"), dict):
            years = {}
            for key, entry in data["years"].items():
                if isinstance(entry, dict) and "year" not in entry:
                    entry = {**entry, "year": key}
                years[key] = entry
            data = {**data, "years": years}
        return data

    @model_validator(mode="after")
    def _keys_match(self) -> HolidayTable:
        if not _ID.fullmatch(self.id):
            raise ValueError(f"id {self.id!r} must be lower-case letters, digits, '-' or '_'")
        wrong = [k for k, y in self.years.items() if k != y.year]
        if wrong:
            raise ValueError(f"years listed under another year's key: {wrong}")
        return self

    def merged(self, update: HolidayTable) -> HolidayTable:
        """``update``'s years replace ours; years it does not mention are kept."""
        years = {**self.years, **update.years}
        return HolidayTable(id=self.id, name=update.name, years=dict(sorted(years.items())))

    def changed_years(self, other: HolidayTable) -> list[int]:
        """The years whose data differ between ``self`` and ``other`` (added ones included)."""
        keys = set(self.years) | set(other.years)
        return sorted(y for y in keys if self.years.get(y) != other.years.get(y))


class HolidayTableError(InvalidDocument):
    """A holiday table that does not validate; ``errors`` names each bad field."""


def parse_holiday_table(document: Any) -> HolidayTable:
    if not isinstance(document, dict):
        raise HolidayTableError.whole("must be a mapping")
    try:
        return HolidayTable.model_validate(document)
    except ValidationError as exc:
        raise HolidayTableError.of(exc) from None


def load_holiday_table_text(text: str) -> HolidayTable:
    return parse_holiday_table(load_mapping(text, HolidayTableError))


def load_holiday_table_file(path: Path) -> HolidayTable:
    return load_holiday_table_text(path.read_text(encoding="utf-8"))


def holiday_table_document(table: HolidayTable) -> dict[str, Any]:
    """The JSON form stored and sent over the wire (year keys as strings)."""
    return table.model_dump(mode="json")


def holiday_table_digest(table: HolidayTable) -> str:
    """A stable fingerprint: applying an identical table twice creates no new version."""
    canonical = json.dumps(holiday_table_document(table), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class WorkingDayCalendar(Protocol):
    def is_working_day(self, day: date) -> bool | None:
        """Whether ``day`` is a working day; ``None`` when nobody has data for its year."""
        ...


def package_working_day(day: date) -> bool | None:
    """The ``chinese_calendar`` package's answer, or ``None`` for a year it does not cover."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class HolidayCalendar:
    """Working days from a bureau's table, then the package for the years the table lacks."""

    def __init__(self, table: HolidayTable | None = None, *, package_fallback: bool = True) -> None:
        self._years = {
            y: (frozenset(entry.holidays), frozenset(entry.workdays))
            for y, entry in (table.years.items() if table else ())
        }
        self._fallback = package_fallback

    def is_working_day(self, day: date) -> bool | None:
        known = self._years.get(day.year)
        if known is not None:
            holidays, workdays = known
            if day in workdays:
                return True
            return day not in holidays and day.weekday() < 5
        return package_working_day(day) if self._fallback else None

    def has_year(self, year: int) -> bool:
        """Whether the answers for ``year`` rest on published data (table or package)."""
        return year in self._years or (
            self._fallback and package_working_day(date(year, 1, 1)) is not None
        )
