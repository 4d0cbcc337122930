"""Time specifications in program rules, and the pure arithmetic on them.

A spec is one of:
- an ISO-8601 duration: ``PT20S``, ``P1M``, ``P1Y``, ``P1DT2H``, ``P2W``;
- a month-day in the program year: ``--11-30`` (the deadline is the end of that day;
  ``--02-29`` is accepted and means 02-28 in common years);
- a count of working days: ``5WD`` (weekends and public holidays skipped, make-up days counted).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_MONTH_DAY = re.compile(r"^--(?P<month>\d{2})-(?P<day>\d{2})$")
_WORKING_DAYS = re.compile(r"^(?P<count>\d+)WD$")


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    days: int = 0
    seconds: int = 0

    def is_zero(self) -> bool:
        return not (self.years or self.months or self.days or self.seconds)


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int


@dataclass(frozen=True)
class WorkingDays:
    count: int


TimeSpec = Duration | MonthDay | WorkingDays


class InvalidTimeSpec(ValueError):
    pass


def parse_duration(text: str) -> Duration:
    match = _DURATION.fullmatch(text)
    if not match:
        raise InvalidTimeSpec(f"{text!r} is not an ISO-8601 duration such as PT20S or P1M")
    g = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    return Duration(
        years=g["years"],
        months=g["months"],
        days=g["days"] + 7 * g["weeks"],
        seconds=g["hours"] * 3600 + g["minutes"] * 60 + g["seconds"],
    )


def parse_month_day(text: str) -> MonthDay:
    match = _MONTH_DAY.fullmatch(text)
    if not match:
        raise InvalidTimeSpec(f"{text!r} is not a month-day such as --11-30")
    month, day = int(match["month"]), int(match["day"])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2024, month)[1]:
        raise InvalidTimeSpec(f"{text!r} is not a valid month-day")
    return MonthDay(month, day)


def parse_timespec(text: str) -> TimeSpec:
    text = text.strip()
    if text.startswith("--"):
        return parse_month_day(text)
    if match := _WORKING_DAYS.fullmatch(text):
        count = int(match["count"])
        if count < 1:
            raise InvalidTimeSpec("a working-day count must be at least 1")
        return WorkingDays(count)
    if text.startswith("P"):
        duration = parse_duration(text)
        if duration.is_zero():
            raise InvalidTimeSpec(f"{text!r} is a zero duration")
        return duration
    raise InvalidTimeSpec(
        f"{text!r} is none of: an ISO-8601 duration (PT20S, P1M), a month-day (--11-30), "
        "or working days (5WD)"
    )


def parse_utc_offset(text: str) -> timezone:
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", text)
    if not match:
        raise InvalidTimeSpec(f"{text!r} is not a UTC offset such as +08:00")
    sign = 1 if match[1] == "+" else -1
    return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months; the day is clipped to the month's end (01-31 + P1M = 02-28)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_duration(moment: datetime, duration: Duration, tz: timezone) -> datetime:
    """Add a duration; years, months and days follow the program's local calendar."""
    local = moment.astimezone(tz)
    local = add_months(local, duration.years * 12 + duration.months)
    local = local + timedelta(days=duration.days, seconds=duration.seconds)
    return local.astimezone(moment.tzinfo or UTC)


def end_of_month_day(year: int, month_day: MonthDay, tz: timezone) -> datetime:
    """The instant a month-day deadline passes: midnight after that day, program-local."""
    day = min(month_day.day, calendar.monthrange(year, month_day.month)[1])
    return datetime(year, month_day.month, day, tzinfo=tz) + timedelta(days=1)


def start_of_month_day(year: int, month_day: MonthDay, tz: timezone) -> datetime:
    day = min(month_day.day, calendar.monthrange(year, month_day.month)[1])
    return datetime(year, month_day.month, day, tzinfo=tz)


def resolve_deadline(spec: TimeSpec, *, anchor: datetime, year: int, tz: timezone) -> datetime:
    """The absolute deadline for a duration or month-day spec, counted from ``anchor``.

    Working-day specs need the holiday calendar; resolve them with
    :func:`shared.domain.workdays.add_working_days`.

    This is the arithmetic cycles already running were started with (their recorded histories
    replay it): the end is ``anchor + duration`` exactly. New deadlines are counted as the Civil
    Code counts (from the next day, to 24:00 of the last day, off rest days) by
    :func:`shared.domain.periods.resolve_period`.
    """
    if isinstance(spec, Duration):
        return add_duration(anchor, spec, tz)
    if isinstance(spec, MonthDay):
        due = end_of_month_day(year, spec, tz)
        if due <= anchor:
            # A month-day already past in the program year falls in the following year.
            due = end_of_month_day(year + 1, spec, tz)
        return due.astimezone(anchor.tzinfo or UTC)
    raise InvalidTimeSpec("working days need the holiday calendar: use add_working_days")


def reminder_times(due: datetime, offsets: list[Duration], tz: timezone) -> list[datetime]:
    """When reminders fire before ``due``: one per offset, earliest first, duplicates merged."""
    times = {
        add_duration(due, Duration(-o.years, -o.months, -o.days, -o.seconds), tz) for o in offsets
    }
    return sorted(times)


def local_date(moment: datetime, tz: timezone) -> date:
    return moment.astimezone(tz).date()
