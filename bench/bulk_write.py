"""The dashboard projection's writes, made the ways a library offers, against ``BulkStatement``.

The rows are the pipeline's: its flood (30,000 ``lifecycle`` events over 1,000 bases) cut into
the consumer's batches (500), each folded as ``store.project`` folds it (timeline rows inserted;
the views it moved updated by key when stored, inserted when new), one transaction a batch, into
the dashboard's migrated tables. Only the writes are timed (the commits are reported apart).

Ways: ``bulk_statement`` (the hand-written one ``shared/db.py`` had: the statement compiled once,
rows converted with the columns' bind processors, the raw cursor's ``executemany``; kept here
only as the reference); ``executemany`` (``session.execute(statement, rows)``, SQLAlchemy 2's
own); ``insertmanyvalues`` (the inserts with ``RETURNING`` of the key, so SQLAlchemy batches
them into multi-row ``VALUES``; updates as ``executemany``); ``copy`` (PostgreSQL: psycopg
``COPY`` into the table; the updates ``COPY``-ed into a temporary table, then one
``UPDATE ... FROM`` it). Each way runs ``rounds`` times on fresh tables, interleaved with the
others; the best round counts, and every way must store the same rows.

The rule (issue 17): ``BulkStatement`` stays only if it is at least 1.5x faster than the best
library way on both databases. It was not (PostgreSQL: no faster than ``COPY``), so the
dashboard writes with ``shared/bulk.py``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, Table
from sqlmodel import Session

from bench.events import lifecycle
from bench.report import REPORT, Row, ratio
from services.dashboard import store
from services.dashboard.tables import MIGRATIONS
from shared.bulk import copy_insert, copy_update, update_statement
from shared.db import make_engine
from shared.migrations import upgrade

PROGRAM, YEAR = "bench-pipe", 2026
KEEP_RATIO = 1.5  # the hand-written way stays only if it is this much faster than the best other
NAVCYCLE_WAY = {"sqlite": "executemany", "postgresql": "copy"}  # what shared/bulk.py does


@dataclass
class Batch:
    """One consumer batch's writes: (kind name, "insert" | "update", rows), in store order."""

    writes: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)


KINDS: dict[str, store._Kind[Any]] = {
    "cycles": store.CYCLES,
    "years": store.YEARS,
    "objections": store.OBJECTIONS,
}


def batches(events: int, bases: int, size: int) -> list[Batch]:
    """The pipeline's flood folded batch by batch, as ``store.project`` folds it."""
    log = list(lifecycle(PROGRAM, YEAR, events, bases, tag="-bulk"))
    stored: dict[str, dict[tuple[Any, ...], Any]] = {name: {} for name in KINDS}
    out: list[Batch] = []
    for start in range(0, len(log), size):
        chunk = log[start : start + size]
        batch = Batch()
        timeline = [store._timeline_row(e, start + i + 1) for i, e in enumerate(chunk)]
        batch.writes.append(("timeline", "insert", timeline))
        touches = [store.touched(e) for e in chunk]
        fold = store.Fold(
            cycles={k: v for t in touches for k in t.cycles if (v := stored["cycles"].get(k))},
            years={t.year: v for t in touches if t.year and (v := stored["years"].get(t.year))},
            objections={
                (t.objection,): v
                for t in touches
                if t.objection and (v := stored["objections"].get((t.objection,)))
            },
        )
        before = {name: set(getattr(fold, name)) for name in KINDS}
        for e, t in zip(chunk, touches, strict=True):
            fold.add(e, t)
        for name, kind in KINDS.items():
            views = getattr(fold, name)
            updates = [store._pk_params(kind, v) for k, v in views.items() if k in before[name]]
            inserts = [kind.row(v) for k, v in views.items() if k not in before[name]]
            batch.writes.append((name, "update", updates))
            batch.writes.append((name, "insert", inserts))
            stored[name].update(views)
        out.append(batch)
    return out


