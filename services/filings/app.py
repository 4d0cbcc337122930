"""The filings service: metadata of every filed document, versioned and never overwritten."""

from __future__ import annotations

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine
from sqlmodel import col, select

from services.filings.tables import DocumentRow
from shared.contracts.filings import (
    DocumentList,
    DocumentPublic,
    DocumentRecord,
    GetDocument,
    ListDocuments,
)
from shared.db import session_scope
from shared.logging import get_logger
from shared.objectstore import ObjectStore
from shared.rpc import Empty, RpcError, rpc_handler
from shared.service import rpc_subscriber, service_broker

log = get_logger("filings")
SERVICE = "filings"


def _public(row: DocumentRow) -> DocumentPublic:
    return DocumentPublic.model_validate(row, from_attributes=True)


def build_router(engine: Engine, objects: ObjectStore) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("documents.register")
    @rpc_handler(DocumentRecord)
    async def register(req: DocumentRecord) -> Empty:
        doc = req.document
        stored = await objects.stat(doc.key)
        if stored is None or stored.sha256 != doc.sha256:
            raise RpcError("document_missing", f"no stored object {doc.key} with that sha256", 409)
        with session_scope(engine) as session:
            existing = session.get(DocumentRow, doc.document_id)
            if existing is not None:
                if existing.sha256 != doc.sha256:
                    raise RpcError("document_conflict", "this document id has other content", 409)
                return Empty()  # a retried registration
            session.add(
                DocumentRow(
                    document_id=doc.document_id,
                    program=req.program,
                    year=req.year,
                    base=req.base,
                    kind=doc.kind,
                    version=doc.version,
                    key=doc.key,
                    sha256=doc.sha256,
                    size=doc.size,
                    content_type=doc.content_type,
                    filename=doc.filename,
                    filed_by=doc.filed_by,
                    filed_at=doc.filed_at,
                )
            )
        log.info("document.registered", document_id=doc.document_id, base=req.base, kind=doc.kind)
        return Empty()

    @subscriber("documents.get")
    @rpc_handler(GetDocument)
    async def get(req: GetDocument) -> DocumentPublic:
        with session_scope(engine) as session:
            row = session.get(DocumentRow, req.document_id)
        if row is None:
            raise RpcError("document_not_found", f"no document {req.document_id}", 404)
        return _public(row)

    @subscriber("documents.list")
    @rpc_handler(ListDocuments)
    async def list_(req: ListDocuments) -> DocumentList:
        with session_scope(engine) as session:
            rows = session.exec(
                select(DocumentRow)
                .where(
                    DocumentRow.program == req.program,
                    DocumentRow.year == req.year,
                    DocumentRow.base == req.base,
                )
                .order_by(col(DocumentRow.filed_at))
            )
            return DocumentList(documents=[_public(r) for r in rows])

    return router


def build_broker(nats_url: str | list[str], engine: Engine, objects: ObjectStore) -> NatsBroker:
    return service_broker(SERVICE, nats_url, engine, build_router(engine, objects), objects.check)
