"""The filings service: metadata of every filed document, versioned and never overwritten."""

from __future__ import annotations

import asyncio

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.filings import use_cases
from shared.contracts.filings import (
    DocumentList,
    DocumentPublic,
    DocumentRecord,
    GetDocument,
    ListDocuments,
)
from shared.objectstore import ObjectStore
from shared.rpc import Empty
from shared.service import rpc_subscriber, service_broker

SERVICE = "filings"


def build_router(engine: Engine, objects: ObjectStore) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("documents.register")
    async def register(req: DocumentRecord) -> Empty:
        stored = await objects.stat(req.document.key)
        return await asyncio.to_thread(use_cases.register_document, engine, req, stored)

    @subscriber("documents.get")
    async def get(req: GetDocument) -> DocumentPublic:
        return await asyncio.to_thread(use_cases.get_document, engine, req)

    @subscriber("documents.list")
    async def list_(req: ListDocuments) -> DocumentList:
        return await asyncio.to_thread(use_cases.list_documents, engine, req)

    return router


def build_broker(nats_url: str | list[str], engine: Engine, objects: ObjectStore) -> NatsBroker:
    return service_broker(SERVICE, nats_url, engine, build_router(engine, objects), objects.check)
