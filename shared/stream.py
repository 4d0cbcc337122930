"""The JetStream stream that holds every event: the durable, replayable audit log."""

from __future__ import annotations

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError

from shared.retrying import retrying

EVENTS_STREAM = "NAVCYCLE_EVENTS"
EVENTS_SUBJECTS = ["navcycle.events.>"]
DLQ_STREAM = "NAVCYCLE_DLQ"
DLQ_SUBJECTS = ["navcycle.dlq.>"]
_STREAM_NAME_IN_USE = 10058  # JetStream API error code
_ATTEMPTS = 6


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
        # The audit log: no purge and no message deletion through the API. JetStream refuses
        # to turn either back off on an existing stream.
        deny_delete=True,
        deny_purge=True,
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


def _differs(current: StreamConfig, wanted: StreamConfig) -> bool:
    have = current.as_dict()
    return any(have.get(key) != value for key, value in wanted.as_dict().items())


async def _ensure(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        info = await js.stream_info(config.name or "")
        if not _differs(info.config, config):
            return  # the usual start: nothing to ask of the cluster's meta leader
    except NotFoundError:
        try:
            await js.add_stream(config)
            return
        except BadRequestError as exc:
            # Replicas of every service start together: another one created it first.
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
    # Brings an existing stream to our definition, its replica count included (R1 to R3 and
    # back is an online change on a cluster).
    await js.update_stream(config)


async def ensure_events_stream(
    js: JetStreamContext, duplicate_window_s: float, replicas: int = 1
) -> None:
    """Create the streams, or bring existing ones to our definition. Safe on every start, and
    from many processes at once. ``replicas`` above 1 needs a JetStream cluster of that size."""
    for config in (events_stream_config(duplicate_window_s, replicas), dlq_stream_config(replicas)):
        # A stream just created by another process has no leader for a moment.
        await retrying(on=(NatsTimeoutError, ServiceUnavailableError), attempts=_ATTEMPTS)(
            _ensure, js, config
        )
