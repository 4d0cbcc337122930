"""Object storage for documents: a local directory by default, S3/MinIO by endpoint.

Keys are immutable: putting different bytes under an existing key is refused, and putting the
same bytes again is a no-op, so retried uploads are safe and no version is ever overwritten.

Big objects are streamed: a writer takes chunks as they arrive (a small bounded queue between the
event loop and one thread that writes them out and hashes them), so memory does not grow with the
object. A streamed object is written under a staging key, then promoted to its final key once its
digest is known (a rename, or a server-side copy). A file (a rendered export) is put from its
path a chunk at a time, and an object is read back as a stream of chunks (``stream``), so neither
way holds the whole object in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.error import S3Error

CHUNKS_IN_FLIGHT = 8  # between the event loop and the writing thread
IDLE_TIMEOUT_S = 300.0  # a writer whose chunks stop coming gives up (its staging is swept)
S3_PART_SIZE = 5 * 1024 * 1024  # the smallest multipart part S3 allows
STREAM_CHUNK = 64 * 1024  # what a streamed read (``stream``) hands out at a time


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    content_type: str


class ObjectStoreError(Exception):
    """The store could not be reached or refused the operation."""


class ObjectConflict(ObjectStoreError):
    """Different bytes already live under this key."""


class ObjectMissing(ObjectStoreError):
    pass


class ObjectWriter(Protocol):
    """A streaming put: ``write`` chunks (waits while the queue is full), then ``close``."""

    key: str

    async def write(self, chunk: bytes) -> None: ...
    async def close(self) -> StoredObject: ...  # size and sha256 of what was written
    async def abort(self) -> None: ...  # nothing is left under the key


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...
    async def get(self, key: str) -> bytes: ...
    async def stat(self, key: str) -> StoredObject | None: ...
    async def delete(self, key: str) -> None: ...  # absent already is fine
    async def check(self) -> None: ...
    def writer(self, key: str) -> ObjectWriter: ...  # a fresh (staging) key, from the loop
    async def promote(self, staged: StoredObject, key: str, content_type: str) -> StoredObject: ...
    def open_reader(self, key: str) -> BinaryIO: ...  # seekable; blocking: use it in a thread
    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject: ...
    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> ObjectChunks: ...
    async def sweep(self, prefix: str, older_than: timedelta) -> list[str]: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_facts(path: Path | str) -> tuple[int, str]:
    """The size and sha256 of a file, read a chunk at a time (never whole)."""
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
        return fh.tell(), digest.hexdigest()


class ObjectChunks:
    """An object's bytes a chunk at a time, from a source opened already (so a missing object or
    an unreachable store is known before the first chunk). A blocking iterator: advance it in a
    thread (Starlette does, for a plain iterator). It closes its source at the end, on an error,
    or on ``close``; a read that fails is an ``ObjectStoreError``."""

    def __init__(
        self, read: Callable[[int], bytes], close: Callable[[], None], chunk_size: int
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self._read, self._close, self._chunk_size = read, close, chunk_size
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            chunk = self._read(self._chunk_size)
        except Exception as exc:
            self.close()
            raise ObjectStoreError(f"object store unavailable: {exc}") from exc
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._close()
            except Exception:  # nothing more is read from it either way
                pass


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}")
    return key


def _kept(existing: StoredObject | None, new: StoredObject) -> StoredObject | None:
    """The stored object when the same bytes are already there; refuses other bytes."""
    if existing is not None and existing.sha256 != new.sha256:
        raise ObjectConflict(f"object {new.key!r} exists with other content")
    return existing


class _Aborted(Exception):
    pass


_ABORT = object()


class ChunkReader:
    """The thread's end of a writer's queue: chunks (or ``read(n)``, a file for minio) as the
    event loop puts them, hashed and counted as they come off the queue."""

    def __init__(
        self, queue: asyncio.Queue[bytes | object | None], loop: asyncio.AbstractEventLoop
    ) -> None:
        self._queue, self._loop = queue, loop
        self._ended = False
        self._held = b""  # what a short read left over, handed out first
        self.size = 0
        self._digest = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def next_chunk(self) -> bytes:
        """The next chunk, ``b""`` at the end."""
        if self._held:
            chunk, self._held = self._held, b""
            return chunk
        if self._ended:
            return b""
        future = asyncio.run_coroutine_threadsafe(self._queue.get(), self._loop)
        try:
            item = future.result(IDLE_TIMEOUT_S)
        except FutureTimeout:
            future.cancel()
            raise ObjectStoreError("no data arrived for the streamed object") from None
        if item is _ABORT:
            raise _Aborted
        if item is None:
            self._ended = True
            return b""
        assert isinstance(item, bytes)
        self._digest.update(item)
        self.size += len(item)
        return item

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative), short only at the end."""
        parts: list[bytes] = []
        have = 0
        while size < 0 or have < size:
            chunk = self.next_chunk()
            if not chunk:
                break
            if size >= 0 and have + len(chunk) > size:
                chunk, self._held = chunk[: size - have], chunk[size - have :]
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)


