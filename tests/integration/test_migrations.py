"""Every service's migrations build exactly its models, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from services.assessment.tables import MIGRATIONS as ASSESSMENT
from services.dashboard.tables import MIGRATIONS as DASHBOARD
from services.filings.tables import MIGRATIONS as FILINGS
from services.gateway.identity.tables import MIGRATIONS as GATEWAY
from services.notifier.tables import MIGRATIONS as NOTIFIER
from services.registry.tables import MIGRATIONS as REGISTRY
from shared.db import make_engine
from shared.migrations import upgrade
from tests.conftest import DATABASES, postgres_url

SERVICES = [REGISTRY, FILINGS, ASSESSMENT, NOTIFIER, DASHBOARD, GATEWAY]


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        return
    schema = f"m_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield make_engine(postgres_url() + f"?options=-csearch_path%3D{schema}")
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_migrations_match_the_models_and_run_twice(engine: Engine) -> None:
    for service in SERVICES:
        upgrade(engine, service)
        upgrade(engine, service)  # at head already: nothing to do
    tables = set(inspect(engine).get_table_names())
    for service in SERVICES:
        assert {t.__tablename__ for t in service.tables} <= tables, service.service
        assert all(str(t.__tablename__).startswith(service.prefix) for t in service.tables)
        assert service.version_table in tables
    prefixes = tuple(service.prefix for service in SERVICES)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"include_object": lambda o, n, t, r, c: t != "table" or n.startswith(prefixes)},
        )
        diff = [
            d
            for d in compare_metadata(context, SQLModel.metadata)
            if "alembic_version" not in str(d)
        ]
    assert diff == []
