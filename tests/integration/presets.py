"""Preset years under time skipping: a preset's rules under a test's own program id and holiday
table, its bases and experts, and the holiday data a test applies.

The tests do not depend on the day they run: ``dated_stack`` moves its own server's clock to
1 November of next year (Beijing time) first, and the holiday data of that year and the ones
after it is test data made here (the bundled table and the ``chinese_calendar`` package know
none of them), so a year without data is always one the test chose.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from services.registry import store
from shared.contracts.calendars import ApplyCalendar, CalendarApplyResult
from shared.contracts.registry import BaseRegistration
from shared.db import session_scope
from shared.domain.holidays import holiday_table_document, load_holiday_table_file
from shared.domain.rules import ProgramRules, load_rules_file
from shared.rpc import RpcClient
from shared.settings import DEPLOY_DIR
from tests.conftest import Stack
from tests.integration import driver

BEIJING = timezone(timedelta(hours=8))
BUNDLED = DEPLOY_DIR / "calendars" / "cn-statutory.yaml"


def start_of_tests(today: datetime) -> datetime:
    """Where a dated test's clock starts: 1 November of next year, 09:00 Beijing time."""
    return datetime(today.astimezone(BEIJING).year + 1, 11, 1, 9, 0, tzinfo=BEIJING)


def preset(name: str, program: str, **outcomes: Any) -> ProgramRules:
    """A preset's rules under a program id of the test's own (so each test can run the real
    program year, which month-days count from, without meeting another test's workflows), and
    counting on a holiday table of its own (so one test's holiday data is not another's)."""
    rules = load_rules_file(DEPLOY_DIR / "programs" / f"{name}.yaml")
    document = rules.model_dump(mode="json", by_alias=True)
    document["id"] = program
    document["calendar"]["holidays"] = f"{program}-holidays"
    document["outcomes"].update(outcomes)
    return ProgramRules.model_validate(document)


def test_holidays(year: int) -> dict[str, Any]:
    """TEST DATA, not a State Council notice: one year of the usual shape (元旦, 清明, 劳动节,
    国庆 with a make-up Saturday), standing in for a notice not published yet."""

    def span(month: int, first: int, last: int) -> list[str]:
        return [date(year, month, d).isoformat() for d in range(first, last + 1)]

    make_up = next(
        d for d in (date(year, 9, 24) + timedelta(days=i) for i in range(7)) if d.weekday() == 5
    )
    return {
        "source": "测试数据 / test data standing in for a notice not yet published",
        "holidays": [*span(1, 1, 1), *span(4, 5, 5), *span(5, 1, 5), *span(10, 1, 7)],
        "workdays": [make_up.isoformat()],
    }


async def apply_holidays(
    stack: Stack, rules: ProgramRules, document: dict[str, Any]
) -> CalendarApplyResult:
    """Apply a holiday table, under the id the rules count with."""
    return await RpcClient(stack.nc).call(
        "registry",
        "calendars.apply",
        ApplyCalendar(document={**document, "id": rules.calendar.holidays}, source="test"),
        CalendarApplyResult,
    )


async def apply_test_years(
    stack: Stack, rules: ProgramRules, years: list[int]
) -> CalendarApplyResult:
    return await apply_holidays(
        stack,
        rules,
        {
            "id": rules.calendar.holidays,
            "name": "测试节假日 / test holidays",
            "years": {y: test_holidays(y) for y in years},
        },
    )


async def register(
    stack: Stack, rules: ProgramRules, bases: list[str], *, known_years: int = 3
) -> None:
    """The program, its bases and experts, and its holiday table: the bundled years and test
    data for ``known_years`` years from the test's start."""
    driver.register(stack, rules, bases)
    await apply_holidays(stack, rules, holiday_table_document(load_holiday_table_file(BUNDLED)))
    first = await this_year(stack)
    await apply_test_years(stack, rules, list(range(first, first + known_years)))


def register_units(
    stack: Stack, rules: ProgramRules, units: dict[str, str], *, region: str, name: str
) -> None:
    """Participants of the program's kinds (``units``: base -> kind) in ``region``, each named
    ``name`` and its id, with three staff, one senior; a unit already there stays."""
    with session_scope(stack.registry_db) as session:
        for base, kind in units.items():
            if store.get_base(session, program=rules.id, base=base) is not None:
                continue
            reg = BaseRegistration.model_validate(
                {
                    "id": base,
                    "name": f"{name} {base}",
                    "region": region,
                    "domain": "新材料",
                    "kind": kind,
                    "staff": {"total": 3, "senior_full_time": 1},
                }
            )
            store.add_base(session, program=rules.id, reg=reg)


async def this_year(stack: Stack) -> int:
    return (await stack.env.get_current_time()).astimezone(BEIJING).year
