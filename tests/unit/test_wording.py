"""Dates and periods in words: Beijing time, the last day of a day-counted deadline, no ISO."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.timespec import InvalidTimeSpec
from shared.domain.wording import (
    BEIJING,
    PROVISIONAL_EN,
    PROVISIONAL_ZH,
    date_en,
    date_zh,
    deadline_en,
    deadline_zh,
    moment_en,
    moment_zh,
    period_en,
    period_zh,
    zone,
)

ISO = re.compile(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}|[+-]\d{2}:\d{2}$|P\d|\dWD")


def test_day_counted_deadline_is_its_last_day_at_24() -> None:
    # The instant after 1 April 2027, Beijing: a reader must see "by 1 April", not 2 April.
    until = datetime(2027, 4, 2, tzinfo=BEIJING)
    assert deadline_zh(until) == "2027年4月1日24时前"
    assert deadline_en(until) == "by end of 1 April 2027"


def test_explicit_last_day_wins() -> None:
    until = datetime(2027, 4, 1, 16, tzinfo=UTC)  # 24:00 Beijing on 1 April
    assert deadline_zh(until, date(2027, 4, 1)) == "2027年4月1日24时前"
    assert deadline_en(None, date(2027, 4, 1)) == "by end of 1 April 2027"


def test_sub_day_deadline_is_stated_to_the_minute_in_beijing_time() -> None:
    until = datetime(2026, 11, 30, 6, 20, tzinfo=UTC)
    assert deadline_zh(until) == "2026年11月30日14时20分前"
    assert deadline_en(until) == "by 14:20 on 30 November 2026 (Beijing time)"


def test_seconds_are_shown_only_when_present() -> None:
    until = datetime(2026, 11, 30, 6, 20, 5, 555832, tzinfo=UTC)
    assert deadline_zh(until) == "2026年11月30日14时20分5秒前"
    assert deadline_en(until) == "by 14:20:05 on 30 November 2026 (Beijing time)"
    assert moment_zh(datetime(2026, 1, 1, 1, tzinfo=UTC)) == "2026年1月1日9时"


def test_provisional_marker() -> None:
    until = datetime(2027, 1, 8, tzinfo=BEIJING)
    assert deadline_zh(until, provisional=True) == "2027年1月7日24时前" + PROVISIONAL_ZH
    assert deadline_en(until, provisional=True).endswith(PROVISIONAL_EN)


def test_dates_follow_the_program_zone() -> None:
    late_utc = datetime(2026, 12, 31, 20, tzinfo=UTC)  # already 1 January in Beijing
    assert date_zh(late_utc) == "2027年1月1日"
    assert date_en(late_utc) == "1 January 2027"
    assert date_zh(late_utc, zone("+00:00")) == "2026年12月31日"
    assert "UTC+07:00" in moment_en(late_utc, timezone(timedelta(hours=7)))
    assert zone(None) is BEIJING


@pytest.mark.parametrize(
    ("spec", "zh", "en"),
    [
        ("P1M", "1个月", "1 month"),
        ("P2M", "2个月", "2 months"),
        ("5WD", "5个工作日", "5 working days"),
        ("1WD", "1个工作日", "1 working day"),
        ("P15D", "15日", "15 days"),
        ("P1D", "1日", "1 day"),
        ("PT20S", "20秒", "20 seconds"),
        ("P1Y", "1年", "1 year"),
        ("P1DT2H", "1日2小时", "1 day 2 hours"),
        ("--11-30", "每年11月30日", "30 November each year"),
        ("--02-29", "每年2月29日", "29 February each year"),
    ],
)
def test_periods_in_words(spec: str, zh: str, en: str) -> None:
    assert period_zh(spec) == zh
    assert period_en(spec) == en


@pytest.mark.parametrize(
    "spec", ["", "P", "PT", "P0D", "five days", "--13-01", "--1", "0WD", "0WD1"]
)
def test_bad_periods_are_refused(spec: str) -> None:
    with pytest.raises(InvalidTimeSpec):
        period_zh(spec)


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(instants, st.booleans())
def test_no_output_contains_an_iso_timestamp(instant: datetime, provisional: bool) -> None:
    texts = [
        deadline_zh(instant, provisional=provisional),
        deadline_en(instant, provisional=provisional),
        moment_zh(instant),
        moment_en(instant),
        date_zh(instant),
        date_en(instant),
    ]
    for text in texts:
        assert not ISO.search(text), text


@given(st.integers(1, 400), st.sampled_from(["D", "M", "Y", "WD", "TS", "TH"]))
def test_no_period_contains_its_spec(n: int, unit: str) -> None:
    spec = (
        f"{n}WD" if unit == "WD" else (f"PT{n}{unit[1]}" if unit.startswith("T") else f"P{n}{unit}")
    )
    for text in (period_zh(spec), period_en(spec)):
        assert not ISO.search(text), text
        assert str(n) in text
