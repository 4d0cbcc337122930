"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.db import make_engine
from shared.migrations import upgrade
from tests.conftest import DATABASES, postgres_url
from tests.helpers import fresh_database


@pytest.fixture(params=DATABASES)
def dashboard_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The dashboard's migrated database: a SQLite file, and a fresh PostgreSQL database when
    NAVCYCLE_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
        upgrade(engine, DASHBOARD_MIGRATIONS)
        yield engine
        return
    with fresh_database(postgres_url()) as (_, url):
        engine = make_engine(url)
        upgrade(engine, DASHBOARD_MIGRATIONS)
        yield engine
        engine.dispose()
