"""Object storage for documents: a local directory by default, S3/MinIO by endpoint.

Keys are immutable: putting different bytes under an existing key is refused, and putting the
same bytes again is a no-op, so retried uploads are safe and no version is ever overwritten.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.error import S3Error


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


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...
    async def get(self, key: str) -> bytes: ...
    async def stat(self, key: str) -> StoredObject | None: ...
    async def delete(self, key: str) -> None: ...  # absent already is fine
    async def check(self) -> None: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _write_atomic(target: Path, payload: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


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

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

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

    def _put_sync(self, key: str, data: bytes, content_type: str) -> StoredObject:
        obj = StoredObject(key, len(data), sha256_hex(data), content_type)
        if (existing := _kept(self._stat_sync(key), obj)) is not None:
            return existing
        try:
            self._client.put_object(
                self._bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata={"sha256": obj.sha256},
            )
        except S3Error as exc:
            raise ObjectStoreError(str(exc)) from exc
        return obj

    def _get_sync(self, key: str) -> bytes:
        self._ensure_bucket()
        try:
            resp = self._client.get_object(self._bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectMissing(key) from exc
            raise ObjectStoreError(str(exc)) from exc
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        return await self._run(self._put_sync, key, data, content_type)

    async def get(self, key: str) -> bytes:
        return await self._run(self._get_sync, key)

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

    @staticmethod
    async def _run(fn, *args):  # type: ignore[no-untyped-def]
        try:
            return await asyncio.to_thread(fn, *args)
        except (ObjectStoreError, ValueError):
            raise
        except Exception as exc:  # connection refused, timeouts: the store is unavailable
            raise ObjectStoreError(f"object store unavailable: {exc}") from exc


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
