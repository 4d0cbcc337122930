"""The filings service's use cases, one function each: plain functions of the database and a
request model that return the reply model or raise ``RpcError``. The handlers in ``app.py`` run
them in a thread; tests call them directly, with no broker."""

from __future__ import annotations

from sqlalchemy import Engine, literal, tuple_
from sqlmodel import col, select

from services.filings.tables import DocumentRow
from shared import paging
from shared.contracts.filings import (
    DocumentList,
    DocumentPublic,
    DocumentRecord,
    GetDocument,
    ListDocuments,
)
from shared.db import session_scope
from shared.logging import get_logger
from shared.objectstore import StoredObject
from shared.rpc import Empty, RpcError, unknown_cursor

log = get_logger("filings")


def _public(row: DocumentRow) -> DocumentPublic:
    return DocumentPublic.model_validate(row, from_attributes=True)


def register_document(engine: Engine, req: DocumentRecord, stored: StoredObject | None) -> Empty:
    """Record a document a cycle accepted, once: ``stored`` is what the object store holds under
    its key (the handler asks the store), and must be the same bytes. A retried registration of
    the same document is a no-op; the same id with other content is refused."""
    doc = req.document
    if stored is None or stored.sha256 != doc.sha256:
        raise RpcError(
            "document_missing",
            f"没有该校验和的存储对象 — no stored object {doc.key} with that sha256",
            409,
        )
    with session_scope(engine) as session:
        existing = session.get(DocumentRow, doc.document_id)
        if existing is not None:
            if existing.sha256 != doc.sha256:
                raise RpcError(
                    "document_conflict",
                    "该文件编号已有其他内容 — this document id has other content",
                    409,
                )
            return Empty()
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


def get_document(engine: Engine, req: GetDocument) -> DocumentPublic:
    with session_scope(engine) as session:
        row = session.get(DocumentRow, req.document_id)
        if row is None:
            raise RpcError("document_not_found", f"没有该文件 — no document {req.document_id}", 404)
        return _public(row)


def list_documents(engine: Engine, req: ListDocuments) -> DocumentList:
    """A page of a base's documents of one program year, in the order they were filed:
    ``req.limit`` at most and never more JSON than the reply budget; ``next_cursor`` (the last
    document's id) when more follow."""
    where = [
        col(DocumentRow.program) == req.program,
        col(DocumentRow.year) == req.year,
        col(DocumentRow.base) == req.base,
    ]
    order = (col(DocumentRow.filed_at), col(DocumentRow.document_id))
    with session_scope(engine) as session:
        if req.cursor:
            last = session.get(DocumentRow, req.cursor)
            if last is None or (last.program, last.year, last.base) != (
                req.program,
                req.year,
                req.base,
            ):
                raise unknown_cursor(req.cursor)
            where.append(tuple_(*order) > tuple_(literal(last.filed_at), literal(last.document_id)))
        rows = session.exec(select(DocumentRow).where(*where).order_by(*order).limit(req.limit + 1))
        found = [_public(r) for r in rows]
    page, more = paging.cut(found, limit=req.limit, size_of=paging.model_size)
    return DocumentList(documents=page, next_cursor=page[-1].document_id if more else None)
