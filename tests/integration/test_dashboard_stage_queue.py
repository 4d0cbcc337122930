"""The dashboard's cycles of a stage within a region, in the order they entered the stage, a page
at a time, with their count and their counts by city: done by the database (SQLite and
PostgreSQL), on rows the projection filled from real events. Every page after the cursor of the
one before: none lost, none repeated, whatever leaves the stage meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from services.dashboard import store, use_cases
from services.dashboard.rebuild import CHECKPOINT
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.consumer import Delivered
from shared.contracts.dashboard import CitiesQuery, CyclesQuery
from shared.db import make_engine, session_scope
from shared.events.envelope import CloudEvent, new_event
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.rpc import RpcError
from tests.conftest import DATABASES, postgres_url
from tests.event_samples import required
from tests.helpers import fresh_database

PROGRAM, YEAR = "queue-p", 2031
T0 = datetime(2031, 3, 1, 8, tzinfo=UTC)
# base -> region; Zhengzhou (4101..) and its counties, Luoyang (4103..), Wuhan (4201..).
REGIONS = {
    **{f"zz-{n:02d}": "410100" for n in range(7)},
    **{f"zzc-{n:02d}": "410102" for n in range(5)},
    **{f"ly-{n:02d}": "410300" for n in range(4)},
    **{f"lyc-{n:02d}": "410322" for n in range(3)},
    **{f"wh-{n:02d}": "420100" for n in range(3)},
}
STILL_FILING = {"zz-05", "ly-02"}  # opened, no plan filed: not in plan_review


def _event(event_type: EventType, base: str, sequence: int, at: datetime) -> CloudEvent:
    return new_event(
        event_type=event_type,
        program=PROGRAM,
        year=YEAR,
        base=base,
        time=at,
        stream_key=f"cycle/{PROGRAM}/{YEAR}/{base}@r",
        sequence=sequence,
        data={**required(event_type), "region": REGIONS[base]},
    )


def _filed_at(n: int) -> datetime:
    """When the n-th base filed: out of base order, and in pairs at the same instant (base
    breaks the tie)."""
    return T0 + timedelta(hours=(n * 7) % 11)


def _project(engine: Engine, events: list[CloudEvent], first_seq: int = 1) -> None:
    with session_scope(engine) as session:
        delivered = [Delivered(e, n) for n, e in enumerate(events, first_seq)]
        store.project(session, delivered, CHECKPOINT)


def _fill(engine: Engine) -> dict[str, datetime]:
    """Every base opened, all but ``STILL_FILING`` filed; when each entered plan_review."""
    entered: dict[str, datetime] = {}
    events = []
    for n, base in enumerate(sorted(REGIONS)):
        events.append(_event(EventType.CYCLE_OPENED, base, 1, T0 - timedelta(days=30)))
        if base not in STILL_FILING:
            entered[base] = _filed_at(n)
            events.append(_event(EventType.PLAN_FILED, base, 2, entered[base]))
    _project(engine, events)
    return entered


def _expected(entered: dict[str, datetime], prefix: str) -> list[str]:
    mine = [b for b in entered if REGIONS[b].startswith(prefix)]
    return sorted(mine, key=lambda b: (entered[b], b))


def _read_all(engine: Engine, prefix: str | None, limit: int) -> tuple[list[list[str]], set[int]]:
    pages: list[list[str]] = []
    totals: set[int] = set()
    cursor: str | None = None
    while True:
        listed = use_cases.cycles(engine, _ask(prefix, cursor, limit))
        pages.append([c.base for c in listed.cycles])
        assert listed.total is not None
        totals.add(listed.total)
        cursor = listed.next_cursor
        if cursor is None:
            return pages, totals
        assert len(pages) <= len(REGIONS), "the cursors go round: never the last page"


def _ask(prefix: str | None, cursor: str | None, limit: int, **more: Any) -> CyclesQuery:
    return CyclesQuery(
        program=PROGRAM,
        year=YEAR,
        stage="plan_review",
        region_prefix=prefix,
        order="stage_since",
        cursor=cursor,
        limit=limit,
        count=True,
        **more,
    )


@pytest.mark.parametrize(("prefix", "limit"), [("4101", 3), ("410102", 2), ("41", 4), (None, 5)])
def test_pages_of_a_stage_in_a_region_come_in_entry_order_whole_and_once(
    dashboard_db: Engine, prefix: str | None, limit: int
) -> None:
    entered = _fill(dashboard_db)
    expected = _expected(entered, prefix or "")
    pages, totals = _read_all(dashboard_db, prefix, limit)
    assert [b for page in pages for b in page] == expected  # in order, none lost or repeated
    assert all(0 < len(page) <= limit for page in pages)
    assert len(pages) == -(-len(expected) // limit)
    assert totals == {len(expected)}  # the count on every page: all the pages' rows
    # Each row says when it entered its stage, as the events said.
    first = use_cases.cycles(dashboard_db, _ask(prefix, None, limit)).cycles[0]
    assert datetime.fromisoformat(str(first.stage_since)) == entered[expected[0]]


def test_the_count_and_the_cities_are_the_databases(dashboard_db: Engine) -> None:
    entered = _fill(dashboard_db)
    for prefix in ("", "4101", "410300", "4103", "42", "43"):
        listed = use_cases.cycles(dashboard_db, _ask(prefix, None, 1))
        assert listed.total == len(_expected(entered, prefix)), prefix
    unasked = use_cases.cycles(dashboard_db, CyclesQuery(program=PROGRAM, year=YEAR))
    assert unasked.total is None  # counted only when asked
    # A county's plans count for its city; the region asked for bounds the cities.
    by_city = use_cases.cities(
        dashboard_db, CitiesQuery(program=PROGRAM, year=YEAR, stage="plan_review")
    )
    assert [(c.city, c.cycles) for c in by_city.cities] == [
        ("410100", 6 + 5),
        ("410300", 3 + 3),
        ("420100", 3),
    ]
    henan = use_cases.cities(
        dashboard_db,
        CitiesQuery(program=PROGRAM, year=YEAR, stage="plan_review", region_prefix="41"),
    )
    assert [c.city for c in henan.cities] == ["410100", "410300"]
    first = use_cases.cities(
        dashboard_db, CitiesQuery(program=PROGRAM, year=YEAR, stage="plan_review", limit=2)
    )
    rest = use_cases.cities(
        dashboard_db,
        CitiesQuery(
            program=PROGRAM, year=YEAR, stage="plan_review", cursor=first.next_cursor, limit=2
        ),
    )
    assert [c.city for c in first.cities + rest.cities] == ["410100", "410300", "420100"]
    assert rest.next_cursor is None
    filing = use_cases.cities(
        dashboard_db, CitiesQuery(program=PROGRAM, year=YEAR, stage="plan_filing")
    )
    assert [(c.city, c.cycles) for c in filing.cities] == [("410100", 1), ("410300", 1)]


def test_a_plan_leaving_the_stage_between_pages_loses_no_other(dashboard_db: Engine) -> None:
    """The cursor names the last row's place in the order, not the row: the next page follows
    it though that row (and one ahead) left verification meanwhile."""
    entered = _fill(dashboard_db)
    expected = _expected(entered, "4101")
    first = use_cases.cycles(dashboard_db, _ask("4101", None, 4))
    assert [c.base for c in first.cycles] == expected[:4]
    gone = [expected[3], expected[5]]  # the last row read, and one of the next page
    later = T0 + timedelta(days=2)
    _project(
        dashboard_db,
        [_event(EventType.PLAN_ACCEPTED, b, 3, later) for b in gone],
        first_seq=1000,
    )
    second = use_cases.cycles(dashboard_db, _ask("4101", first.next_cursor, 4))
    assert [c.base for c in second.cycles] == [b for b in expected[4:9] if b not in gone]
    assert second.total == len(expected) - 2


def test_a_cursor_it_never_gave_is_refused(dashboard_db: Engine) -> None:
    _fill(dashboard_db)
    with pytest.raises(RpcError) as refused:
        use_cases.cycles(dashboard_db, _ask("4101", "zz-01", 3))  # a base order cursor
    assert refused.value.code == "unknown_cursor"


@pytest.fixture(params=DATABASES)
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        return
    with fresh_database(postgres_url()) as (_, url):
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_the_migration_takes_stage_since_from_the_stage_key(unmigrated: Engine) -> None:
    """Rows projected before the column existed get it from their stage key."""
    engine = unmigrated
    upgrade(engine, DASHBOARD_MIGRATIONS, "dashboard_0004")
    key = "e|2031-03-01T08:00:00.000000|000000000002|an-event-id"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO dashboard_cycles (program, year, base, region, stage, last_sequence,"
                " grade, total, overdue, stage_key, grade_key, total_key)"
                " VALUES ('p', 2031, 'b1', '410100', 'plan_review', 2, NULL, NULL, 0, :k, '', ''),"
                " ('p', 2031, 'b2', '410100', 'plan_filing', 0, NULL, NULL, 0, '', '', '')"
            ),
            {"k": key},
        )
    upgrade(engine, DASHBOARD_MIGRATIONS)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT base, stage_since FROM dashboard_cycles ORDER BY base")
        ).all()
    assert [tuple(r) for r in rows] == [("b1", "2031-03-01T08:00:00.000000"), ("b2", "")]
