"""The filings service's handlers through FastStream's in-memory ``TestNatsBroker`` and the real
``RpcClient``: the broker ``build_broker`` makes, a SQLite file and a local object store. A
recorded document comes back typed; a refusal is an error reply with its stable code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import TestNatsBroker

from services.filings.app import build_broker
from services.filings.tables import MIGRATIONS as FILINGS_MIGRATIONS
from shared.contracts.filings import (
    DocumentList,
    DocumentPublic,
    DocumentRecord,
    GetDocument,
    ListDocuments,
)
from shared.db import make_engine
from shared.migrations import upgrade
from shared.objectstore import LocalObjectStore, ObjectStore
from shared.rpc import Empty, RpcClient, RpcError
from tests.unit.test_filings_use_cases import record


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
async def rpc(tmp_path: Path, objects: ObjectStore) -> AsyncIterator[RpcClient]:
    engine = make_engine(f"sqlite:///{tmp_path / 'filings.db'}")
    upgrade(engine, FILINGS_MIGRATIONS)
    async with TestNatsBroker(build_broker("nats://127.0.0.1:1", engine, objects)) as broker:
        yield RpcClient(broker)
    engine.dispose()


async def _filed(objects: ObjectStore, document_id: str, data: bytes) -> DocumentRecord:
    stored = await objects.put(f"p/2026/b1/plan/{document_id}.pdf", data, "application/pdf")
    req = record(document_id, stored.sha256)
    return req.model_copy(
        update={"document": req.document.model_copy(update={"key": stored.key, "size": 3})}
    )


async def test_a_stored_document_is_registered_and_read_back(
    rpc: RpcClient, objects: ObjectStore
) -> None:
    req = await _filed(objects, "d1", b"pdf")
    assert await rpc.call("filings", "documents.register", req, Empty) == Empty()
    got = await rpc.call("filings", "documents.get", GetDocument(document_id="d1"), DocumentPublic)
    assert (got.document_id, got.sha256, got.key) == ("d1", req.document.sha256, req.document.key)
    listed = await rpc.call(
        "filings", "documents.list", ListDocuments(program="p", year=2026, base="b1"), DocumentList
    )
    assert [d.document_id for d in listed.documents] == ["d1"]


async def test_a_document_the_store_does_not_hold_is_a_409_reply(rpc: RpcClient) -> None:
    with pytest.raises(RpcError) as caught:
        await rpc.call("filings", "documents.register", record("d9", "a" * 64), Empty)
    assert (caught.value.code, caught.value.status) == ("document_missing", 409)
    with pytest.raises(RpcError) as unknown:
        await rpc.call("filings", "documents.get", GetDocument(document_id="d9"), DocumentPublic)
    assert (unknown.value.code, unknown.value.status) == ("document_not_found", 404)
