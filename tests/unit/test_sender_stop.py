"""The notifier's sender stops when told, even when a wake-up lands with the stop: on Python 3.11
``asyncio.wait_for`` swallows a cancel that arrives as its wait completes, and the sender's loop
then ran on for ever (a CI run's notifier fixture hung in teardown until pytest-timeout)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.notifier.sender import OutboxSender, SenderLimits
from services.notifier.tables import MIGRATIONS
from shared.db import make_engine
from shared.migrations import upgrade


async def test_a_wake_up_landing_with_the_stop_does_not_keep_the_sender_running(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    upgrade(engine, MIGRATIONS)
    for _ in range(20):
        sender = OutboxSender(engine, webhooks=None, email=None, limits=SenderLimits(poll_s=0.05))
        await sender.start()
        await asyncio.sleep(0)  # the loop is waiting for a wake-up
        sender.wake()  # ... which comes with the stop
        loop = asyncio.get_running_loop()
        began = loop.time()
        # Bounded: a stop that hangs is given up after 5 s (its own cancel is swallowed too).
        await asyncio.wait_for(sender.stop(), 5)
        assert loop.time() - began < 2