def _table(name: str) -> Table:
    return store._TIMELINE if name == "timeline" else KINDS[name].table


# ---------------------------------------------------------------- the ways


class BulkStatement:
    """The hand-written way, as ``shared/db.py`` had it until this benchmark retired it (kept
    here only as the benchmark's reference): the statement compiled once per dialect with its
    bind order and the columns' bind processors read from SQLAlchemy's compiler
    (``positiontup``, ``binds``), each row converted with them, then the raw DB-API cursor's
    ``executemany``."""

    def __init__(self, statement: Any) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, list[str], Any, list[Any], bool]] = {}

    def run(self, session: Session, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        connection = session.connection()
        dialect = connection.dialect
        if dialect.name not in self._compiled:
            sql = self._statement.compile(dialect=dialect)
            names = list(sql.positiontup or sql.binds)
            processors = [
                (i, p)
                for i, n in enumerate(names)
                if (p := sql.binds[n].type.dialect_impl(dialect).bind_processor(dialect))
                is not None
            ]
            getter = itemgetter(*names)
            self._compiled[dialect.name] = (
                sql.string,
                names,
                getter,
                processors,
                dialect.positional,
            )
        text, names, values_of, processors, positional = self._compiled[dialect.name]
        params: list[Any] = []
        for row in rows:
            values = list(values_of(row))
            for i, process in processors:
                values[i] = process(values[i])
            params.append(tuple(values) if positional else dict(zip(names, values, strict=True)))
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(text, params)
        finally:
            cursor.close()


_REFERENCE: dict[tuple[str, str], BulkStatement] = {}


def bulk_statement(session: Session, name: str, op: str, rows: list[dict[str, Any]]) -> None:
    if (name, op) not in _REFERENCE:
        table = _table(name)
        statement = update_statement(table, KINDS[name].pk) if op == "update" else table.insert()
        _REFERENCE[name, op] = BulkStatement(statement)
    _REFERENCE[name, op].run(session, rows)


def executemany(session: Session, name: str, op: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = _table(name)
    statement = update_statement(table, KINDS[name].pk) if op == "update" else table.insert()
    session.execute(statement, rows)


def insertmanyvalues(session: Session, name: str, op: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = _table(name)
    if op == "update":
        session.execute(update_statement(table, KINDS[name].pk), rows)
        return
    # RETURNING makes SQLAlchemy batch an executemany into multi-row VALUES (insertmanyvalues).
    statement = table.insert().returning(*table.primary_key.columns)
    session.execute(statement, rows).all()


def copy(session: Session, name: str, op: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if op == "update":
        copy_update(session, _table(name), KINDS[name].pk, rows)
    else:
        copy_insert(session, _table(name), rows)


Way = Callable[[Session, str, str, list[dict[str, Any]]], None]
WAYS: dict[str, Way] = {
    "bulk_statement": bulk_statement,
    "executemany": executemany,
    "insertmanyvalues": insertmanyvalues,
    "copy": copy,
}


# ---------------------------------------------------------------- the databases


@contextmanager
def sqlite_db() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="navcycle-bench-bulk-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'dashboard.db'}")
        upgrade(engine, MIGRATIONS)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_db(server_url: str) -> Iterator[Engine]:
    """A database of its own on the server of ``server_url``, dropped afterwards."""
    name = f"navcycle_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        engine = make_engine(f"{server_url.rpartition('/')[0]}/{name}")
        upgrade(engine, MIGRATIONS)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_all(engine: Engine, way: Way, work: list[Batch]) -> tuple[float, float]:
    """Seconds in the writes and in the commits, over every batch."""
    writing = committing = 0.0
    for batch in work:
        with Session(engine) as session:
            t0 = time.perf_counter()
            for name, op, rows in batch.writes:
                way(session, name, op, rows)
            t1 = time.perf_counter()
            session.commit()
            writing += t1 - t0
            committing += time.perf_counter() - t1
    return writing, committing


def stored(engine: Engine) -> dict[str, list[Any]]:
    """Every row of the projection tables, as text: what was stored."""
    with engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(str, r)) for r in conn.execute(t.select()))
            for t in (_table("timeline"), *(k.table for k in KINDS.values()))
        }


