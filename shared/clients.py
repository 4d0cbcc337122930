"""Builders for the clients every composition root needs, from settings."""

from __future__ import annotations

from typing import Any

import nats
from nats.aio.client import Client as NatsClient

from shared.nats_auth import inbox_prefix
from shared.objectstore import ObjectStore, open_object_store
from shared.settings import Settings

# Every NATS client reconnects for as long as its process runs: a connection closed for good
# leaves FastStream's pull consumers in a loop that never yields (a core busy, SIGTERM unheard).
RECONNECT_FOREVER = -1
RECONNECT_WAIT_S = 1


def nats_options(settings: Settings) -> dict[str, Any]:
    """The servers with the process's credentials, and the inbox its user may read (the
    gateway's and the worker's answers come to inboxes only they may read)."""
    credentials = settings.nats_credentials()
    return {
        "servers": settings.nats_servers,
        "inbox_prefix": inbox_prefix(credentials[0] if credentials else None),
    }


async def connect_nats(settings: Settings, name: str) -> NatsClient:
    return await nats.connect(
        **nats_options(settings),
        name=f"navcycle-{name}",
        max_reconnect_attempts=RECONNECT_FOREVER,
        reconnect_time_wait=RECONNECT_WAIT_S,
    )


def object_store(settings: Settings) -> ObjectStore:
    return open_object_store(
        objects_dir=settings.objects_dir,
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value() if settings.s3_access_key else None,
        secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
        bucket=settings.s3_bucket,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


async def ensure_streams(settings: Settings) -> None:
    """Consumers may start before the worker: make sure the streams they read exist."""
    from shared.stream import ensure_events_stream

    nc = await connect_nats(settings, "setup")
    try:
        await ensure_events_stream(
            nc.jetstream(), settings.event_duplicate_window_s, settings.stream_replicas
        )
    finally:
        await nc.close()
