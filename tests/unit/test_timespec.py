"""Time rules: durations, month-days, working days and reminders (unit and property tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.timespec import (
    Duration,
    InvalidTimeSpec,
    MonthDay,
    WorkingDays,
    add_duration,
    add_months,
    parse_timespec,
    reminder_times,
    resolve_deadline,
)
from shared.domain.workdays import add_working_days, working_day

CST = timezone(timedelta(hours=8))
moments = st.datetimes(
    min_value=datetime(2004, 1, 1), max_value=datetime(2026, 6, 30), timezones=st.just(UTC)
)
durations = st.builds(
    Duration,
    years=st.integers(0, 2),
    months=st.integers(0, 24),
    days=st.integers(0, 400),
    seconds=st.integers(0, 86_400 * 3),
).filter(lambda d: not d.is_zero())


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("PT20S", Duration(seconds=20)),
        ("P1M", Duration(months=1)),
        ("P1Y", Duration(years=1)),
        ("P1DT2H", Duration(days=1, seconds=7200)),
        ("P2W", Duration(days=14)),
        ("--11-30", MonthDay(11, 30)),
        ("--02-29", MonthDay(2, 29)),
        ("5WD", WorkingDays(5)),
    ],
)
def test_parse(text: str, spec: object) -> None:
    assert parse_timespec(text) == spec


@pytest.mark.parametrize(
    "bad", ["", "P", "PT", "1M", "P1H", "--13-01", "--02-30", "0WD", "P0D", "soon"]
)
def test_bad_specs_are_refused_with_the_reason(bad: str) -> None:
    with pytest.raises(InvalidTimeSpec):
        parse_timespec(bad)


def test_months_clip_to_month_end() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 15, tzinfo=UTC), 3) == datetime(2027, 2, 15, tzinfo=UTC)


def test_month_day_deadline_is_the_end_of_that_local_day() -> None:
    launch = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    due = resolve_deadline(MonthDay(11, 30), anchor=launch, year=2026, tz=CST)
    assert due == datetime(2026, 12, 1, 0, 0, tzinfo=CST)


def test_month_day_already_past_falls_in_the_next_year() -> None:
    launch = datetime(2026, 12, 5, tzinfo=UTC)
    due = resolve_deadline(MonthDay(11, 30), anchor=launch, year=2026, tz=CST)
    assert due == datetime(2027, 12, 1, 0, 0, tzinfo=CST)


def test_one_month_plan_window_follows_the_local_calendar() -> None:
    launch = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)  # 03-01 01:00 in Beijing
    due = resolve_deadline(Duration(months=1), anchor=launch, year=2026, tz=CST)
    assert due.astimezone(CST) == datetime(2026, 4, 1, 1, 0, tzinfo=CST)


def test_reminders_fire_at_offsets_before_the_deadline() -> None:
    due = datetime(2026, 4, 1, tzinfo=CST)
    times = reminder_times(due, [Duration(days=1), Duration(days=7), Duration(days=1)], CST)
    assert times == [datetime(2026, 3, 25, tzinfo=CST), datetime(2026, 3, 31, tzinfo=CST)]


def test_publication_across_national_day_counts_make_up_days() -> None:
    # Published Tue 2026-09-29: 09-30 is day 1; 10-01..10-07 are holidays; 10-08 Thu, 10-09 Fri,
    # Sat 10-10 is a make-up working day (调休), and Mon 10-12 is day 5.
    start = datetime(2026, 9, 29, 10, 0, tzinfo=CST)
    end = add_working_days(start, 5, CST)
    assert end.holidays_known
    assert end.until == datetime(2026, 10, 13, 0, 0, tzinfo=CST)


def test_working_days_without_holiday_data_fall_back_to_weekends_and_say_so() -> None:
    end = add_working_days(datetime(2030, 1, 7, 9, tzinfo=CST), 5, CST)  # a Monday
    assert not end.holidays_known
    assert end.until == datetime(2030, 1, 15, 0, 0, tzinfo=CST)


@given(moments, durations)
def test_adding_a_duration_moves_forward(moment: datetime, duration: Duration) -> None:
    assert add_duration(moment, duration, CST) > moment


@given(moments, durations, durations)
def test_adding_durations_is_monotonic_in_the_duration(
    moment: datetime, a: Duration, b: Duration
) -> None:
    bigger = Duration(
        a.years + b.years, a.months + b.months, a.days + b.days, a.seconds + b.seconds
    )
    assert add_duration(moment, bigger, CST) >= add_duration(moment, a, CST)


@given(moments, st.integers(1, 12), st.integers(1, 28))
def test_month_day_deadlines_lie_after_the_anchor(moment: datetime, month: int, day: int) -> None:
    due = resolve_deadline(MonthDay(month, day), anchor=moment, year=moment.year, tz=CST)
    assert due > moment
    local = (due - timedelta(seconds=1)).astimezone(CST)
    assert (local.month, local.day) == (month, day)


@given(moments, st.lists(durations, min_size=1, max_size=4))
def test_reminders_are_sorted_and_before_the_deadline(
    moment: datetime, offsets: list[Duration]
) -> None:
    times = reminder_times(moment, offsets, CST)
    assert times == sorted(set(times))
    assert all(t < moment for t in times)


@given(moments, st.integers(1, 30))
def test_working_days_count_exactly(moment: datetime, count: int) -> None:
    end = add_working_days(moment, count, CST)
    first = moment.astimezone(CST).date() + timedelta(days=1)
    last = (end.until - timedelta(seconds=1)).astimezone(CST).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert sum(working_day(d)[0] for d in days) == count
    assert working_day(last)[0]


def test_national_day_is_not_a_working_day() -> None:
    assert working_day(date(2026, 10, 1)) == (False, True)
    assert working_day(date(2026, 10, 10)) == (True, True)
