"""shared.bulk writes exactly what SQLAlchemy's own executemany writes, on SQLite (where it is
that executemany) and PostgreSQL (psycopg COPY): the same stored values, read back raw, for
inserts and updates by key, a time in another zone than the server's included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import StatementError

from services.dashboard.tables import CycleRow, TimelineRow, YearRow
from shared.bulk import insert_rows, update_rows, update_statement
from shared.db import session_scope

BEIJING = timezone(timedelta(hours=8))


def _raw(engine: Engine, table: str, order: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        # Text casts: what is stored, not what a type makes of it on the way back.
        return [
            tuple(map(str, r))
            for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
        ]


def _event(event_id: str, when: datetime) -> dict[str, object]:
    return {
        "event_id": event_id,
        "program": "p",
        "year": 2026,
        "base": "b",
        "sequence": 3,
        "type": "navcycle.plan.filed",
        "time": when,
        "stream_seq": 7,
        "document_id": None,
        "detail": "step: city · 市级",
    }


def test_inserts_store_what_sqlalchemy_stores(dashboard_db: Engine) -> None:
    engine = dashboard_db
    table = TimelineRow.__table__  # type: ignore[attr-defined]
    times = [
        datetime(2026, 10, 8, 9, 30, 1, 123456, tzinfo=UTC),
        datetime(2026, 10, 8, 17, 30, 1, 123456, tzinfo=BEIJING),
    ]
    with session_scope(engine) as session:
        insert_rows(session, table, [_event(f"bulk-{i}", t) for i, t in enumerate(times)])
        session.execute(insert(TimelineRow), [_event(f"orm-{i}", t) for i, t in enumerate(times)])
        insert_rows(session, table, [])  # nothing to write: no statement
    rows = _raw(engine, "dashboard_timeline", "event_id")
    bulk, orm = rows[:2], rows[2:]
    assert [r[0] for r in bulk] == ["bulk-0", "bulk-1"]
    assert [r[1:] for r in bulk] == [r[1:] for r in orm]
    assert "None" in bulk[0] and "step: city · 市级" in bulk[0]


def test_updates_by_key_store_what_sqlalchemy_stores(dashboard_db: Engine) -> None:
    engine = dashboard_db
    cycles = CycleRow.__table__  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        session.execute(
            insert(CycleRow),
            [
                {"program": "p", "year": 2026, "base": b, "stage": "plan_filing"}
                for b in ("x", "y", "z")
            ],
        )
    view: dict[str, object] = {
        c.name: None for c in cycles.columns if c.name not in ("program", "year", "base")
    }
    view.update(
        region="410100",
        stage="graded",
        grade="pass",
        total=71.5,
        overdue=1,
        last_sequence=9,
        stage_key="k",
        stage_since="2026-03-01T08:00:00.000000",
        grade_key="k",
        total_key="k",
        notice=2,
        reason_zh="理由",
        reason_en="reason",
        rank_reason_zh="",
        rank_reason_en="",
        corrected=True,
        deadlines='{"plan": "2026-04-01"}',
    )
    key = ("program", "year", "base")
    with session_scope(engine) as session:
        update_rows(
            session, cycles, key, [{**view, "pk_program": "p", "pk_year": 2026, "pk_base": "x"}]
        )
        session.execute(
            update_statement(cycles, key),
            [{**view, "pk_program": "p", "pk_year": 2026, "pk_base": "y"}],
        )
    x, y, z = _raw(engine, "dashboard_cycles", "base")
    assert x[3:] == y[3:] and x[4] == "graded" and "理由" in x
    assert z[4] == "plan_filing"  # only the keyed rows

    years = YearRow.__table__  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        insert_rows(session, years, [{**_year(), "year": 2025}, {**_year(), "year": 2026}])
        # Two updates of one table in one transaction: the second sees none of the first's rows.
        for n in (1, 2):
            update_rows(
                session,
                years,
                ("program", "year"),
                [{**_year(notice=n), "pk_program": "p", "pk_year": 2026}],
            )
    old, new = _raw(engine, "dashboard_years", "year")
    assert old[2] == "0" and new[2] == "2"


def _year(notice: int = 0) -> dict[str, object]:
    return {
        "program": "p",
        "notice": notice,
        "kind": None,
        "published_at": None,
        "counts": "{}",
        "inline": True,
        "results_key": None,
        "corrected": "[]",
        "publication_until": None,
        "publication_last_day": None,
        "provisional": False,
        "publication_key": "",
        "finalized_at": None,
    }


def test_a_naive_time_is_refused_as_sqlalchemy_refuses_it(dashboard_db: Engine) -> None:
    # UTCDateTime's bind processor runs on the COPY path too: no time of unknown zone is stored.
    table = TimelineRow.__table__  # type: ignore[attr-defined]
    with pytest.raises((ValueError, StatementError)), session_scope(dashboard_db) as session:
        insert_rows(session, table, [_event("naive", datetime(2026, 10, 8, 9, 30))])
    assert _raw(dashboard_db, "dashboard_timeline", "event_id") == []
