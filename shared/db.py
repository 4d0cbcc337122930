"""Database engine and sessions: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, Engine, event, make_url
from sqlmodel import Session, SQLModel, create_engine


def normalise_url(url: str) -> str:
    # Plain ``postgresql://`` URLs (as in NAVCYCLE_TEST_POSTGRES_URL) use the psycopg 3 driver.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | URL, lock_wait_s: float | None = None) -> Engine:
    """An engine for ``url``. With ``lock_wait_s``, a lock held by another writer is waited for
    that long, then the statement fails with ``OperationalError`` (without it: SQLite waits 30 s,
    PostgreSQL as long as it takes)."""
    url = make_url(normalise_url(url) if isinstance(url, str) else url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_wait_s or 30.0}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if lock_wait_s is None:
        return create_engine(url, pool_pre_ping=True)
    lock_timeout = f"-c lock_timeout={max(1, int(lock_wait_s * 1000))}"
    return create_engine(url, pool_pre_ping=True, connect_args={"options": lock_timeout})


def impatient(engine: Engine, lock_wait_s: float = 0.1) -> Engine:
    """Another engine on ``engine``'s database that gives up on a held lock after
    ``lock_wait_s``: for work done on the event loop, which must not wait there."""
    options = engine.get_execution_options()
    return make_engine(engine.url, lock_wait_s=lock_wait_s).execution_options(**options)


def create_tables(engine: Engine, tables: Sequence[type[SQLModel]]) -> None:
    """Create only the given service's tables: each service owns its own."""
    SQLModel.metadata.create_all(engine, tables=[t.__table__ for t in tables])  # type: ignore[attr-defined]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
