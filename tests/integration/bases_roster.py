"""A registry and an assessment service of their own: a nats-server and migrated databases
(SQLite, and PostgreSQL when NAVCYCLE_TEST_POSTGRES_URL is set), apart from the session stack,
so their queue groups answer only these tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine

from services.assessment.app import build_broker as assessment_broker
from services.assessment.tables import MIGRATIONS as ASSESSMENT_MIGRATIONS
from services.registry import store
from services.registry.app import build_broker as registry_broker
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from shared.contracts.registry import BaseRegistration
from shared.db import make_engine, session_scope
from shared.domain.rules import ProgramRules
from shared.migrations import upgrade
from shared.rpc import Empty, RpcClient, ServiceHealth, ServiceUnavailable
from shared.stream import ensure_events_stream
from tests.conftest import postgres_url
from tests.helpers import fresh_database, until
from tests.servers import nats_server


@dataclass
class Services:
    nc: NatsClient
    rpc: RpcClient
    nats_url: str
    registry_db: Engine
    assessment_db: Engine


@contextmanager
def _databases(kind: str, root: Path) -> Iterator[tuple[Engine, Engine]]:
    if kind == "sqlite":
        yield (
            make_engine(f"sqlite:///{root / 'registry.db'}"),
            make_engine(f"sqlite:///{root / 'assessment.db'}"),
        )
        return
    with ExitStack() as stack:
        _, reg = stack.enter_context(fresh_database(postgres_url()))
        _, ass = stack.enter_context(fresh_database(postgres_url()))
        engines = (make_engine(reg), make_engine(ass))
        yield engines
        for engine in engines:
            engine.dispose()


@asynccontextmanager
async def running_services(kind: str, root: Path) -> AsyncIterator[Services]:
    """Use from a fixture with ``params=["sqlite", "postgresql"]``."""
    with _databases(kind, root) as (reg, ass), nats_server(root / "nats") as url:
        upgrade(reg, REGISTRY_MIGRATIONS)
        upgrade(ass, ASSESSMENT_MIGRATIONS)
        nc = await nats.connect(url)
        await ensure_events_stream(nc.jetstream(), duplicate_window_s=120)
        brokers = [registry_broker(url, reg), assessment_broker(url, ass)]
        for broker in brokers:
            await broker.start()
        rpc = RpcClient(nc, 2)
        for service in ("registry", "assessment"):
            # Started is not yet heard: the first request may beat the subscription to the
            # server ("no assessment service is running"), so each must answer first.
            await until(
                lambda s=service: rpc.call(s, "health", Empty(), ServiceHealth),  # type: ignore[misc]
                what=f"the {service} service answering",
                ignoring=ServiceUnavailable,
            )
        try:
            yield Services(nc, RpcClient(nc), url, reg, ass)
        finally:
            for broker in brokers:
                await broker.stop()
            await nc.drain()


def add_program(engine: Engine, rules: ProgramRules) -> None:
    with session_scope(engine) as session:
        store.apply_rules(session, rules=rules)


def add_base(engine: Engine, program: str, base: str, domain: str = "新材料") -> None:
    reg = BaseRegistration.model_validate(
        {
            "id": base,
            "name": base,
            "region": "410100",
            "domain": domain,
            "staff": {"total": 10, "senior_full_time": 5},
        }
    )
    with session_scope(engine) as session:
        store.add_base(session, program=program, reg=reg)
