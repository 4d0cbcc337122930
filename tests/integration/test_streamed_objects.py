"""Streaming puts, promotion to a content key, staged ZIPs read through a seekable reader, and the
sweep of stale staging, against a local directory and a real S3-protocol server (moto)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from minio import Minio

from services.gateway.problems import ApiError
from services.gateway.staging_sweep import sweep_staging
from services.gateway.uploads import checked_type
from shared.domain.filetypes import HEAD_BYTES, PDF
from shared.objectstore import (
    S3_PART_SIZE,
    LocalObjectStore,
    ObjectConflict,
    ObjectMissing,
    ObjectStore,
    ObjectStoreError,
    S3ObjectStore,
    StoredObject,
)
from tests.servers import free_port

MIB = 1024 * 1024
CHUNK = 64 * 1024


def _chunks(total: int, seed: bytes = b"") -> list[bytes]:
    block = hashlib.sha256(seed).digest() * (CHUNK // 32)
    return [block[: min(CHUNK, total - at)] for at in range(0, total, CHUNK)]


async def _stream(store: ObjectStore, key: str, chunks: list[bytes]) -> StoredObject:
    writer = store.writer(key)
    for chunk in chunks:
        await writer.write(chunk)
    return await writer.close()


async def _keys(store: ObjectStore, prefix: str) -> list[str]:
    # Everything under prefix, whatever its age: a sweep with a cutoff in the future lists it all
    # (used only after the assertions that matter, on objects the test means to remove).
    return await store.sweep(prefix, timedelta(seconds=-60))


async def test_a_streamed_multi_mib_object_is_hashed_counted_and_promoted(
    store: ObjectStore,
) -> None:
    chunks = _chunks(12 * MIB + 123, b"plan")
    data = b"".join(chunks)
    staged = await _stream(store, "staging/one", chunks)
    assert (staged.size, staged.sha256) == (len(data), hashlib.sha256(data).hexdigest())

    key = f"documents/p/2026/b/plan/{staged.sha256}.pdf"
    final = await store.promote(staged, key, PDF)
    assert (final.key, final.size, final.sha256, final.content_type) == (
        key,
        len(data),
        staged.sha256,
        PDF,
    )
    assert await store.get(key) == data
    stat = await store.stat(key)
    assert stat is not None and (stat.sha256, stat.size, stat.content_type) == (
        staged.sha256,
        len(data),
        PDF,
    )
    assert await _keys(store, "staging") == []  # promotion moved it away


async def test_promoting_the_same_bytes_again_is_a_no_op_and_other_bytes_conflict(
    store: ObjectStore,
) -> None:
    first = await _stream(store, "staging/a", _chunks(100_000, b"a"))
    key = "documents/p/2026/b/plan/x.pdf"
    kept = await store.promote(first, key, PDF)
    again = await _stream(store, "staging/b", _chunks(100_000, b"a"))
    assert await store.promote(again, key, PDF) == kept
    other = await _stream(store, "staging/c", _chunks(100_000, b"c"))
    with pytest.raises(ObjectConflict):
        await store.promote(other, key, PDF)
    assert hashlib.sha256(await store.get(key)).hexdigest() == first.sha256
    assert await _keys(store, "staging") == ["staging/c"]  # the refused one is the caller's


async def test_an_aborted_stream_leaves_nothing(store: ObjectStore) -> None:
    writer = store.writer("staging/aborted")
    for chunk in _chunks(7 * MIB, b"x"):  # past one S3 part: a multipart upload was begun
        await writer.write(chunk)
    await writer.abort()
    assert await store.stat("staging/aborted") is None
    assert await _keys(store, "staging") == []


async def test_a_zip_bomb_is_refused_from_the_staged_object(store: ObjectStore) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(20_000):
            archive.writestr(f"f{i}.txt", b"")
    bomb = out.getvalue()
    staged = await _stream(
        store, "staging/bomb", [bomb[i : i + CHUNK] for i in range(0, len(bomb), CHUNK)]
    )

    def check() -> str:
        with store.open_reader(staged.key) as reader:
            return checked_type(bomb[:HEAD_BYTES], reader)

    with pytest.raises(ApiError) as refused:
        await asyncio.to_thread(check)
    assert (refused.value.code, refused.value.extra["reason"]) == (
        "unsafe_archive",
        "too_many_entries",
    )

    small = io.BytesIO()
    with zipfile.ZipFile(small, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<x/>")
        archive.writestr("word/document.xml", b"<w/>" * 5000)
    docx = await _stream(store, "staging/docx", [small.getvalue()])

    def kind() -> str:
        with store.open_reader(docx.key) as reader:
            return checked_type(small.getvalue()[:HEAD_BYTES], reader)

    assert (await asyncio.to_thread(kind)).endswith("wordprocessingml.document")


async def test_a_streamed_put_holds_a_bounded_amount_of_memory(store: ObjectStore) -> None:
    """A few chunks in flight locally; for S3 a part being sent. minio copies a part several
    times on its way (read, cut off its look-ahead byte, hashed, sent): 5-6 parts at the peak
    were seen, and once just over 6. The bound of 8 parts (40 MiB) is still half the object, so
    an object held whole fails it."""
    total = 80 * MIB
    bound = 4 * MIB if isinstance(store, LocalObjectStore) else 8 * S3_PART_SIZE
    block = b"\x5a" * CHUNK
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        writer = store.writer("staging/big")
        for _ in range(total // CHUNK):
            await writer.write(block)
        staged = await writer.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert staged.size == total
    assert peak - base < bound, f"{(peak - base) / MIB:.1f} MiB held for an 80 MiB object"
    await store.delete(staged.key)


async def test_a_file_is_put_from_its_path_and_streamed_back_a_chunk_at_a_time(
    store: ObjectStore, tmp_path: Path
) -> None:
    data = b"".join(_chunks(6 * MIB + 123, b"export"))  # past one S3 part: a multipart upload
    path = tmp_path / "rendered.pdf"
    path.write_bytes(data)
    key = "exports/p/2030/1/digest.pdf"
    stored = await store.put_file(key, path, PDF)
    assert (stored.key, stored.size, stored.sha256) == (
        key,
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert await store.stat(key) == stored
    chunks = await asyncio.to_thread(list, await store.stream(key, CHUNK))
    assert b"".join(chunks) == data
    assert len(chunks) == -(-len(data) // CHUNK)
    assert {len(c) for c in chunks[:-1]} == {CHUNK}
    assert await store.put_file(key, path, PDF) == stored  # the same bytes again: a no-op
    path.write_bytes(b"%PDF-1.4 rendered again, at another time")
    with pytest.raises(ObjectConflict):
        await store.put_file(key, path, PDF)
    with pytest.raises(ObjectMissing):
        await store.stream("exports/p/2030/1/none.pdf")


async def test_a_file_put_and_streamed_back_holds_a_bounded_amount_of_memory(
    store: ObjectStore, tmp_path: Path
) -> None:
    total = 40 * MIB
    bound = 2 * MIB if isinstance(store, LocalObjectStore) else 4 * S3_PART_SIZE
    path = tmp_path / "big.xlsx"
    with path.open("wb") as fh:
        for _ in range(total // CHUNK):
            fh.write(b"\x5a" * CHUNK)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        stored = await store.put_file("exports/big.xlsx", path, "application/zip")
        put_peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        read = 0
        for chunk in await store.stream(stored.key):
            read += len(chunk)
        read_peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert stored.size == read == total
    assert put_peak < bound, f"{put_peak / MIB:.1f} MiB held putting a 40 MiB file"
    assert read_peak < 2 * MIB, f"{read_peak / MIB:.1f} MiB held streaming a 40 MiB object"
    await store.delete(stored.key)


async def test_an_unreachable_s3_fails_a_file_put_and_a_stream_with_a_store_error(
    tmp_path: Path,
) -> None:
    client = Minio(f"127.0.0.1:{free_port()}", access_key="a", secret_key="b", secure=False)
    away = S3ObjectStore(client, "nowhere")
    path = tmp_path / "rendered.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(ObjectStoreError):
        await away.put_file("exports/away.pdf", path, PDF)
    with pytest.raises(ObjectStoreError):
        await away.stream("exports/away.pdf")


async def test_the_sweep_removes_stale_staging_only(store: ObjectStore, tmp_path: Path) -> None:
    stale = await _stream(store, "staging/stale", [b"%PDF-1.4 left by a crash"])
    fresh = await _stream(store, "staging/fresh", [b"%PDF-1.4 being filed"])
    kept = await store.put("documents/p/2026/b/plan/k.pdf", b"%PDF-1.4 kept", PDF)
    if isinstance(store, LocalObjectStore):
        old = time.time() - 2 * 3600
        os.utime(tmp_path / "objects" / stale.key, (old, old))
        (tmp_path / "objects" / "staging" / ".tmp-crashed").write_bytes(b"half")
        os.utime(tmp_path / "objects" / "staging" / ".tmp-crashed", (old, old))
        assert sorted(await sweep_staging(store)) == ["staging/.tmp-crashed", stale.key]
        assert await _keys(store, "staging") == [fresh.key]
    else:
        # S3 keeps its own modification times: an hour is out of reach, a cutoff ahead is not.
        assert await sweep_staging(store) == []
        assert sorted(await sweep_staging(store, timedelta(seconds=-60))) == [fresh.key, stale.key]
    assert await store.stat(kept.key) is not None


async def test_an_unreachable_s3_fails_a_streamed_put_with_a_store_error() -> None:
    client = Minio(f"127.0.0.1:{free_port()}", access_key="a", secret_key="b", secure=False)
    writer = S3ObjectStore(client, "nowhere").writer("staging/away")
    with pytest.raises(ObjectStoreError):
        for chunk in _chunks(4 * MIB, b"away"):
            await writer.write(chunk)
        await writer.close()
    await writer.abort()  # tidying after a failure never raises
