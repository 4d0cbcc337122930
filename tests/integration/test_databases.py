"""Service tables on SQLite and, when NAVCYCLE_TEST_POSTGRES_URL is set, on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from services.filings.tables import TABLES as FILINGS_TABLES
from services.registry import store
from services.registry.tables import TABLES as REGISTRY_TABLES
from shared.contracts.registry import BaseRegistration
from shared.db import create_tables, make_engine, session_scope
from tests.conftest import DATABASES, postgres_url
from tests.helpers import demo_rules


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
        create_tables(eng, [*REGISTRY_TABLES, *FILINGS_TABLES])
        yield eng
        return
    admin = make_engine(postgres_url())
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(postgres_url()).execution_options(schema_translate_map={None: schema})
    create_tables(eng, [*REGISTRY_TABLES, *FILINGS_TABLES])
    yield eng
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_rules_versions_only_grow_when_rules_change(engine: Engine) -> None:
    with session_scope(engine) as session:
        first, created = store.apply_rules(session, rules=demo_rules())
        assert created and first.version == 1
    with session_scope(engine) as session:
        same, created = store.apply_rules(session, rules=demo_rules())
        assert not created and same.version == 1
    with session_scope(engine) as session:
        changed, created = store.apply_rules(
            session, rules=demo_rules(calendar__plan_window="PT30S")
        )
        assert created and changed.version == 2
    with session_scope(engine) as session:
        current = store.current_rules(session, program="demo-fast")
        assert current is not None and current.document["calendar"]["plan_window"] == "PT30S"


def test_bases_page_skips_delisted_and_filters_regions(engine: Engine) -> None:
    regs = [
        ("a1", "410100", "active"),
        ("a2", "410300", "delisted"),
        ("a3", "410102", "active"),
        ("a4", "150100", "active"),
    ]
    with session_scope(engine) as session:
        for base_id, region, status in regs:
            row = store.add_base(
                session,
                program="p",
                reg=BaseRegistration(
                    id=base_id,
                    name=base_id,
                    region=region,
                    domain="新材料",
                    staff={"total": 10, "senior_full_time": 3},  # type: ignore[arg-type]
                ),
            )
            row.status = status
    with session_scope(engine) as session:
        page = store.bases_page(
            session, program="p", after=None, limit=2, exclude_status="delisted"
        )
        assert [b.id for b in page] == ["a1", "a3"]
        rest = store.bases_page(
            session, program="p", after="a3", limit=2, exclude_status="delisted"
        )
        assert [b.id for b in rest] == ["a4"]
        in_zhengzhou = store.list_bases(session, program="p", status=None, region="410100")
        assert [b.id for b in in_zhengzhou] == ["a1", "a3"]
        in_henan = store.list_bases(session, program="p", status="active", region="410000")
        assert [b.id for b in in_henan] == ["a1", "a3"]
