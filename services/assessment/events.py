"""The assessment service's own events: ``expert.assigned`` and ``expert.reassigned``.

Ids are deterministic per (program, year, base, round, expert), so a retried RPC or the
review.opened consumer publishing the same assignment again is dropped by JetStream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime

from faststream.nats import NatsBroker

from services.assessment.store import Replacement
from services.assessment.tables import AssignmentRow
from shared.events.envelope import CloudEvent, new_event
from shared.events.payloads import ExpertAssigned, ExpertReassigned
from shared.publisher import EventPublisher

SOURCE = "navcycle/assessment"


def _key(program: str, year: int, base: str, round_: int, expert: str) -> str:
    return f"assessment/{program}/{year}/{base}/{round_}/{expert}"


def assigned(rows: Iterable[AssignmentRow], at: datetime) -> list[CloudEvent]:
    """One ``expert.assigned`` per expert: the notifier tells each one, with the deadline."""
    return [
        new_event(
            payload=ExpertAssigned(
                program=r.program,
                year=r.year,
                base=r.base,
                round=r.round,
                expert=r.expert,
                due=r.due.isoformat() if r.due else None,
            ),
            program=r.program,
            year=r.year,
            base=r.base,
            time=at,
            stream_key=_key(r.program, r.year, r.base, r.round, r.expert),
            sequence=1,
            source=SOURCE,
        )
        for r in rows
    ]


def reassigned(
    *,
    program: str,
    year: int,
    base: str,
    round_: int,
    replacements: Iterable[Replacement],
    by: str,
    reason: str,
    at: datetime,
) -> list[CloudEvent]:
    """One ``expert.reassigned`` per replaced expert: who took the place, who decided, why."""
    return [
        new_event(
            payload=ExpertReassigned(
                program=program,
                year=year,
                base=base,
                round=round_,
                replaced=r.replaced,
                expert=r.by,
                by=by,
                reason=reason,
            ),
            program=program,
            year=year,
            base=base,
            time=at,
            stream_key=_key(program, year, base, round_, r.replaced),
            sequence=1,
            source=SOURCE,
        )
        for r in replacements
    ]


class Events:
    """Publishes on the service's own connection, once its broker is connected."""

    def __init__(self) -> None:
        self._broker: NatsBroker | None = None

    def bind(self, broker: NatsBroker) -> None:
        self._broker = broker

    async def publish(self, events: Iterable[CloudEvent]) -> None:
        if self._broker is None:
            raise RuntimeError("the assessment events are not bound to a broker")
        publisher = EventPublisher(self._broker.connection.jetstream())
        for event in events:
            await publisher.publish(event)

    def from_thread(self) -> Callable[[list[CloudEvent]], None]:
        """A publish for a use case running in a worker thread (``asyncio.to_thread``), made on
        the event loop: it has the loop publish and waits until JetStream has them."""
        loop = asyncio.get_running_loop()

        def publish(events: list[CloudEvent]) -> None:
            if events:
                asyncio.run_coroutine_threadsafe(self.publish(events), loop).result()

        return publish
