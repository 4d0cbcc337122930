"""Working days on the Chinese calendar: weekends and public holidays are skipped, and make-up
working days (调休) count. The holiday table comes from the maintained ``chinese_calendar``
package, never from a table of our own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import chinese_calendar


class HolidayDataUnavailable(ValueError):
    """The holiday package has no data for that year yet (it is published each December)."""


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise HolidayDataUnavailable(
            f"no Chinese holiday data for {day.year}; upgrade chinese-calendar"
        ) from exc


def add_working_days(start: datetime, count: int, tz: timezone) -> datetime:
    """The end of the ``count``-th full working day after ``start``'s local day.

    A 公示 period of 5 working days starting on a Friday afternoon runs through the following
    Friday (with no holiday in between); its deadline is midnight after that day.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    day = start.astimezone(tz).date()
    seen = 0
    while seen < count:
        day += timedelta(days=1)
        if is_working_day(day):
            seen += 1
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return end.astimezone(start.tzinfo or UTC)
