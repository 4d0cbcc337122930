"""Civil Code counting (arts. 201-204): unit and property tests."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.holidays import HolidayCalendar, load_holiday_table_file
from shared.domain.periods import Deadline, resolve_period
from shared.domain.timespec import Duration, MonthDay, TimeSpec, WorkingDays, parse_timespec
from shared.settings import DEPLOY_DIR

CST = timezone(timedelta(hours=8))
TABLE = load_holiday_table_file(DEPLOY_DIR / "calendars" / "cn-statutory.yaml")
# The shipped table alone: 2024-2026 known, every other year without data.
SHIPPED = HolidayCalendar(TABLE, package_fallback=False)


class EveryDayWorks:
    def is_working_day(self, day: date) -> bool | None:
        return True


class WeekendsOnly:
    def is_working_day(self, day: date) -> bool | None:
        return day.weekday() < 5


def resolve(spec: str | TimeSpec, anchor: datetime, days: object = SHIPPED) -> Deadline:
    parsed = parse_timespec(spec) if isinstance(spec, str) else spec
    return resolve_period(
        parsed,
        anchor=anchor,
        year=anchor.astimezone(CST).year,
        tz=CST,
        days=days,  # type: ignore[arg-type]
    )


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CST)


# --- the examples the law and the issue name ---------------------------------------------------


def test_a_month_from_a_notice_on_03_01_ends_at_24_00_on_04_01() -> None:
    deadline = resolve("P1M", at(2026, 3, 1))
    assert deadline.last_day == date(2026, 4, 1)
    assert deadline.until == datetime(2026, 4, 2, tzinfo=CST)
    assert not deadline.provisional and deadline.rolled_from is None


def test_a_month_in_2027_ends_on_04_01_and_is_provisional_without_2027_data() -> None:
    deadline = resolve("P1M", at(2027, 3, 1))
    assert deadline.last_day == date(2027, 4, 1)
    assert deadline.until == datetime(2027, 4, 2, tzinfo=CST)
    assert deadline.provisional


def test_the_notice_day_is_not_counted_even_late_at_night() -> None:
    assert resolve("P1D", at(2026, 3, 2, 23)).last_day == date(2026, 3, 3)
    assert resolve("P1D", datetime(2026, 3, 2, 15, 59, tzinfo=UTC)).last_day == date(2026, 3, 3)
    # 16:00 UTC is already 00:00 on 03-03 in Beijing: the next local day is the one not counted.
    assert resolve("P1D", datetime(2026, 3, 2, 16, 0, tzinfo=UTC)).last_day == date(2026, 3, 4)


def test_one_day_from_03_01_is_03_02() -> None:
    assert resolve("P1D", at(2027, 3, 1), EveryDayWorks()).last_day == date(2027, 3, 2)


@pytest.mark.parametrize(
    ("anchor", "spec", "last"),
    [
        (date(2027, 1, 31), "P1M", date(2027, 2, 28)),
        (date(2028, 1, 31), "P1M", date(2028, 2, 29)),
        (date(2024, 2, 29), "P1Y", date(2025, 2, 28)),
        (date(2024, 2, 29), "P4Y", date(2028, 2, 29)),
        (date(2027, 8, 31), "P3M", date(2027, 11, 30)),
        (date(2027, 11, 30), "P3M", date(2028, 2, 29)),
        (date(2027, 3, 1), "P2W", date(2027, 3, 15)),
        (date(2027, 3, 1), "P1M15D", date(2027, 4, 16)),
    ],
)
def test_month_ends_and_leap_years(anchor: date, spec: str, last: date) -> None:
    start = datetime.combine(anchor, datetime.min.time(), tzinfo=CST)
    assert resolve(spec, start, EveryDayWorks()).last_day == last


def test_sub_day_durations_are_exact_instants() -> None:
    anchor = datetime(2026, 10, 1, 3, 4, 5, 600, tzinfo=UTC)
    deadline = resolve("PT20S", anchor)
    assert deadline == Deadline(
        until=anchor + timedelta(seconds=20), last_day=None, provisional=False, rolled_from=None
    )
    assert deadline.until.tzinfo is UTC


def test_until_keeps_the_anchors_tzinfo() -> None:
    deadline = resolve("P1M", datetime(2026, 3, 1, 2, tzinfo=UTC))
    assert deadline.until.tzinfo is UTC
    assert deadline.until == datetime(2026, 4, 1, 16, tzinfo=UTC)  # 04-02 00:00 in Beijing


def test_a_naive_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        resolve_period(
            Duration(days=1), anchor=datetime(2026, 1, 1), year=2026, tz=CST, days=SHIPPED
        )


# --- roll-over (art. 203) ----------------------------------------------------------------------


def test_a_last_day_in_the_national_day_week_moves_to_10_08() -> None:
    deadline = resolve("P1M", at(2026, 9, 1))  # last day 10-01
    assert deadline.rolled_from == date(2026, 10, 1)
    assert deadline.last_day == date(2026, 10, 8)
    assert deadline.until == datetime(2026, 10, 9, tzinfo=CST)
    assert not deadline.provisional


def test_a_last_day_on_the_10_10_make_up_day_does_not_move() -> None:
    deadline = resolve("P1M", at(2026, 9, 10))  # Saturday 10-10, worked (调休)
    assert deadline.last_day == date(2026, 10, 10) and deadline.rolled_from is None


def test_a_last_day_on_a_plain_sunday_moves_to_monday() -> None:
    weekday = resolve("P1M", at(2026, 10, 11))  # 11-11 is a Wednesday
    assert weekday.rolled_from is None and weekday.last_day == date(2026, 11, 11)
    sunday = resolve("P1M", at(2026, 10, 15))  # 11-15 is a Sunday
    assert sunday.rolled_from == date(2026, 11, 15)
    assert sunday.last_day == date(2026, 11, 16)


def test_a_month_day_on_a_holiday_moves_too() -> None:
    deadline = resolve("--10-01", at(2026, 3, 1))
    assert (deadline.rolled_from, deadline.last_day) == (date(2026, 10, 1), date(2026, 10, 8))


def test_a_roll_over_into_a_year_without_data_is_provisional() -> None:
    deadline = resolve("P1M", at(2026, 12, 3))  # last day 2027-01-03, a Sunday, no 2027 data
    assert deadline.rolled_from == date(2027, 1, 3)
    assert deadline.last_day == date(2027, 1, 4)
    assert deadline.provisional


def test_applying_the_2027_year_makes_the_same_deadline_definite() -> None:
    from shared.domain.holidays import HolidayTable, HolidayYear

    year = HolidayYear(
        year=2027,
        holidays=[date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)],
        workdays=[],
        source="test",
    )
    days = HolidayCalendar(TABLE.merged(HolidayTable(id=TABLE.id, name="t", years={2027: year})))
    deadline = resolve("P1M", at(2026, 12, 1), days)  # last day 2027-01-01, 元旦
    assert deadline.rolled_from == date(2027, 1, 1)
    assert deadline.last_day == date(2027, 1, 4)
    assert not deadline.provisional


# --- month-days --------------------------------------------------------------------------------


def test_a_month_day_already_past_is_next_years() -> None:
    deadline = resolve("--03-31", at(2027, 4, 5), EveryDayWorks())
    assert deadline.last_day == date(2028, 3, 31)


def test_a_month_day_on_the_anchor_day_is_that_day() -> None:
    assert resolve("--11-30", at(2026, 11, 30), EveryDayWorks()).last_day == date(2026, 11, 30)


def test_a_month_day_across_the_year_end() -> None:
    assert resolve("--01-15", at(2026, 12, 20), EveryDayWorks()).last_day == date(2027, 1, 15)


@pytest.mark.parametrize(("year", "last"), [(2027, date(2027, 2, 28)), (2028, date(2028, 2, 29))])
def test_february_29_in_any_year(year: int, last: date) -> None:
    assert parse_timespec("--02-29") == MonthDay(2, 29)
    assert resolve("--02-29", at(year, 1, 10), EveryDayWorks()).last_day == last


def test_a_month_day_never_falls_before_its_program_year() -> None:
    # A 2027 year launched on 2026-12-20: its --12-31 is 2027's, not the launch year's.
    deadline = resolve_period(
        MonthDay(12, 31), anchor=at(2026, 12, 20), year=2027, tz=CST, days=EveryDayWorks()
    )
    assert deadline.last_day == date(2027, 12, 31)


# --- working days ------------------------------------------------------------------------------


def test_five_working_days_across_national_day_count_the_make_up_saturday() -> None:
    deadline = resolve("5WD", at(2026, 9, 28))  # Mon: 09-29, 09-30, 10-08, 10-09, 10-10
    assert deadline.last_day == date(2026, 10, 10)
    assert deadline.until == datetime(2026, 10, 11, tzinfo=CST)
    assert not deadline.provisional and deadline.rolled_from is None


def test_working_days_into_a_year_without_data_are_provisional() -> None:
    deadline = resolve("5WD", at(2026, 12, 28))  # Mon; 12-29, 12-30, 12-31, then 2027
    assert deadline.provisional
    assert deadline.last_day == date(2027, 1, 4)  # weekends only: Fri 01-01 counted as working


def test_working_days_within_a_known_year_are_definite() -> None:
    assert not resolve("5WD", at(2026, 12, 1)).provisional


# --- properties --------------------------------------------------------------------------------

anchors = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
day_durations = st.builds(
    Duration,
    years=st.integers(0, 2),
    months=st.integers(0, 24),
    days=st.integers(0, 400),
).filter(lambda d: not d.is_zero())
calendars = st.sampled_from([SHIPPED, HolidayCalendar(TABLE), WeekendsOnly(), EveryDayWorks()])


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _working(days: object, day: date) -> bool:
    answer = days.is_working_day(day)  # type: ignore[attr-defined]
    return day.weekday() < 5 if answer is None else answer


def _known(days: object, day: date) -> bool:
    return days.is_working_day(day) is not None  # type: ignore[attr-defined]


@given(anchors, day_durations, calendars)
def test_day_counted_periods_start_the_next_day_and_end_at_24_00(
    anchor: datetime, spec: Duration, days: object
) -> None:
    deadline = resolve(spec, anchor, days)
    start = anchor.astimezone(CST).date()
    assert deadline.last_day is not None and deadline.last_day > start
    assert deadline.until == datetime.combine(
        deadline.last_day + timedelta(days=1), datetime.min.time(), tzinfo=CST
    )
    assert deadline.until.tzinfo is anchor.tzinfo


@given(anchors, day_durations)
def test_the_last_day_is_the_corresponding_day_or_the_months_end(
    anchor: datetime, spec: Duration
) -> None:
    start = anchor.astimezone(CST).date()
    last = resolve(spec, anchor, EveryDayWorks()).last_day
    assert last is not None
    months_only = last - timedelta(days=spec.days)
    assert (months_only.year - start.year) * 12 + months_only.month - start.month == (
        spec.years * 12 + spec.months
    )
    month_end = calendar.monthrange(months_only.year, months_only.month)[1]
    assert months_only.day == min(start.day, month_end)


@given(
    anchors,
    st.one_of(day_durations, st.builds(MonthDay, st.integers(1, 12), st.integers(1, 29))),
    calendars,
)
def test_roll_over_lands_on_the_first_working_day_after_rest_days(
    anchor: datetime, spec: TimeSpec, days: object
) -> None:
    deadline = resolve(spec, anchor, days)
    original = resolve(spec, anchor, EveryDayWorks()).last_day
    assert deadline.last_day is not None and original is not None
    assert deadline.rolled_from == (original if deadline.last_day != original else None)
    assert _working(days, deadline.last_day)
    assert not any(_working(days, d) for d in _days(original, deadline.last_day)[:-1])
    consulted = _days(original, deadline.last_day)
    assert deadline.provisional == (not all(_known(days, d) for d in consulted))


@given(anchors, st.integers(1, 12), st.integers(1, 29))
def test_month_days_are_the_next_occurrence_on_or_after_the_anchor(
    anchor: datetime, month: int, day: int
) -> None:
    last = resolve(MonthDay(month, day), anchor, EveryDayWorks()).last_day
    start = anchor.astimezone(CST).date()
    assert last is not None and start <= last < start + timedelta(days=366)
    expected_day = min(day, calendar.monthrange(last.year, month)[1])
    assert (last.month, last.day) == (month, expected_day)


@given(anchors, st.integers(1, 30), calendars)
def test_working_days_count_exactly(anchor: datetime, count: int, days: object) -> None:
    deadline = resolve(WorkingDays(count), anchor, days)
    start = anchor.astimezone(CST).date()
    assert deadline.last_day is not None and deadline.rolled_from is None
    counted = _days(start + timedelta(days=1), deadline.last_day)
    assert sum(_working(days, d) for d in counted) == count
    assert _working(days, deadline.last_day)
    assert deadline.provisional == (not all(_known(days, d) for d in counted))


@given(anchors, st.integers(1, 86_400 * 3))
def test_sub_day_durations_never_move(anchor: datetime, seconds: int) -> None:
    deadline = resolve(Duration(seconds=seconds), anchor)
    assert deadline.until == anchor + timedelta(seconds=seconds)
    assert deadline.last_day is None and not deadline.provisional
