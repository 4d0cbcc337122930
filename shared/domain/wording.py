"""Dates and periods in the words people read, Chinese first and English beside it. Pure.

A deadline counted in days ends at 24:00 of its last day (Civil Code art. 203), so it is stated
as that day: 「2027年4月1日24时前」 / "by end of 1 April 2027", never as the instant after it
(``2027-04-02T00:00+08:00``, which every reader takes to mean "by 2 April"). A deadline inside
a day (a short test period) is stated to the minute, or the second when it has one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from shared.domain.timespec import InvalidTimeSpec, parse_utc_offset

BEIJING = timezone(timedelta(hours=8))
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
PROVISIONAL_ZH = "（暂定，待节假日安排公布后确定）"
PROVISIONAL_EN = "(provisional until the holiday schedule is published)"

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS_ZH = {
    "years": "年",
    "months": "个月",
    "weeks": "周",
    "days": "日",
    "hours": "小时",
    "minutes": "分钟",
    "seconds": "秒",
}
_UNITS_EN = {
    "years": "year",
    "months": "month",
    "weeks": "week",
    "days": "day",
    "hours": "hour",
    "minutes": "minute",
    "seconds": "second",
}


def zone(utc_offset: str | timezone | None) -> timezone:
    """The program's zone from its rules' ``utc_offset``; Beijing time when none is given."""
    if utc_offset is None:
        return BEIJING
    if isinstance(utc_offset, timezone):
        return utc_offset
    return parse_utc_offset(utc_offset)


def _zone_en(tz: timezone) -> str:
    if tz.utcoffset(None) == timedelta(hours=8):
        return "Beijing time"
    text = str(tz)  # "UTC+07:00"
    return text if text != "UTC" else "UTC"


def _day(value: date | datetime, tz: timezone) -> date:
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def date_zh(value: date | datetime, tz: timezone = BEIJING) -> str:
    d = _day(value, tz)
    return f"{d.year}年{d.month}月{d.day}日"


def date_en(value: date | datetime, tz: timezone = BEIJING) -> str:
    d = _day(value, tz)
    return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"


def _clock_zh(t: time) -> str:
    text = f"{t.hour}时"
    if t.minute or t.second:
        text += f"{t.minute}分"
    if t.second:
        text += f"{t.second}秒"
    return text


def _clock_en(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}" + (f":{t.second:02d}" if t.second else "")


def moment_zh(instant: datetime, tz: timezone = BEIJING) -> str:
    """An instant: 「2027年4月1日14时20分」."""
    local = instant.astimezone(tz)
    return date_zh(local.date()) + _clock_zh(local.time())


def moment_en(instant: datetime, tz: timezone = BEIJING) -> str:
    """An instant: "14:20 on 1 April 2027 (Beijing time)"."""
    local = instant.astimezone(tz)
    return f"{_clock_en(local.time())} on {date_en(local.date())} ({_zone_en(tz)})"


def _last_day(until: datetime | None, last_day: date | None, tz: timezone) -> date | None:
    """The day a deadline ends at 24:00 of, or None when it ends inside a day."""
    if last_day is not None:
        return last_day
    if until is None:
        return None
    local = until.astimezone(tz)
    if local.time() == time(0, 0):
        return local.date() - timedelta(days=1)
    return None


def end_zh(until: datetime | None, last_day: date | None = None, tz: timezone = BEIJING) -> str:
    """When a period ends: 「2027年4月1日24时」, or 「2027年4月1日14时20分」 inside a day."""
    day = _last_day(until, last_day, tz)
    if day is not None:
        return f"{date_zh(day)}24时"
    if until is not None:
        return moment_zh(until, tz)
    return "（未定）"


def end_en(until: datetime | None, last_day: date | None = None, tz: timezone = BEIJING) -> str:
    """When a period ends: "end of 1 April 2027", or "14:20 on 1 April 2027 (Beijing time)"."""
    day = _last_day(until, last_day, tz)
    if day is not None:
        return f"end of {date_en(day)}"
    if until is not None:
        return moment_en(until, tz)
    return "(not set)"


def deadline_zh(
    until: datetime | None,
    last_day: date | None = None,
    tz: timezone = BEIJING,
    *,
    provisional: bool = False,
) -> str:
    """「2027年4月1日24时前」 for a day-counted deadline, 「2027年4月1日14时20分前」 otherwise."""
    if until is None and last_day is None:
        return "（未定）"
    return f"{end_zh(until, last_day, tz)}前" + (PROVISIONAL_ZH if provisional else "")


def deadline_en(
    until: datetime | None,
    last_day: date | None = None,
    tz: timezone = BEIJING,
    *,
    provisional: bool = False,
) -> str:
    """ "by end of 1 April 2027", or "by 14:20 on 1 April 2027 (Beijing time)"."""
    if until is None and last_day is None:
        return "(not set)"
    return f"by {end_en(until, last_day, tz)}" + (f" {PROVISIONAL_EN}" if provisional else "")


def _parts(spec: str) -> list[tuple[str, int]]:
    match = _DURATION.fullmatch(spec)
    if not match:
        raise InvalidTimeSpec(f"{spec!r} is not a period such as P1M, P15D, 5WD or --11-30")
    parts = [(unit, int(n)) for unit, n in match.groupdict().items() if n and int(n)]
    if not parts:
        raise InvalidTimeSpec(f"{spec!r} is a zero period")
    return parts


def _month_day(spec: str) -> tuple[int, int]:
    if not re.fullmatch(r"--\d{2}-\d{2}", spec):
        raise InvalidTimeSpec(f"{spec!r} is not a month-day such as --11-30")
    month, day = int(spec[2:4]), int(spec[5:7])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise InvalidTimeSpec(f"{spec!r} is not a month-day such as --11-30")
    return month, day


def _working_days(spec: str) -> int | None:
    match = re.fullmatch(r"(\d+)WD", spec)
    if match is None:
        return None
    if int(match[1]) < 1:
        raise InvalidTimeSpec("a working-day count must be at least 1")
    return int(match[1])


def period_zh(spec: str) -> str:
    """「1个月」「5个工作日」「15日」「20秒」「每年11月30日」."""
    spec = spec.strip()
    if spec.startswith("--"):
        month, day = _month_day(spec)
        return f"每年{month}月{day}日"
    if (count := _working_days(spec)) is not None:
        return f"{count}个工作日"
    return "".join(f"{n}{_UNITS_ZH[unit]}" for unit, n in _parts(spec))


def period_en(spec: str) -> str:
    """ "1 month", "5 working days", "15 days", "20 seconds", "30 November each year"."""
    spec = spec.strip()
    if spec.startswith("--"):
        month, day = _month_day(spec)
        return f"{day} {MONTHS_EN[month - 1]} each year"
    if (n := _working_days(spec)) is not None:
        return f"{n} working day{'s' if n != 1 else ''}"
    return " ".join(f"{n} {_UNITS_EN[unit]}{'s' if n != 1 else ''}" for unit, n in _parts(spec))