class _ThreadedWriter:
    """A streaming put whose bytes are written by ``consume`` in a thread.

    ``consume`` reads the ``ChunkReader`` to its end and stores what it read under the key; it
    must leave nothing behind when reading raises (an abort, a timeout)."""

    def __init__(
        self,
        key: str,
        consume: Callable[[ChunkReader], None],
        remove: Callable[[], None],
    ) -> None:
        self.key = _check_key(key)
        self._queue: asyncio.Queue[bytes | object | None] = asyncio.Queue(CHUNKS_IN_FLIGHT)
        self._reader = ChunkReader(self._queue, asyncio.get_running_loop())
        self._remove = remove
        self._done = asyncio.ensure_future(asyncio.to_thread(_unavailable, consume, self._reader))

    async def _put(self, item: bytes | object | None) -> None:
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait({put, self._done}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():  # the thread stopped: its error is the answer
            put.cancel()
            await self._done
            raise ObjectStoreError(f"the streamed object {self.key!r} stopped early")

    async def write(self, chunk: bytes) -> None:
        if chunk:
            await self._put(chunk)

    async def close(self) -> StoredObject:
        await self._put(None)
        await self._done
        return StoredObject(self.key, self._reader.size, self._reader.sha256, "")

    async def abort(self) -> None:
        if not self._done.done():
            try:
                await self._put(_ABORT)
            except Exception:
                pass
        try:
            await self._done
        except Exception:
            pass
        try:
            await asyncio.to_thread(self._remove)
        except Exception:  # the store is away: the staging sweep removes it later
            pass


def _unavailable(consume: Callable[[ChunkReader], None], reader: ChunkReader) -> None:
    """``consume(reader)``, with a client's own errors (refused, timed out) as store errors."""
    try:
        consume(reader)
    except (ObjectStoreError, _Aborted):
        raise
    except Exception as exc:
        raise ObjectStoreError(f"object store unavailable: {exc}") from exc


def _write_atomic(target: Path, payload: bytes | Path | ChunkReader) -> None:
    """``payload`` (bytes, a file's contents copied a chunk at a time, or a reader's chunks)
    written to a temporary file beside ``target``, then renamed to it: no half object under the
    key."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(payload, Path):
                with payload.open("rb") as source:
                    shutil.copyfileobj(source, fh, STREAM_CHUNK)
            elif isinstance(payload, ChunkReader):
                while chunk := payload.next_chunk():
                    fh.write(chunk)
            else:
                fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalObjectStore:
    """Files under a root directory, each with a JSON sidecar holding its checksum."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        return self._root / _check_key(key)

    def _put_sync(self, key: str, data: bytes, content_type: str) -> StoredObject:
        obj = StoredObject(key, len(data), sha256_hex(data), content_type)
        if (existing := _kept(self._stat_sync(key), obj)) is not None:
            return existing
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The data file is the commit marker: the sidecar goes first, the data last, each written
        # to a temporary file and renamed, so a crash never leaves a half-written object.
        _write_atomic(self._meta(path), json.dumps(asdict(obj)).encode())
        _write_atomic(path, data)
        return obj

    @staticmethod
    def _meta(path: Path) -> Path:
        return path.with_name(path.name + ".meta.json")

    def _stat_sync(self, key: str) -> StoredObject | None:
        path = self._path(key)
        if not path.exists():
            return None
        return StoredObject(**json.loads(self._meta(path).read_text()))

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        return await asyncio.to_thread(self._put_sync, key, data, content_type)

    def _put_file_sync(self, key: str, source: Path, content_type: str) -> StoredObject:
        obj = StoredObject(key, *file_facts(source), content_type)
        if (existing := _kept(self._stat_sync(key), obj)) is not None:
            return existing
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(self._meta(path), json.dumps(asdict(obj)).encode())  # as in _put_sync
        _write_atomic(path, source)
        return obj

    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        """The file at ``path`` stored under ``key``, copied a chunk at a time. The directory
        failing (full, not writable) is an ``ObjectStoreError``."""
        try:
            return await asyncio.to_thread(self._put_file_sync, key, path, content_type)
        except OSError as exc:
            raise ObjectStoreError(f"object store unavailable: {exc}") from exc

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> ObjectChunks:
        """The object's bytes, ``chunk_size`` at a time; ``ObjectMissing`` here, not later."""
        path = self._path(key)
        try:
            fh = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise ObjectStoreError(f"object store unavailable: {exc}") from exc
        return ObjectChunks(fh.read, fh.close, chunk_size)

    async def stat(self, key: str) -> StoredObject | None:
        return await asyncio.to_thread(self._stat_sync, key)

    def _delete_sync(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)  # the data file first: it marks the object as there
        self._meta(path).unlink(missing_ok=True)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete_sync, key)

    async def check(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        if not os.access(self._root, os.W_OK):
            raise ObjectStoreError(f"{self._root} is not writable")

    def writer(self, key: str) -> ObjectWriter:
        path = self._path(key)
        return _ThreadedWriter(
            key,
            lambda reader: self._stream_sync(path, reader),
            lambda: path.unlink(missing_ok=True),
        )

    @staticmethod
    def _stream_sync(path: Path, reader: ChunkReader) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, reader)

    def _promote_sync(self, staged: StoredObject, key: str, content_type: str) -> StoredObject:
        obj = StoredObject(key, staged.size, staged.sha256, content_type)
        source = self._path(staged.key)
        if (existing := _kept(self._stat_sync(key), obj)) is not None:
            source.unlink(missing_ok=True)
            return existing
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(self._meta(path), json.dumps(asdict(obj)).encode())
        try:
            os.replace(source, path)  # the data file last: the commit marker
        except FileNotFoundError as exc:
            raise ObjectMissing(staged.key) from exc
        return obj

    async def promote(self, staged: StoredObject, key: str, content_type: str) -> StoredObject:
        return await asyncio.to_thread(self._promote_sync, staged, key, content_type)

    def open_reader(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    def _sweep_sync(self, prefix: str, older_than: timedelta) -> list[str]:
        cutoff = time.time() - older_than.total_seconds()
        removed = []
        for path in sorted(self._path(prefix).rglob("*")):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed.append(str(path.relative_to(self._root)))
        return removed

    async def sweep(self, prefix: str, older_than: timedelta) -> list[str]:
        """Remove the objects under ``prefix`` (and a crashed writer's temporary files) last
        written longer than ``older_than`` ago."""
        return await asyncio.to_thread(self._sweep_sync, prefix, older_than)


class S3ObjectStore:
    """Any S3-protocol server (MinIO in production), through the minio client."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self._bucket = bucket
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        try:
            if not self._client.bucket_exists(self._bucket):
                self._client.make_bucket(self._bucket)
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise ObjectStoreError(str(exc)) from exc
        self._bucket_ready = True

    def _stat_sync(self, key: str) -> StoredObject | None:
        self._ensure_bucket()
        try:
            st = self._client.stat_object(self._bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return None
            raise ObjectStoreError(str(exc)) from exc
        meta = {k.lower(): v for k, v in (st.metadata or {}).items()}
        return StoredObject(
            key=key,
            size=st.size or 0,
            sha256=meta.get("x-amz-meta-sha256", ""),
            content_type=st.content_type or "application/octet-stream",
        )

    def _put_once(self, obj: StoredObject, send: Callable[[], object]) -> StoredObject:
        """``obj`` as stored: what the key already holds when it is the same bytes (a conflict
        when not), else what ``send`` puts there."""
        if (existing := _kept(self._stat_sync(obj.key), obj)) is not None:
            return existing
        try:
            send()
        except S3Error as exc:
            raise ObjectStoreError(str(exc)) from exc
        return obj

    def _put_sync(self, key: str, data: bytes, content_type: str) -> StoredObject:
        obj = StoredObject(key, len(data), sha256_hex(data), content_type)
        return self._put_once(
            obj,
            lambda: self._client.put_object(
                self._bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata={"sha256": obj.sha256},
            ),
        )

    def _response(self, key: str) -> Any:
        """The open GET of ``key`` (the caller closes it and releases its connection)."""
        self._ensure_bucket()
        try:
            return self._client.get_object(self._bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectMissing(key) from exc
            raise ObjectStoreError(str(exc)) from exc

    def _get_sync(self, key: str) -> bytes:
        resp = self._response(key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        return await self._run(self._put_sync, key, data, content_type)

    def _put_file_sync(self, key: str, path: Path, content_type: str) -> StoredObject:
        obj = StoredObject(key, *file_facts(path), content_type)
        # One part at a time (a multipart upload past S3_PART_SIZE): at most a part in memory.
        return self._put_once(
            obj,
            lambda: self._client.fput_object(
                self._bucket,
                key,
                str(path),
                content_type=content_type,
                metadata={"sha256": obj.sha256},
                part_size=S3_PART_SIZE,
                num_parallel_uploads=1,
            ),
        )

    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        """The file at ``path`` stored under ``key``, sent a part at a time."""
        return await self._run(self._put_file_sync, key, path, content_type)

    async def get(self, key: str) -> bytes:
        return await self._run(self._get_sync, key)

    def _open_sync(self, key: str, chunk_size: int) -> ObjectChunks:
        resp = self._response(key)

        def close() -> None:
            resp.close()
            resp.release_conn()

        return ObjectChunks(resp.read, close, chunk_size)

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> ObjectChunks:
        """The object's bytes, ``chunk_size`` at a time, as the server sends them: one GET, whose
        missing object or unreachable server is an error here, not at the first chunk."""
        return await self._run(self._open_sync, key, chunk_size)

    async def stat(self, key: str) -> StoredObject | None:
        return await self._run(self._stat_sync, key)

    def _delete_sync(self, key: str) -> None:
        self._ensure_bucket()
        try:
            self._client.remove_object(self._bucket, _check_key(key))
        except S3Error as exc:
            if exc.code not in ("NoSuchKey", "NoSuchObject"):
                raise ObjectStoreError(str(exc)) from exc

    async def delete(self, key: str) -> None:
        await self._run(self._delete_sync, key)

    async def check(self) -> None:
        await self._run(self._ensure_bucket)

    def writer(self, key: str) -> ObjectWriter:
        return _ThreadedWriter(
            key, lambda reader: self._stream_sync(key, reader), lambda: self._delete_sync(key)
        )

    def _stream_sync(self, key: str, reader: ChunkReader) -> None:
        # Unknown length: minio sends one part of S3_PART_SIZE at a time (a multipart upload,
        # aborted when reading fails), so at most a part is held here.
        self._ensure_bucket()
        try:
            self._client.put_object(
                self._bucket,
                key,
                reader,  # type: ignore[arg-type]  # minio only calls read(n)
                length=-1,
                part_size=S3_PART_SIZE,
            )
        except S3Error as exc:
            raise ObjectStoreError(str(exc)) from exc

    def _promote_sync(self, staged: StoredObject, key: str, content_type: str) -> StoredObject:
        obj = StoredObject(key, staged.size, staged.sha256, content_type)
        if (existing := _kept(self._stat_sync(key), obj)) is not None:
            self._delete_sync(staged.key)
            return existing
        try:
            self._client.copy_object(
                self._bucket,
                _check_key(key),
                CopySource(self._bucket, staged.key),
                metadata={"Content-Type": content_type, "sha256": obj.sha256},
                metadata_directive=REPLACE,
            )
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectMissing(staged.key) from exc
            raise ObjectStoreError(str(exc)) from exc
        self._delete_sync(staged.key)
        return obj

    async def promote(self, staged: StoredObject, key: str, content_type: str) -> StoredObject:
        return await self._run(self._promote_sync, staged, key, content_type)

    def open_reader(self, key: str) -> BinaryIO:
        try:
            stat = self._stat_sync(key)
        except ObjectStoreError:
            raise
        except Exception as exc:
            raise ObjectStoreError(f"object store unavailable: {exc}") from exc
        if stat is None:
            raise ObjectMissing(key)
        raw = _RangedReader(self._client, self._bucket, key, stat.size)
        return io.BufferedReader(raw, buffer_size=256 * 1024)  # type: ignore[return-value]

    def _sweep_sync(self, prefix: str, older_than: timedelta) -> list[str]:
        self._ensure_bucket()
        cutoff = datetime.now(UTC) - older_than
        removed = []
        try:
            for item in self._client.list_objects(self._bucket, prefix=prefix, recursive=True):
                if item.object_name and item.last_modified and item.last_modified < cutoff:
                    self._delete_sync(item.object_name)
                    removed.append(item.object_name)
        except S3Error as exc:
            raise ObjectStoreError(str(exc)) from exc
        return removed

    async def sweep(self, prefix: str, older_than: timedelta) -> list[str]:
        """Remove the objects under ``prefix`` last written longer than ``older_than`` ago.
        (A crashed multipart upload's parts are the bucket lifecycle's to expire.)"""
        return await self._run(self._sweep_sync, prefix, older_than)

    @staticmethod
    async def _run(fn, *args):  # type: ignore[no-untyped-def]
        try:
            return await asyncio.to_thread(fn, *args)
        except (ObjectStoreError, ValueError):
            raise
        except Exception as exc:  # connection refused, timeouts: the store is unavailable
            raise ObjectStoreError(f"object store unavailable: {exc}") from exc


class _RangedReader(io.RawIOBase):
    """A seekable, read-only view of an S3 object: each read is a ranged GET."""

    def __init__(self, client: Minio, bucket: str, key: str, size: int) -> None:
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        try:
            resp = self._client.get_object(self._bucket, self._key, offset=self._pos, length=want)
            try:
                data = resp.read()
            finally:
                resp.close()
                resp.release_conn()
        except Exception as exc:
            raise ObjectStoreError(f"object store unavailable: {exc}") from exc
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def open_object_store(
    *,
    objects_dir: Path,
    endpoint: str | None,
    access_key: str | None,
    secret_key: str | None,
    bucket: str,
    secure: bool,
    region: str,
) -> ObjectStore:
    if not endpoint:
        return LocalObjectStore(objects_dir)
    client = Minio(
        endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
    )
    return S3ObjectStore(client, bucket)
