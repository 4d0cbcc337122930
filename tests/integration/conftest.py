"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from minio import Minio
from sqlalchemy import Engine

from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.db import make_engine
from shared.migrations import upgrade
from shared.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore
from tests.conftest import DATABASES, postgres_url
from tests.helpers import fresh_database
from tests.servers import moto_s3


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


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    """Each object store test twice: on a local directory and on a moto S3 server."""
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "objects")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        client = Minio(endpoint, access_key="test", secret_key="test", secure=False)
        yield S3ObjectStore(client, f"navcycle-{tmp_path.name.lower().replace('_', '-')[:40]}")
