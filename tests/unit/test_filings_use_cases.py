"""The filings service's use cases called directly, on a SQLite file and with no broker: a
document is recorded once, a retry is a no-op, and the refusals carry their stable codes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.filings import use_cases
from services.filings.tables import MIGRATIONS as FILINGS_MIGRATIONS
from shared.contracts.cycle import DocumentRef
from shared.contracts.filings import DocumentRecord, GetDocument, ListDocuments
from shared.db import make_engine
from shared.migrations import upgrade
from shared.objectstore import StoredObject
from shared.rpc import RpcError

FILED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path / 'filings.db'}")
    upgrade(db, FILINGS_MIGRATIONS)
    yield db
    db.dispose()


def record(document_id: str, sha: str, version: int = 1, base: str = "b1") -> DocumentRecord:
    ref = DocumentRef(
        document_id=document_id,
        kind="plan",
        version=version,
        key=f"p/2026/{base}/plan/v{version}.pdf",
        sha256=sha,
        size=3,
        content_type="application/pdf",
        filename="plan.pdf",
        filed_by="base:b1",
        filed_at=FILED + timedelta(minutes=version),
    )
    return DocumentRecord(program="p", year=2026, base=base, document=ref)


def stored(req: DocumentRecord) -> StoredObject:
    doc = req.document
    return StoredObject(doc.key, doc.size, doc.sha256, doc.content_type)


def test_a_recorded_document_is_read_back_and_listed_in_filing_order(engine: Engine) -> None:
    second, first = record("d2", "b" * 64, version=2), record("d1", "a" * 64)
    use_cases.register_document(engine, second, stored(second))
    use_cases.register_document(engine, first, stored(first))
    use_cases.register_document(engine, first, stored(first))  # a retried registration

    got = use_cases.get_document(engine, GetDocument(document_id="d1"))
    assert (got.base, got.kind, got.version, got.sha256) == ("b1", "plan", 1, "a" * 64)
    listed = use_cases.list_documents(engine, ListDocuments(program="p", year=2026, base="b1"))
    assert [d.document_id for d in listed.documents] == ["d1", "d2"]
    other = use_cases.list_documents(engine, ListDocuments(program="p", year=2026, base="b2"))
    assert other.documents == []


def test_a_document_not_in_the_store_is_refused_and_not_recorded(engine: Engine) -> None:
    req = record("d1", "a" * 64)
    other_bytes = StoredObject(req.document.key, 3, "f" * 64, "application/pdf")
    for held in (None, other_bytes):
        with pytest.raises(RpcError) as caught:
            use_cases.register_document(engine, req, held)
        assert (caught.value.code, caught.value.status) == ("document_missing", 409)
    with pytest.raises(RpcError) as missing:
        use_cases.get_document(engine, GetDocument(document_id="d1"))
    assert (missing.value.code, missing.value.status) == ("document_not_found", 404)


def test_the_same_document_id_with_other_content_is_a_conflict(engine: Engine) -> None:
    first = record("d1", "a" * 64)
    use_cases.register_document(engine, first, stored(first))
    changed = record("d1", "c" * 64)
    with pytest.raises(RpcError) as caught:
        use_cases.register_document(engine, changed, stored(changed))
    assert (caught.value.code, caught.value.status) == ("document_conflict", 409)
    kept = use_cases.get_document(engine, GetDocument(document_id="d1"))
    assert kept.sha256 == "a" * 64
