"""The gateway's clients, built once by its composition root and reached through ``Depends``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine
from temporalio.client import Client

from shared.objectstore import ObjectStore
from shared.rpc import RpcClient
from shared.settings import Settings


@dataclass
class Deps:
    settings: Settings
    temporal: Client
    nats: NatsClient
    rpc: RpcClient
    objects: ObjectStore
    users: Engine


async def get_deps(request: Request) -> Deps:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
