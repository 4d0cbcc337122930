"""Request/reply contracts of the filings service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.contracts.cycle import DocumentRef
from shared.contracts.strict import StrictModel


class DocumentRecord(StrictModel):
    """A document a cycle accepted, recorded by the filings service (``documents.register``)."""

    program: str
    year: int
    base: str
    document: DocumentRef


class DocumentPublic(BaseModel):
    document_id: str
    program: str
    year: int
    base: str
    kind: str
    version: int
    key: str
    sha256: str
    size: int
    content_type: str
    filename: str
    filed_by: str
    filed_at: datetime


class GetDocument(BaseModel):
    document_id: str


class ListDocuments(BaseModel):
    program: str
    year: int
    base: str


class DocumentList(BaseModel):
    documents: list[DocumentPublic]
