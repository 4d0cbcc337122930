"""Running a FastStream service process: one broker, its routers, a health responder."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from faststream import FastStream
from faststream.nats import NatsBroker, NatsRouter
from faststream.nats.annotations import NatsMessage

from shared.events.subjects import rpc_subject


def health_router(service: str, check: Callable[[], Awaitable[dict[str, str]]]) -> NatsRouter:
    router = NatsRouter()

    @router.subscriber(rpc_subject(service, "health"))
    async def health(msg: NatsMessage) -> bytes:
        try:
            detail = await check()
            return json.dumps({"ok": True, "data": {"status": "ok", **detail}}).encode()
        except Exception as exc:  # report, never crash the responder
            return json.dumps(
                {"ok": True, "data": {"status": "degraded", "error": str(exc)}}
            ).encode()

    return router


def make_app(broker: NatsBroker) -> FastStream:
    return FastStream(broker)
