"""Fixtures shared by the integration tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.db import make_engine
from shared.migrations import upgrade
from tests.helpers import fresh_database

PG_URL = os.environ.get("NAVCYCLE_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def dashboard_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The dashboard's migrated database: a SQLite file, and a fresh PostgreSQL database when
    NAVCYCLE_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
        upgrade(engine, DASHBOARD_MIGRATIONS)
        yield engine
        return
    if not PG_URL:
        pytest.skip("NAVCYCLE_TEST_POSTGRES_URL is not set")
    with fresh_database(PG_URL) as (_, url):
        engine = make_engine(url)
        upgrade(engine, DASHBOARD_MIGRATIONS)
        yield engine
        engine.dispose()
