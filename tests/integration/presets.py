"""Preset years under time skipping: a preset's rules under a test's own program id and holiday
table, its bases and experts, and the holiday data a test applies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.contracts.calendars import ApplyCalendar, CalendarApplyResult
from shared.domain.holidays import holiday_table_document, load_holiday_table_file
from shared.domain.rules import ProgramRules, load_rules_file
from shared.rpc import RpcClient
from shared.settings import DEPLOY_DIR
from tests.conftest import Stack
from tests.integration import driver

TEST_TABLE = Path(__file__).resolve().parent.parent / "data" / "holidays-test.yaml"


BUNDLED = DEPLOY_DIR / "calendars" / "cn-statutory.yaml"


def preset(name: str, program: str, **outcomes: Any) -> ProgramRules:
    """A preset's rules under a program id of the test's own (so each test can run the real
    program year, which month-days count from, without meeting another test's workflows), and
    counting on a holiday table of its own (so one test's 2027 data is not another's)."""
    rules = load_rules_file(DEPLOY_DIR / "programs" / f"{name}.yaml")
    document = rules.model_dump(mode="json", by_alias=True)
    document["id"] = program
    document["calendar"]["holidays"] = f"{program}-holidays"
    document["outcomes"].update(outcomes)
    return ProgramRules.model_validate(document)


async def store_holidays(stack: Stack, rules: ProgramRules, path: Path) -> CalendarApplyResult:
    """Apply a holiday table, under the id the rules count with."""
    document = holiday_table_document(load_holiday_table_file(path))
    document["id"] = rules.calendar.holidays
    return await RpcClient(stack.nc).call(
        "registry",
        "calendars.apply",
        ApplyCalendar(document=document, source="test"),
        CalendarApplyResult,
    )


async def register(
    stack: Stack, rules: ProgramRules, bases: list[str], *, with_test_years: bool = True
) -> None:
    """The program, its bases and experts, and its holiday table (2024-2026 as bundled, and the
    2027-2028 test data unless the test is about its arrival)."""
    driver.register(stack, rules, bases)
    await store_holidays(stack, rules, BUNDLED)
    if with_test_years:
        await store_holidays(stack, rules, TEST_TABLE)


async def this_year(stack: Stack) -> int:
    return (await stack.env.get_current_time()).year


