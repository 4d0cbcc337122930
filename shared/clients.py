"""Builders for the clients every composition root needs, from settings."""

from __future__ import annotations

import nats
from nats.aio.client import Client as NatsClient

from shared.nats_auth import inbox_prefix
from shared.objectstore import ObjectStore, open_object_store
from shared.settings import Settings


async def connect_nats(settings: Settings, name: str) -> NatsClient:
    credentials = settings.nats_credentials()
    return await nats.connect(
        servers=settings.nats_servers,
        name=f"navcycle-{name}",
        # The gateway's and the worker's answers come to inboxes only they may read.
        inbox_prefix=inbox_prefix(credentials[0] if credentials else None),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
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
