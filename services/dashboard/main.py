"""Composition root of the dashboard process."""

from __future__ import annotations

from faststream import FastStream

from services.dashboard.app import build_broker
from services.dashboard.rebuild import CHECKPOINT
from services.dashboard.store import checkpoint
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.clients import ensure_streams
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import Settings


async def serve(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_for("dashboard"))
    upgrade(engine, DASHBOARD_MIGRATIONS)
    await ensure_streams(settings)
    # The durable consumer resumes where it stopped; if NATS lost it, the stored checkpoint says
    # where to start again, rather than sequence 1.
    start_after = checkpoint(engine, CHECKPOINT)
    await FastStream(build_broker(settings.nats_servers, engine, start_after)).run()