def compare(
    db: Callable[[], Any], ways: list[str], work: list[Batch], rounds: int
) -> dict[str, Any]:
    """Each way ``rounds`` times on fresh tables; its best write time, and the same rows stored."""
    best: dict[str, dict[str, float]] = {}
    reference: dict[str, list[Any]] | None = None
    for _ in range(rounds):
        for way in ways:
            with db() as engine:
                writing, committing = write_all(engine, WAYS[way], work)
                rows = stored(engine)
            reference = reference or rows
            if rows != reference:
                raise AssertionError(f"{way} stored other rows than {ways[0]}")
            if way not in best or writing < best[way]["write_s"]:
                best[way] = {"write_s": round(writing, 4), "commit_s": round(committing, 4)}
    events = sum(len(b.writes[0][2]) for b in work)
    for figures in best.values():
        figures["write_us_per_event"] = round(1e6 * figures["write_s"] / events, 2)
    library = min((w for w in ways if w != "bulk_statement"), key=lambda w: best[w]["write_s"])
    speedup = best[library]["write_s"] / best["bulk_statement"]["write_s"]
    return {
        "ways": best,
        "best_library_way": library,
        "bulk_statement_speedup": round(speedup, 3),
        "keep_bulk_statement": speedup >= KEEP_RATIO,
    }


def run(
    events: int = 30_000, bases: int = 1000, batch: int = 500, rounds: int = 3
) -> dict[str, Any]:
    """The comparison on SQLite, and on PostgreSQL when NAVCYCLE_BENCH_POSTGRES_URL (or
    NAVCYCLE_TEST_POSTGRES_URL) names a server."""
    work = batches(events, bases, batch)
    rows = {
        kind: sum(len(r) for b in work for n, op, r in b.writes if (n, op) == kind)
        for kind in {(n, op) for b in work for n, op, _ in b.writes}
    }
    out: dict[str, Any] = {
        "events": events,
        "bases": bases,
        "batch": batch,
        "batches": len(work),
        "rounds": rounds,
        "rows": {f"{n} {op}": c for (n, op), c in sorted(rows.items()) if c},
        "keep_ratio": KEEP_RATIO,
    }
    plain = ["bulk_statement", "executemany", "insertmanyvalues"]
    out["sqlite"] = compare(sqlite_db, plain, work, rounds)
    pg = os.environ.get("NAVCYCLE_BENCH_POSTGRES_URL") or os.environ.get(
        "NAVCYCLE_TEST_POSTGRES_URL"
    )
    if pg:
        out["postgresql"] = compare(lambda: postgres_db(pg), [*plain, "copy"], work, rounds)
    else:
        out["postgresql"] = "skipped: NAVCYCLE_BENCH_POSTGRES_URL is not set"
    return out


def rows(figures: dict[str, Any]) -> list[Row]:
    """The table's rows: navcycle's way (``shared/bulk.py``) against ``BulkStatement``."""
    out: list[Row] = []
    for db in ("sqlite", "postgresql"):
        found = figures.get(db)
        if not isinstance(found, dict):
            continue
        ways = found["ways"]
        mine, reference = ways[NAVCYCLE_WAY[db]], ways["bulk_statement"]
        out.append(
            Row(
                f"dashboard writes, {db}: {NAVCYCLE_WAY[db]} vs BulkStatement",
                f"{mine['write_us_per_event']:,.1f} µs/ev",
                f"{reference['write_us_per_event']:,.1f} µs/ev",
                REPORT,
                ratio(mine["write_s"], reference["write_s"]),
            )
        )
    return out


if __name__ == "__main__":
    import json
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    print(json.dumps(run(events=size), indent=1))
