"""Request/reply contracts of the filings service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contracts.cycle import DocumentRef
from shared.contracts.strict import StrictModel
from shared.paging import MAX_PAGE


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
    """A page of a base's documents of one program year, as filed, after the document
    ``cursor`` names (``documents.list``)."""

    program: str
    year: int
    base: str
    cursor: str | None = Field(None, max_length=64, description="next_cursor of the page before")
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class DocumentList(BaseModel):
    documents: list[DocumentPublic]
    next_cursor: str | None = Field(None, description="ask again with this cursor for more")
