"""The dashboard's questions called directly, on a SQLite file the projection filled and with
no broker: what each answers for a projected year, and an empty answer (never an error) for a
year nobody projected. A request outside the contract is refused by its model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from services.dashboard import store, use_cases
from services.dashboard.rebuild import CHECKPOINT
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.consumer import Delivered
from shared.contracts.dashboard import BaseQuery, CyclesQuery, OverdueQuery, YearQuery
from shared.db import make_engine, session_scope
from shared.events.envelope import CloudEvent, new_event
from shared.events.types import EventType
from shared.migrations import upgrade
from tests.event_samples import required


def _event(event_type: EventType, sequence: int, base: str, **data: Any) -> CloudEvent:
    return new_event(
        event_type=event_type,
        program="p",
        year=2026,
        base=base,
        time=datetime(2026, 3, sequence, tzinfo=UTC),
        stream_key=f"cycle/p/2026/{base}@r",
        sequence=sequence,
        data={**required(event_type), **data},
    )


def projected(path: Path) -> Engine:
    """A dashboard database at ``path`` with two bases of p/2026 projected, b2 overdue."""
    db = make_engine(f"sqlite:///{path}")
    upgrade(db, DASHBOARD_MIGRATIONS)
    events = [
        _event(EventType.CYCLE_OPENED, 1, "b1", region="410102"),
        _event(EventType.CYCLE_OPENED, 1, "b2", region="410302"),
        _event(EventType.PLAN_OVERDUE, 2, "b2", region="410302"),
    ]
    with session_scope(db) as session:
        store.project(session, [Delivered(e, n) for n, e in enumerate(events, 1)], CHECKPOINT)
    return db


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    db = projected(tmp_path / "dashboard.db")
    yield db
    db.dispose()


def test_a_projected_year_is_listed_counted_and_summarised(engine: Engine) -> None:
    assert [(y.program, y.year, y.bases) for y in use_cases.years(engine).years] == [("p", 2026, 2)]
    counts = use_cases.counts(engine, YearQuery(program="p", year=2026))
    assert (counts.bases, counts.by_stage, counts.stream_seq) == (2, {"plan_filing": 2}, 3)
    assert counts.overdue == 1
    late = use_cases.overdue(engine, OverdueQuery(program="p", year=2026))
    assert [(b.base, b.region, b.city, b.overdue) for b in late.bases] == [
        ("b2", "410302", "410300", 1)
    ]
    assert late.next_cursor is None
    first = use_cases.overdue(engine, OverdueQuery(program="p", year=2026, limit=1))
    assert [b.base for b in first.bases] == ["b2"] and first.next_cursor is None
    cycles = use_cases.cycles(engine, CyclesQuery(program="p", year=2026))
    assert [(c.base, c.region, c.overdue) for c in cycles.cycles] == [
        ("b1", "410102", 0),
        ("b2", "410302", 1),
    ]
    assert cycles.next_cursor is None


def test_a_years_cycles_come_in_pages_that_follow_each_other(engine: Engine) -> None:
    first = use_cases.cycles(engine, CyclesQuery(program="p", year=2026, limit=1))
    assert ([c.base for c in first.cycles], first.next_cursor) == (["b1"], "b1")
    rest = use_cases.cycles(engine, CyclesQuery(program="p", year=2026, cursor="b1", limit=1))
    assert ([c.base for c in rest.cycles], rest.next_cursor) == (["b2"], None)
    assert rest.cycles[0].overdue == 1  # the row of a later page is as whole as on the first


def test_a_bases_timeline_lists_its_events_in_stream_order(engine: Engine) -> None:
    answer = use_cases.timeline(engine, BaseQuery(program="p", year=2026, base="b2"))
    assert answer.cycle is not None and answer.cycle.overdue == 1
    assert [(e.type, e.stream_seq) for e in answer.events] == [
        ("navcycle.cycle.opened", 2),
        ("navcycle.plan.overdue", 3),
    ]


def test_a_year_nobody_projected_is_an_empty_answer(engine: Engine) -> None:
    other = CyclesQuery(program="p", year=2027)
    assert (use_cases.counts(engine, other).bases, use_cases.cycles(engine, other).cycles) == (
        0,
        [],
    )
    assert use_cases.objections(engine, other).objections == []
    nobody = use_cases.timeline(engine, BaseQuery(program="p", year=2026, base="b9"))
    assert (nobody.cycle, nobody.events) == (None, [])


@pytest.mark.parametrize(
    "body",
    [{"program": "p", "year": 1999}, {"program": "p.x", "year": 2026}, {"program": "p"}],
)
def test_a_question_outside_the_contract_is_refused_by_its_model(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        YearQuery.model_validate(body)
