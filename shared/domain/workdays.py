"""Working days on the Chinese calendar from the ``chinese_calendar`` package alone: weekends and
public holidays are skipped, and make-up working days (调休) count.

Kept for the deadlines already computed this way (recorded workflow histories call it through
the ``add_working_days`` activity). New counting goes through
:func:`shared.domain.periods.resolve_period` with a :class:`shared.domain.holidays.HolidayCalendar`
built from the holiday table the bureau maintains, which answers before the package and marks a
count into a year nobody has data for as provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

import chinese_calendar


@dataclass(frozen=True)
class WorkingDayEnd:
    until: datetime
    holidays_known: bool


def working_day(day: date) -> tuple[bool, bool]:
    """``(is a working day, whether the holiday table knew that year)``."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_working_days(start: datetime, count: int, tz: timezone) -> WorkingDayEnd:
    """The end of the ``count``-th full working day after ``start``'s local day.

    A 公示 of 5 working days published on a Tuesday runs through the next Tuesday when no
    holiday intervenes; its deadline is midnight after that day.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    day = start.astimezone(tz).date()
    seen, known = 0, True
    while seen < count:
        day += timedelta(days=1)
        works, day_known = working_day(day)
        known = known and day_known
        seen += works
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return WorkingDayEnd(until=end.astimezone(start.tzinfo or UTC), holidays_known=known)
