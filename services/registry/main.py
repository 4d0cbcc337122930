"""Composition root of the registry process."""

from __future__ import annotations

from faststream import FastStream

from services.registry.app import build_broker, load_presets, seed_bases
from services.registry.calendars import load_bundled_calendars
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from shared.clients import ensure_streams
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import DEPLOY_DIR, Settings


async def serve(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_for("registry"))
    upgrade(engine, REGISTRY_MIGRATIONS)
    load_presets(engine, settings.programs_dir)
    load_bundled_calendars(engine, DEPLOY_DIR / "calendars")
    seed_bases(engine, settings.bases_file)
    await ensure_streams(settings)  # its outcome consumer reads the log, which may not exist yet
    await FastStream(build_broker(settings.nats_servers, engine)).run()
