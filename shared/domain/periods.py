"""Periods counted as the Civil Code counts them (民法典 arts. 201-204), pure.

- Art. 201: a period counted in years, months or days does not count the day it starts from;
  it begins the next day. (按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。)
  A period counted in hours starts at the stated instant: a duration of hours, minutes or
  seconds (``PT20S`` in the demo programs) is an exact instant, ``anchor + duration``, never
  moved. (A spec mixing days and hours, ``P1DT2H``, has no reading in the Code; it keeps the
  meaning it always had here, an exact instant.)
- Art. 202: a period in years or months ends on the corresponding day of its last month; a
  month without that day ends it on its last day (01-31 + P1M = 02-28, 02-29 in leap years).
- Art. 203: a last day that is a statutory rest day (法定休假日) moves to the day after the
  rest ends, i.e. the first working day after it. The last day ends at 24:00.
- Art. 204: the law or the parties may agree otherwise; the program rules are that agreement
  for month-days (``--11-30``) and working-day counts (``5WD``).

法定休假日 is read as the statutory holidays *and* the weekly rest days (公休日): the Supreme
People's Court's long-standing reading of the same words in the General Principles of Civil Law
(《关于贯彻执行〈民法通则〉若干问题的意见》第198条) names both, and the procedural laws move a
deadline off either. Make-up working days (调休上班) are working days: offices are open and a
filing can be made, so a last day on one does not move.

Instants are the exclusive end of the last day: 24:00 of the last day is 00:00 of the next
program-local day, so "within one month of a notice issued 03-01" accepts a filing on 04-01
until midnight and is shown as 「2027年4月1日24时前」.

When a day needed for the count lies in a year without holiday data, weekends alone decide it
and the deadline is marked provisional, to be recomputed once the bureau applies that year.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from shared.domain.holidays import WorkingDayCalendar
from shared.domain.timespec import Duration, MonthDay, TimeSpec, WorkingDays, add_duration

# A working day is never more than this far away, even across the longest Spring Festival.
_MAX_SEARCH_DAYS = 60


@dataclass(frozen=True)
class Deadline:
    until: datetime
    """The exclusive end instant, aware, in the anchor's tzinfo."""
    last_day: date | None
    """The program-local last day counted; ``None`` for sub-day durations."""
    provisional: bool
    """It depended on a day in a year without holiday data."""
    rolled_from: date | None
    """The original last day when it fell on a rest day and moved (art. 203)."""


@dataclass(frozen=True)
class _Day:
    working: bool
    known: bool


def _working(days: WorkingDayCalendar, day: date) -> _Day:
    answer = days.is_working_day(day)
    if answer is None:
        return _Day(working=day.weekday() < 5, known=False)
    return _Day(working=answer, known=True)


def add_calendar_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day (art. 202)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_day_on_or_after(month_day: MonthDay, start: date) -> date:
    """The first ``--MM-DD`` on or after ``start``; ``--02-29`` is 02-28 in common years."""
    for year in (start.year, start.year + 1):
        last = calendar.monthrange(year, month_day.month)[1]
        candidate = date(year, month_day.month, min(month_day.day, last))
        if candidate >= start:
            return candidate
    raise AssertionError("unreachable: a month-day recurs every year")


def roll_over(last_day: date, days: WorkingDayCalendar) -> tuple[date, bool, date | None]:
    """Art. 203: ``(last working day, every day consulted was known, original day if moved)``."""
    day, known = last_day, True
    for _ in range(_MAX_SEARCH_DAYS):
        answer = _working(days, day)
        known = known and answer.known
        if answer.working:
            return day, known, (last_day if day != last_day else None)
        day += timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days of {last_day}")


def nth_working_day(after: date, count: int, days: WorkingDayCalendar) -> tuple[date, bool]:
    """The ``count``-th working day after ``after`` (make-up days count): ``(day, known)``."""
    if count < 1:
        raise ValueError("count must be at least 1")
    day, seen, known = after, 0, True
    while seen < count:
        day += timedelta(days=1)
        answer = _working(days, day)
        known = known and answer.known
        seen += answer.working
    return day, known


def end_of_day(day: date, tz: timezone, out: tzinfo | None) -> datetime:
    """24:00 of ``day`` in ``tz`` (00:00 of the next day), expressed in ``out``."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(out or UTC)


def resolve_period(
    spec: TimeSpec,
    *,
    anchor: datetime,
    year: int,
    tz: timezone,
    days: WorkingDayCalendar,
) -> Deadline:
    """When a period from ``anchor`` ends, counted as the Civil Code counts.

    ``year`` is the program year: a month-day never resolves to a day before 1 January of it
    (a year launched early still ends on its own 11-30), otherwise to the first occurrence on
    or after the anchor's local day, whatever the year.
    """
    if anchor.tzinfo is None:
        raise ValueError("anchor must be an aware datetime")
    out = anchor.tzinfo
    start = anchor.astimezone(tz).date()
    if isinstance(spec, Duration):
        if spec.seconds or not (spec.years or spec.months or spec.days):
            # Hours, minutes or seconds: an exact instant. A spec mixing days and hours
            # (P1DT2H) has no Civil Code reading; it keeps its old meaning, an exact instant.
            return Deadline(
                until=add_duration(anchor, spec, tz),
                last_day=None,
                provisional=False,
                rolled_from=None,
            )
        last = add_calendar_months(start, spec.years * 12 + spec.months) + timedelta(spec.days)
        return _rolled(last, tz, out, days)
    if isinstance(spec, MonthDay):
        last = month_day_on_or_after(spec, max(start, date(year, 1, 1)))
        return _rolled(last, tz, out, days)
    if isinstance(spec, WorkingDays):
        last, known = nth_working_day(start, spec.count, days)
        return Deadline(
            until=end_of_day(last, tz, out),
            last_day=last,
            provisional=not known,
            rolled_from=None,
        )
    raise TypeError(f"not a time spec: {spec!r}")


def _rolled(last: date, tz: timezone, out: tzinfo | None, days: WorkingDayCalendar) -> Deadline:
    moved, known, rolled_from = roll_over(last, days)
    return Deadline(
        until=end_of_day(moved, tz, out),
        last_day=moved,
        provisional=not known,
        rolled_from=rolled_from,
    )
