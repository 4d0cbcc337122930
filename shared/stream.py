"""The JetStream stream that holds every event: the durable, replayable audit log."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

EVENTS_STREAM = "NAVCYCLE_EVENTS"
EVENTS_SUBJECTS = ["navcycle.events.>"]
DLQ_STREAM = "NAVCYCLE_DLQ"
DLQ_SUBJECTS = ["navcycle.dlq.>"]


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


def dlq_stream_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=DLQ_STREAM,
        description="events a consumer could not process, with the reason in headers",
        subjects=DLQ_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=0,
        num_replicas=replicas,
    )


async def _ensure(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
        return
    await js.update_stream(config)


async def ensure_events_stream(
    js: JetStreamContext, duplicate_window_s: float, replicas: int = 1
) -> None:
    """Create the streams, or bring existing ones to our definition. Safe on every start."""
    await _ensure(js, events_stream_config(duplicate_window_s, replicas))
    await _ensure(js, dlq_stream_config(replicas))
