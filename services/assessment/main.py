"""Composition root of the assessment process."""

from __future__ import annotations

from faststream import FastStream

from services.assessment.app import build_broker
from services.assessment.tables import MIGRATIONS as ASSESSMENT_MIGRATIONS
from shared.clients import ensure_streams
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import Settings


async def serve(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_for("assessment"))
    upgrade(engine, ASSESSMENT_MIGRATIONS)
    await ensure_streams(settings)
    await FastStream(build_broker(settings.nats_servers, engine)).run()
