"""BulkStatement writes exactly what SQLAlchemy's own executemany writes, on SQLite and
PostgreSQL: the same stored values, read back raw, for inserts and updates by key."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, insert, text

from services.dashboard.tables import CycleRow, TimelineRow
from shared.db import BulkStatement, session_scope


def _raw(engine: Engine, table: str, order: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        # Text casts: what is stored, not what a type makes of it on the way back.
        return [
            tuple(map(str, r))
            for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
        ]


def test_inserts_and_updates_store_what_sqlalchemy_stores(dashboard_db: Engine) -> None:
    engine = dashboard_db
    when = datetime(2026, 10, 8, 9, 30, 1, 123456, tzinfo=UTC)
    row = {
        "program": "p",
        "year": 2026,
        "base": "b",
        "sequence": 3,
        "type": "navcycle.plan.filed",
        "time": when,
        "stream_seq": 7,
        "document_id": None,
        "detail": "step: city",
    }
    table = TimelineRow.__table__  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        BulkStatement(table.insert()).run(session, [{**row, "event_id": "bulk"}])
        session.execute(insert(TimelineRow), [{**row, "event_id": "orm"}])
    bulk, orm = _raw(engine, "dashboard_timeline", "event_id")
    assert bulk[1:] == orm[1:] and bulk[0] == "bulk"

    cycles = CycleRow.__table__  # type: ignore[attr-defined]
    view = {"region": "410100", "stage": "graded", "grade": "pass", "total": 71.5, "overdue": 1}
    with session_scope(engine) as session:
        for base in ("x", "y"):
            session.execute(
                insert(CycleRow),
                [
                    {
                        "program": "p",
                        "year": 2026,
                        "base": base,
                        "stage": "plan_filing",
                        "last_sequence": 1,
                    }
                ],
            )
    update = (
        cycles.update()
        .where(cycles.c.base == bindparam("pk_base"))
        .values({k: bindparam(k) for k in view})
    )
    with session_scope(engine) as session:
        BulkStatement(update).run(session, [{**view, "pk_base": "x"}])
        session.execute(update, [{**view, "pk_base": "y"}])
    x, y = _raw(engine, "dashboard_cycles", "base")
    assert x[3:] == y[3:] and x[4] == "graded"
