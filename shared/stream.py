"""The JetStream stream that holds every event: the durable, replayable audit log."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

EVENTS_STREAM = "NAVCYCLE_EVENTS"
EVENTS_SUBJECTS = ["navcycle.events.>"]


def events_stream_config(duplicate_window_s: float, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=EVENTS_STREAM,
        description="navcycle events (CloudEvents JSON); the audit log, kept forever",
        subjects=EVENTS_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        duplicate_window=duplicate_window_s,
        num_replicas=replicas,
    )


async def ensure_events_stream(
    js: JetStreamContext, duplicate_window_s: float, replicas: int = 1
) -> None:
    """Create the stream, or bring an existing one to our definition. Safe to call every start."""
    config = events_stream_config(duplicate_window_s, replicas)
    try:
        await js.stream_info(EVENTS_STREAM)
    except NotFoundError:
        await js.add_stream(config)
        return
    await js.update_stream(config)
