"""Composition root of the filings process."""

from __future__ import annotations

from faststream import FastStream

from services.filings.app import build_broker
from services.filings.tables import MIGRATIONS as FILINGS_MIGRATIONS
from shared.clients import object_store
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import Settings


async def serve(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_for("filings"))
    upgrade(engine, FILINGS_MIGRATIONS)
    await FastStream(build_broker(settings.nats_servers, engine, object_store(settings))).run()
