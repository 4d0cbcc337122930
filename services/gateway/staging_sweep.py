"""Staged uploads a crash left behind are removed.

A request removes what it staged and did not promote (``upload_stream.py``), however it ends;
only a gateway that dies mid-upload leaves a staging object (or a local temporary file). The
gateway sweeps them at start and every ``EVERY`` after: anything under ``staging/`` older than
``OLDER_THAN``, far longer than an upload takes, so a running upload is never swept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from services.gateway.upload_stream import STAGING
from shared.logging import get_logger
from shared.objectstore import ObjectStore

OLDER_THAN = timedelta(hours=1)
EVERY = timedelta(hours=1)

log = get_logger("gateway")
Stop = Callable[[], Awaitable[None]]


async def sweep_staging(objects: ObjectStore, older_than: timedelta = OLDER_THAN) -> list[str]:
    """Remove the staging objects older than ``older_than``; their keys. Never raises: a
    failed sweep is logged and tried again at the next round."""
    try:
        removed = await objects.sweep(STAGING, older_than)
    except Exception as exc:
        log.warning("upload.staging_sweep_failed", error=str(exc))
        return []
    if removed:
        log.info("upload.staging_swept", count=len(removed), keys=removed[:20])
    return removed


async def start(objects: ObjectStore | None, every: timedelta = EVERY) -> Stop:
    """Sweep now and every ``every``; the function that stops sweeping."""

    if objects is None:  # a gateway without a store (some tests): nothing to sweep
        return _nothing
    task = asyncio.create_task(_rounds(objects, every))

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop


async def _rounds(objects: ObjectStore, every: timedelta) -> None:
    while True:
        await sweep_staging(objects)
        await asyncio.sleep(every.total_seconds())


async def _nothing() -> None:
    return None
