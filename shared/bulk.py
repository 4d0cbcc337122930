"""Many rows written in one go, the libraries' ways: psycopg ``COPY`` on PostgreSQL, SQLAlchemy's
own ``executemany`` elsewhere (SQLite).

Chosen by ``bench/bulk_write.py`` (the pipeline benchmark's ``bulk_write`` figures): on
PostgreSQL ``COPY`` is the fastest library way and as fast as or faster than the hand-written
``BulkStatement`` it replaced; on SQLite ``executemany`` is the fastest library way, 1.8-2.4x
slower on the writes than ``BulkStatement`` was (the rule kept that only if faster by 1.5x on
both databases).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Dialect, Table, bindparam
from sqlmodel import Session

Rows = Sequence[dict[str, Any]]


def insert_rows(session: Session, table: Table, rows: Rows) -> None:
    """Insert ``rows`` (values by column name) into ``table``."""
    if not rows:
        return
    if _copies(session):
        copy_insert(session, table, rows)
    else:
        session.execute(table.insert(), list(rows))


def update_rows(session: Session, table: Table, key: Sequence[str], rows: Rows) -> None:
    """Update rows of ``table`` by ``key``: each row has the key's values as ``pk_<column>`` and
    every other column's new value by name."""
    if not rows:
        return
    if _copies(session):
        copy_update(session, table, key, rows)
    else:
        session.execute(update_statement(table, key), list(rows))


def update_statement(table: Table, key: Sequence[str]) -> Any:
    """One row by key, the key bound as ``pk_<column>`` (a bound column name would be SET)."""
    return (
        table.update()
        .where(*(table.c[k] == bindparam(f"pk_{k}") for k in key))
        .values({c.name: bindparam(c.name) for c in table.columns if c.name not in key})
    )


def _copies(session: Session) -> bool:
    connection = session.connection()
    return connection.dialect.name == "postgresql" and not connection.get_execution_options().get(
        "schema_translate_map"  # tables renamed per connection: SQLAlchemy knows their names
    )


def _cursor(session: Session) -> Any:
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def _dialect(session: Session) -> Dialect:
    return session.connection().dialect


def copy_insert(session: Session, table: Table, rows: Rows) -> None:
    """psycopg ``COPY ... FROM STDIN`` into ``table``."""
    columns = [c.name for c in table.columns]
    with _cursor(session) as cursor:
        values = ([row[c] for c in columns] for row in rows)
        _copy(cursor, _dialect(session), table.name, table, columns, values)


def copy_update(session: Session, table: Table, key: Sequence[str], rows: Rows) -> None:
    """``COPY`` the rows into a temporary table like ``table``, then one ``UPDATE ... FROM`` it."""
    rest = [c.name for c in table.columns if c.name not in key]
    temp = f"_bulk_{table.name}"
    with _cursor(session) as cursor:
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" (LIKE "{table.name}") ON COMMIT DELETE ROWS'
        )
        values = ([row[f"pk_{k}"] for k in key] + [row[c] for c in rest] for row in rows)
        _copy(cursor, _dialect(session), temp, table, [*key, *rest], values)
        sets = ", ".join(f'"{c}" = s."{c}"' for c in rest)
        match = " AND ".join(f't."{k}" = s."{k}"' for k in key)
        cursor.execute(f'UPDATE "{table.name}" AS t SET {sets} FROM "{temp}" AS s WHERE {match}')
        cursor.execute(f'DELETE FROM "{temp}"')  # the next batch in this transaction starts empty


def _copy(
    cursor: Any,
    dialect: Dialect,
    target: str,
    table: Table,
    columns: list[str],
    rows: Iterable[list[Any]],
) -> None:
    """``COPY`` rows (values in the order of ``columns``, typed as in ``table``) into ``target``,
    each value first through its column type's bind processor, as SQLAlchemy would send it
    (e.g. ``UTCDateTime`` refuses a naive time and converts to UTC)."""
    processors = [
        (i, process)
        for i, c in enumerate(columns)
        if (process := table.c[c].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{target}" ({quoted}) FROM STDIN') as copy:
        for values in rows:
            for i, process in processors:
                values[i] = process(values[i])
            copy.write_row(values)
