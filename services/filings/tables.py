"""The filings service's table: document metadata. The bytes live in object storage."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.migrations import ServiceMigrations


class DocumentRow(SQLModel, table=True):
    __tablename__ = "filings_documents"
    __table_args__ = (UniqueConstraint("program", "year", "base", "kind", "version"),)

    document_id: str = Field(primary_key=True, max_length=64)
    program: str = Field(index=True, max_length=64)
    year: int = Field(index=True)
    base: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=32)
    version: int
    key: str = Field(max_length=512)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(max_length=128)
    filename: str = Field(max_length=255)
    filed_by: str = Field(max_length=128)
    filed_at: datetime


TABLES: list[type[SQLModel]] = [DocumentRow]

# What the shared migration runner migrates for this service (tables filings_*).
MIGRATIONS = ServiceMigrations("filings", Path(__file__).parent / "migrations", TABLES)
