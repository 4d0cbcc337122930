"""The object store against a local directory and a real S3-protocol server (moto)."""

import pytest
from minio import Minio

from shared.objectstore import (
    ObjectConflict,
    ObjectMissing,
    ObjectStore,
    ObjectStoreError,
    S3ObjectStore,
    sha256_hex,
)
from tests.servers import free_port


async def test_put_get_and_stat(store: ObjectStore) -> None:
    data = b"%PDF-1.4 plan" * 1000
    stored = await store.put("documents/p/2026/b/plan/1.pdf", data, "application/pdf")
    assert stored.sha256 == sha256_hex(data) and stored.size == len(data)
    assert await store.get(stored.key) == data
    stat = await store.stat(stored.key)
    assert stat is not None and stat.sha256 == stored.sha256 and stat.size == len(data)
    assert stat.content_type == "application/pdf"


async def test_same_bytes_again_is_a_no_op_and_other_bytes_are_refused(store: ObjectStore) -> None:
    first = await store.put("k/v1", b"one", "text/plain")
    assert await store.put("k/v1", b"one", "text/plain") == first
    with pytest.raises(ObjectConflict):
        await store.put("k/v1", b"two", "text/plain")
    assert await store.get("k/v1") == b"one"


async def test_missing_objects(store: ObjectStore) -> None:
    assert await store.stat("nothing/here") is None
    with pytest.raises(ObjectMissing):
        await store.get("nothing/here")


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/./b", ""])
async def test_bad_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        await store.put(key, b"x", "text/plain")


async def test_unreachable_s3_is_a_store_error() -> None:
    client = Minio(f"127.0.0.1:{free_port()}", access_key="a", secret_key="b", secure=False)
    store = S3ObjectStore(client, "nowhere")
    with pytest.raises(ObjectStoreError):
        await store.put("k", b"x", "text/plain")
