"""The bureau's holiday table: validation, merging, the shipped file, and who answers when."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import chinese_calendar
import pytest

from shared.domain.holidays import (
    HolidayCalendar,
    HolidayTable,
    HolidayTableError,
    HolidayYear,
    holiday_table_digest,
    holiday_table_document,
    load_holiday_table_file,
    load_holiday_table_text,
    parse_holiday_table,
)
from shared.settings import DEPLOY_DIR

SHIPPED = DEPLOY_DIR / "calendars" / "cn-statutory.yaml"

TABLE_2027 = """
id: cn-statutory
name: test
years:
  2027:
    source: 国务院办公厅关于2027年部分节假日安排的通知（测试数据）
    holidays: [2027-01-01, 2027-04-05]
    workdays: [2027-01-02]
"""


def test_the_shipped_table_loads_and_names_a_source_for_every_year() -> None:
    table = load_holiday_table_file(SHIPPED)
    assert table.id == "cn-statutory"
    assert {2024, 2025, 2026} <= set(table.years)
    for year in table.years.values():
        assert "国务院办公厅" in year.source and str(year.year) in year.source


def test_the_shipped_table_leaves_2027_unpublished() -> None:
    assert 2027 not in load_holiday_table_file(SHIPPED).years
    assert (
        HolidayCalendar(load_holiday_table_file(SHIPPED)).is_working_day(date(2027, 1, 1)) is None
    )


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_shipped_table_agrees_with_chinese_calendar(year: int) -> None:
    table = load_holiday_table_file(SHIPPED)
    calendar = HolidayCalendar(table, package_fallback=False)
    day = date(year, 1, 1)
    while day.year == year:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day = day.fromordinal(day.toordinal() + 1)


def test_national_day_2026_and_its_make_up_days() -> None:
    calendar = HolidayCalendar(load_holiday_table_file(SHIPPED), package_fallback=False)
    assert [calendar.is_working_day(date(2026, 10, d)) for d in range(1, 11)] == [
        *[False] * 7,
        True,  # Thu 10-08
        True,  # Fri 10-09
        True,  # Sat 10-10: 调休上班
    ]
    assert calendar.is_working_day(date(2026, 9, 20)) is True  # a Sunday worked


def test_a_date_outside_its_year_is_refused_with_the_field() -> None:
    with pytest.raises(HolidayTableError) as err:
        parse_holiday_table(
            {
                "id": "cn",
                "name": "x",
                "years": {"2027": {"source": "s", "holidays": ["2026-12-31"]}},
            }
        )
    assert err.value.errors[0]["field"] == "years.2027"
    assert "2026-12-31" in err.value.errors[0]["message"]


def test_a_day_both_holiday_and_workday_is_refused() -> None:
    with pytest.raises(HolidayTableError, match="2027-01-02"):
        parse_holiday_table(
            {
                "id": "cn",
                "name": "x",
                "years": {
                    2027: {"source": "s", "holidays": ["2027-01-02"], "workdays": ["2027-01-02"]}
                },
            }
        )


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(HolidayTableError) as err:
        parse_holiday_table(
            {
                "id": "cn",
                "name": "",
                "years": {2027: {"holidays": ["not a date"], "colour": "red"}},
            }
        )
    fields = {e["field"] for e in err.value.errors}
    assert {"name", "years.2027.source", "years.2027.holidays.0", "years.2027.colour"} <= fields


@pytest.mark.parametrize("text", ["[1, 2]", "id: [unclosed", ""])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    with pytest.raises(HolidayTableError) as err:
        load_holiday_table_text(text)
    assert err.value.errors[0]["field"] == "(document)"


def test_a_bad_id_is_refused() -> None:
    with pytest.raises(HolidayTableError, match="id"):
        parse_holiday_table({"id": "CN Statutory", "name": "x"})


def test_merging_replaces_the_years_given_and_keeps_the_others() -> None:
    stored = load_holiday_table_file(SHIPPED)
    update = load_holiday_table_text(TABLE_2027)
    merged = stored.merged(update)
    assert set(merged.years) == set(stored.years) | {2027}
    assert merged.years[2026] == stored.years[2026]
    assert merged.years[2027] == update.years[2027]
    assert stored.changed_years(merged) == [2027]

    corrected = HolidayYear(
        year=2026, holidays=[date(2026, 1, 1)], workdays=[], source="correction"
    )
    again = merged.merged(HolidayTable(id="cn-statutory", name="test", years={2026: corrected}))
    assert again.years[2026] == corrected
    assert again.years[2027] == update.years[2027]
    assert merged.changed_years(again) == [2026]


def test_the_digest_ignores_order_and_repeats_and_round_trips_through_json() -> None:
    a = load_holiday_table_text(TABLE_2027)
    b = load_holiday_table_text(
        TABLE_2027.replace("[2027-01-01, 2027-04-05]", "[2027-04-05, 2027-01-01, 2027-01-01]")
    )
    assert holiday_table_digest(a) == holiday_table_digest(b)
    assert parse_holiday_table(holiday_table_document(a)) == a
    changed = load_holiday_table_text(TABLE_2027.replace("2027-04-05", "2027-04-06"))
    assert holiday_table_digest(changed) != holiday_table_digest(a)


def test_the_table_answers_before_the_package() -> None:
    # A bureau correction for 2026: 2026-03-02 (a Monday) declared a holiday.
    table = HolidayTable(
        id="cn",
        name="x",
        years={2026: HolidayYear(year=2026, holidays=[date(2026, 3, 2)], source="s")},
    )
    assert chinese_calendar.is_workday(date(2026, 3, 2))
    assert HolidayCalendar(table).is_working_day(date(2026, 3, 2)) is False
    # A year the table lacks: the package when it knows the year, else nobody.
    assert HolidayCalendar(table).is_working_day(date(2025, 10, 1)) is False
    assert HolidayCalendar(table).is_working_day(date(2027, 1, 4)) is None
    assert HolidayCalendar(table, package_fallback=False).is_working_day(date(2025, 10, 1)) is None


def test_has_year_says_whether_answers_rest_on_published_data() -> None:
    calendar = HolidayCalendar(load_holiday_table_text(TABLE_2027))
    assert calendar.has_year(2027) and calendar.has_year(2025)
    assert not calendar.has_year(2028)


def test_the_year_inside_an_entry_must_match_its_key(tmp_path: Path) -> None:
    with pytest.raises(HolidayTableError, match="another year"):
        parse_holiday_table(
            {"id": "cn", "name": "x", "years": {2027: {"year": 2028, "source": "s"}}}
        )
