"""Publishing events to JetStream with the event id as ``Nats-Msg-Id`` (de-duplication)."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext

from shared.events.envelope import CloudEvent


@dataclass(frozen=True)
class Published:
    stream_seq: int
    duplicate: bool


class EventPublisher:
    def __init__(self, js: JetStreamContext, timeout_s: float = 10.0) -> None:
        self._js = js
        self._timeout = timeout_s

    async def publish(self, event: CloudEvent) -> Published:
        ack = await self._js.publish(
            event.nats_subject,
            event.to_json(),
            timeout=self._timeout,
            headers={"Nats-Msg-Id": event.id, "Content-Type": "application/cloudevents+json"},
        )
        return Published(stream_seq=ack.seq, duplicate=bool(ack.duplicate))
