"""Building a FastStream service's broker: its routers and a health responder."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from faststream.nats import NatsBroker, NatsRouter
from nats.errors import ConnectionReconnectingError
from sqlalchemy import Engine

from shared.clients import RECONNECT_FOREVER, RECONNECT_WAIT_S
from shared.db import ping
from shared.events.subjects import rpc_subject
from shared.nats_auth import SHARED_INBOX, inbox_prefix
from shared.rpc import Empty, RpcErrors, ServiceHealth
from shared.settings import split_nats_urls

Check = Callable[[], Awaitable[None]]


class Part(Protocol):
    """Something a service runs beside its subscribers, such as a batch consumer."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ServiceBroker(NatsBroker):
    """A broker that starts the service's parts once it is connected, and stops them before it
    disconnects, so ``broker.start()`` and ``broker.stop()`` (or FastStream's app) run it all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parts: list[Part] = []
        self.inbox = str(kwargs.get("inbox_prefix", SHARED_INBOX))  # its user's answers

    def attach(self, part: Part) -> None:
        self._parts.append(part)

    async def start(self) -> None:
        await super().start()
        for part in self._parts:
            await part.start()

    async def stop(self, *exc_info: Any) -> None:
        for part in reversed(self._parts):
            await part.stop()
        connection = self._connection
        try:
            await super().stop(*exc_info)  # the subscribers, then a drain of the connection
        except ConnectionReconnectingError:
            # NATS is away: there is nothing to drain, and a process told to stop still stops,
            # cleanly. (Closed only now: a closed connection makes a pull consumer still
            # running fail its fetch at once, in a loop that never yields.)
            if connection is not None:
                with contextlib.suppress(OSError):  # its socket is gone with the server
                    await connection.close()
            self._connection = None
            self.config.disconnect()


def health_router(service: str, check: Callable[[], Awaitable[dict[str, str]]]) -> NatsRouter:
    router = NatsRouter()

    @router.subscriber(rpc_subject(service, "health"))
    async def health(_: Empty) -> ServiceHealth:
        try:
            detail = await check()
            return ServiceHealth.model_validate({"status": "ok", **detail})
        except Exception as exc:  # report, never crash the responder
            return ServiceHealth(status="degraded", error=str(exc))

    return router


def url_inbox_prefix(nats_url: str | list[str]) -> str:
    """The inbox of the user whose credentials the (first) URL carries: a service's answers
    come there, where no other user may read them."""
    first = split_nats_urls(nats_url)[0] if isinstance(nats_url, str) else nats_url[0]
    return inbox_prefix(urlsplit(first if "://" in first else f"nats://{first}").username)


def service_broker(
    service: str,
    nats_url: str | list[str],
    engine: Engine,
    router: NatsRouter,
    extra_check: Check | None = None,
) -> ServiceBroker:
    """A broker serving ``router``, answering health checks with its database (and more)."""

    async def check() -> dict[str, str]:
        ping(engine)
        if extra_check is not None:
            await extra_check()
        return {}

    broker = ServiceBroker(
        nats_url,
        logger=None,
        inbox_prefix=url_inbox_prefix(nats_url),
        # FastStream's default gives up after 60 tries (about two minutes without NATS).
        max_reconnect_attempts=RECONNECT_FOREVER,
        reconnect_time_wait=RECONNECT_WAIT_S,
    )
    broker.include_router(router)
    broker.include_router(health_router(service, check))
    return broker


def rpc_subscriber(router: NatsRouter, service: str):  # type: ignore[no-untyped-def]
    """``@subscriber("bases.get")`` for a service's request/reply subjects, on typed handlers
    (``async def get(req: GetBase) -> BasePublic``): one queue group per service, so its replicas
    share the requests, and :class:`RpcErrors`, so a refusal or a crash is an error reply.

    Handlers run their synchronous SQLModel sessions in a thread (``asyncio.to_thread`` around
    the use case), so a slow query or a held lock never stalls the loop that also answers the
    other requests, the health checks and the event consumers."""
    rpc = NatsRouter(middlewares=[RpcErrors])
    router.include_router(rpc)

    def subscriber(action: str):  # type: ignore[no-untyped-def]
        return rpc.subscriber(rpc_subject(service, action), queue=service)

    return subscriber
