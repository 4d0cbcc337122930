"""The registry's use cases called directly, on a SQLite file and with no broker: what each
answers, and the refusals it raises with their stable codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from services.registry import use_cases
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from shared.contracts.calendars import ApplyCalendar, GetCalendar
from shared.contracts.registry import (
    ApplyRules,
    BaseRegistration,
    BaseStatusChange,
    GetBase,
    GetProgram,
    ListBases,
    ListBasesRequest,
    RegisterBase,
)
from shared.db import make_engine
from shared.migrations import upgrade
from shared.rpc import RpcError

PROGRAM = "inner-mongolia-nav-base"
PRESET = Path(__file__).resolve().parents[2] / "deploy" / "programs" / f"{PROGRAM}.yaml"
EVIDENCE = ["ab" * 32]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(db, REGISTRY_MIGRATIONS)
    use_cases.apply_rules(db, ApplyRules(document=yaml.safe_load(PRESET.read_text("utf-8"))))
    yield db
    db.dispose()


def _registration(base: str, **changes: Any) -> BaseRegistration:
    body: dict[str, Any] = {
        "id": base,
        "name": f"基地 {base}",
        "region": "150100",
        "domain": "稀土新材料",
        "host_type": "高校院所",
        "staff": {"total": 10, "senior_full_time": 3},
        "pct_minimum_data": True,
        "declarations": {
            k: {"affirmed": True, "evidence": EVIDENCE}
            for k in ("experience", "industry_base", "resources")
        },
    }
    return BaseRegistration.model_validate(body | changes)


def test_unchanged_rules_make_no_new_version(engine: Engine) -> None:
    document = yaml.safe_load(PRESET.read_text("utf-8"))
    again = use_cases.apply_rules(engine, ApplyRules(document=document))
    assert (again.program, again.created) == (PROGRAM, False)
    pinned = use_cases.current_rules(engine, GetProgram(program=PROGRAM))
    assert pinned.version == again.version
    assert [p.rules.id for p in use_cases.programs(engine).programs] == [PROGRAM]


def test_rules_that_do_not_parse_are_refused_with_their_errors(engine: Engine) -> None:
    with pytest.raises(RpcError) as caught:
        use_cases.apply_rules(engine, ApplyRules(document={"id": "x"}))
    assert (caught.value.code, caught.value.status) == ("invalid_rules", 422)
    assert caught.value.details["errors"]


def test_an_unknown_program_or_base_is_404(engine: Engine) -> None:
    with pytest.raises(RpcError) as caught:
        use_cases.current_rules(engine, GetProgram(program="nowhere"))
    assert (caught.value.code, caught.value.status) == ("program_not_found", 404)
    with pytest.raises(RpcError) as caught:
        use_cases.get_base(engine, GetBase(program=PROGRAM, base="nobody"))
    assert (caught.value.code, caught.value.status) == ("base_not_found", 404)


def test_a_registered_base_is_listed_and_a_delisted_one_leaves_the_active_pages(
    engine: Engine,
) -> None:
    for base in ("b1", "b2", "b3"):
        use_cases.register_base(
            engine,
            RegisterBase(
                program=PROGRAM, registration=_registration(base, domain=f"稀土新材料 {base}")
            ),
        )
    assert use_cases.get_base(engine, GetBase(program=PROGRAM, base="b2")).id == "b2"
    assert len(use_cases.list_bases(engine, ListBases(program=PROGRAM)).bases) == 3
    changed = use_cases.change_status(
        engine, BaseStatusChange(program=PROGRAM, base="b2", year=2025, status="delisted")
    )
    assert changed.status == "delisted"
    first = use_cases.active_bases(engine, ListBasesRequest(program=PROGRAM, limit=1))
    assert [b.id for b in first.bases] == ["b1"] and first.next_cursor == "b1"
    rest = use_cases.active_bases(
        engine, ListBasesRequest(program=PROGRAM, cursor=first.next_cursor, limit=5)
    )
    assert [b.id for b in rest.bases] == ["b3"] and rest.next_cursor is None


def test_a_base_outside_the_programs_region_is_not_eligible(engine: Engine) -> None:
    with pytest.raises(RpcError) as caught:
        use_cases.register_base(
            engine,
            RegisterBase(program=PROGRAM, registration=_registration("far", region="410100")),
        )
    assert (caught.value.code, caught.value.status) == ("not_eligible", 422)


HOLIDAYS_2027: dict[str, Any] = {
    "id": "cn-test",
    "name": "测试节假日表 / test holidays",
    "years": {"2027": {"source": "测试 / test", "holidays": ["2027-01-01"], "workdays": []}},
}


def test_a_holiday_table_is_versioned_only_when_a_year_changes(engine: Engine) -> None:
    first = use_cases.apply_calendar(engine, ApplyCalendar(document=HOLIDAYS_2027))
    assert (first.calendar, first.version, first.created, first.years) == (
        "cn-test",
        1,
        True,
        [2027],
    )
    again = use_cases.apply_calendar(engine, ApplyCalendar(document=HOLIDAYS_2027))
    assert (again.version, again.created, again.years) == (1, False, [])
    more = dict(HOLIDAYS_2027, years={"2028": {"source": "s", "holidays": ["2028-01-01"]}})
    merged = use_cases.apply_calendar(engine, ApplyCalendar(document=more, source="cli"))
    assert (merged.version, merged.years) == (2, [2028])
    current = use_cases.get_calendar(engine, GetCalendar(calendar="cn-test"))
    assert (current.version, current.source, current.digest) == (2, "cli", merged.digest)
    years = current.document["years"]
    assert isinstance(years, dict) and sorted(years) == ["2027", "2028"]  # 2027 kept


def test_a_bad_or_unknown_holiday_table_is_refused(engine: Engine) -> None:
    bad = dict(HOLIDAYS_2027, years={"2027": {"source": "s", "holidays": ["2026-13-40"]}})
    with pytest.raises(RpcError) as caught:
        use_cases.apply_calendar(engine, ApplyCalendar(document=bad))
    assert (caught.value.code, caught.value.status) == ("invalid_calendar", 422)
    assert caught.value.details["errors"]
    with pytest.raises(RpcError) as unknown:
        use_cases.get_calendar(engine, GetCalendar(calendar="cn-test"))
    assert (unknown.value.code, unknown.value.status) == ("calendar_not_found", 404)
