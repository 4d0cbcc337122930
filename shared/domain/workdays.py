"""Working days on the Chinese calendar: weekends and public holidays are skipped, and make-up
working days (调休) count. The holiday table comes from the maintained ``chinese_calendar``
package, never from a table of our own.

The package covers each year once the State Council publishes its holidays (each December). For
a later year, counting falls back to weekends only and says so, rather than stopping a cycle.
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
