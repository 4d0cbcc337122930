"""Composition root of the gateway process."""

from __future__ import annotations

import uvicorn

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from shared.clients import connect_nats, object_store
from shared.db import make_engine
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.settings import Settings
from shared.temporal import connect_temporal


def build(settings: Settings):  # type: ignore[no-untyped-def]
    settings.state_dir.mkdir(parents=True, exist_ok=True)  # the SQLite default lives there
    users = make_engine(settings.database_url_for("gateway"))
    upgrade(users, GATEWAY_MIGRATIONS)

    async def build_deps() -> Deps:
        nc = await connect_nats(settings, "gateway")
        temporal = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
        return Deps(
            settings=settings,
            temporal=temporal,
            nats=nc,
            rpc=RpcClient(nc, settings.rpc_timeout_s),
            objects=object_store(settings),
            users=users,
        )

    async def close_deps(deps: Deps) -> None:
        await deps.nats.drain()

    return create_app(build_deps, close_deps)


async def serve(settings: Settings) -> None:
    config = uvicorn.Config(
        build(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    await uvicorn.Server(config).serve()
