"""The PDF notice rendered when the results are published, not when the first reader asks.

The gateway hears the dashboard's ``navcycle.projection.updated.<program>.<year>`` notes (the
event subject its NATS user may read). A note naming a ``results.published`` or
``results.corrected`` event makes it forget the year's remembered notice (so the new 补充公示 is
served at once) and render the latest notice's PDF in the background, in the render process at a
low priority, into the object store. The crowd that follows a publication then finds it there
and in the cache: no request waits for the rendering or competes with it. A notice stored with
no event renders on the first request, once, as before; a gateway that was down at publication
finds the PDF another gateway stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from pydantic import ValidationError
from starlette.datastructures import State

from services.gateway.routes.documents import export, exports_of, notice_refs_of
from shared.contracts.dashboard import ProjectionUpdated
from shared.events.types import EventType
from shared.logging import get_logger
from shared.nats_auth import PROJECTION_UPDATED

log = get_logger("gateway")
WARM_FORMATS = ("pdf",)  # the costly one; CSV and XLSX render in well under a second
PUBLICATIONS = {
    f"navcycle.{t.value}" for t in (EventType.RESULTS_PUBLISHED, EventType.RESULTS_CORRECTED)
}

Stop = Callable[[], Awaitable[None]]


def publication(note: ProjectionUpdated) -> bool:
    """Whether a projection note applied a publication of results (the 公示 or a 补充公示)."""
    return any(e.type in PUBLICATIONS for e in note.events)


async def warm(state: State, program: str, year: int) -> None:
    """Render the latest notice of a program year in every warmed format, into the object
    store (or find it there) and the cache."""
    notice_refs_of(state).forget(program, year)
    for format in WARM_FORMATS:
        try:
            await export(
                state.deps, exports_of(state), notice_refs_of(state), program, year, None, format
            )
        except Exception as exc:  # a reader's request renders it then (ApiError too)
            log.warning(
                "export.warm_failed", program=program, year=year, format=format, error=str(exc)
            )


async def start(state: State) -> Stop:
    """Listen for publications; the function that stops listening and warming."""
    nc = state.deps.nats
    if nc is None:  # a gateway without NATS (some tests): exports render on first request
        return _nothing
    warming: set[asyncio.Task[None]] = set()

    async def heard(msg: Msg) -> None:
        try:
            note = ProjectionUpdated.model_validate_json(msg.data)
        except ValidationError:
            return
        if publication(note):
            task = asyncio.create_task(warm(state, note.program, note.year))
            warming.add(task)
            task.add_done_callback(warming.discard)

    try:
        sub = await nc.subscribe(PROJECTION_UPDATED, cb=heard)
    except Exception as exc:  # an optimisation only: without it, exports render on first request
        log.warning("export.warm_unavailable", error=str(exc))
        return _nothing

    async def stop() -> None:
        await sub.unsubscribe()
        for task in list(warming):
            task.cancel()
        await asyncio.gather(*warming, return_exceptions=True)

    return stop


async def _nothing() -> None:
    pass
