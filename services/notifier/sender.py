"""The sender: delivers the outbox's due rows, a bounded number at once, each within a time limit.

It runs beside the event consumer in the notifier process. A delivery in flight does not hold up
the others: every one is its own task, and the loop keeps claiming while slots are free.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from services.notifier.delivery import DeliveryError, EmailChannel, WebhookChannel
from services.notifier.outbox import (
    DEAD,
    EMAIL,
    WEBHOOK,
    RetryPolicy,
    claim_due,
    record_failure,
    record_sent,
)
from services.notifier.tables import Delivery
from shared.logging import get_logger

log = get_logger("notifier.sender")


@dataclass(frozen=True)
class SenderLimits:
    concurrency: int = 8
    timeout_s: float = 10.0
    poll_s: float = 2.0
    lease_margin_s: float = 5.0  # how long past its time limit a claimed delivery stays held


class OutboxSender:
    def __init__(
        self,
        engine: Engine,
        *,
        webhooks: WebhookChannel | None,
        email: EmailChannel | None,
        policy: RetryPolicy | None = None,
        limits: SenderLimits | None = None,
    ) -> None:
        self._engine, self._webhooks, self._email = engine, webhooks, email
        self._policy = policy or RetryPolicy()
        self._limits = limits or SenderLimits()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """New deliveries were committed: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run(), name="notifier-sender")

    async def stop(self) -> None:
        """Stop claiming, let what is in flight finish within its time limit, then abandon the
        rest: its lease runs out and it is tried again."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._inflight:
            # An e-mail is sent in a thread that a cancel cannot stop: wait for it rather than
            # leave it talking to a server that is going away.
            await asyncio.wait(set(self._inflight), timeout=self._limits.timeout_s + 1)
        for task in list(self._inflight):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._webhooks is not None:
            await self._webhooks.aclose()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                self.dispatch_due()
            except Exception:
                log.exception("sender.claim_failed")  # a database outage: try at the next poll
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
            # lands as the wake-up comes, and stop() then waited for this loop for ever (a CI
            # run's notifier fixture hung in teardown).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._limits.poll_s):
                    await self._wake.wait()

    def dispatch_due(self) -> int:
        """Claim due deliveries for the free slots and start a task for each."""
        free = self._limits.concurrency - len(self._inflight)
        # The lease outlasts the attempt's time limit, so no other sender takes it meanwhile.
        lease_s = self._limits.timeout_s + self._limits.lease_margin_s
        rows = claim_due(self._engine, datetime.now(UTC), free, lease_s)
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self._inflight.add(task)
            task.add_done_callback(self._finished)
        return len(rows)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def _deliver(self, row: Delivery) -> None:
        try:
            await self._attempt(row)
        except Exception:
            # The outcome could not be recorded (the database is away): the claim's lease runs
            # out and the delivery is tried again; receivers drop the copy by its notice id.
            log.exception("delivery.unrecorded", delivery=row.id, notice=row.notice_key)

    async def _attempt(self, row: Delivery) -> None:
        assert row.id is not None
        try:
            await asyncio.wait_for(self._send(row), self._limits.timeout_s)
        except DeliveryError as exc:
            error = str(exc)
        except TimeoutError:
            error = f"timed out after {self._limits.timeout_s:g} s"
        except Exception as exc:
            log.exception("delivery.crashed", delivery=row.id)
            error = f"{type(exc).__name__}: {exc}"
        else:
            record_sent(self._engine, row.id, datetime.now(UTC))
            log.info("delivery.sent", delivery=row.id, notice=row.notice_key, channel=row.channel)
            return
        after = record_failure(self._engine, row.id, error, datetime.now(UTC), self._policy)
        if after is not None and after.status == DEAD:
            log.error(
                "delivery.dead_lettered",
                delivery=row.id,
                notice=row.notice_key,
                channel=row.channel,
                recipient=row.recipient,
                attempts=after.attempts,
                error=error,
            )
        else:
            log.warning("delivery.failed", delivery=row.id, attempts=row.attempts, error=error)

    async def _send(self, row: Delivery) -> None:
        if row.channel == WEBHOOK and self._webhooks is not None:
            await self._webhooks.send(
                row.recipient,
                row.payload.encode(),
                notice_key=row.notice_key,
                event_id=row.event_id,
            )
        elif row.channel == EMAIL and self._email is not None:
            mail = json.loads(row.payload)
            await self._email.send(
                row.recipient, mail["subject"], mail["body"], notice_key=row.notice_key
            )
        else:
            raise DeliveryError(f"the {row.channel} channel is not configured")
