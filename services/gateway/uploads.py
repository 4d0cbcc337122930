"""Reading a multipart file within the size limit and storing it by content.

The type is decided from the bytes, in a worker thread: an archive's directory is bounded
(``shared/domain/zip_bounds.py``) before it is listed, so a ZIP bomb is refused with 422
``unsafe_archive`` without costing the event loop anything.
"""

from __future__ import annotations

import asyncio

from fastapi import UploadFile

from services.gateway.problems import ApiError
from shared.contracts.cycle import Upload
from shared.domain.filetypes import EXTENSIONS, sniff
from shared.domain.zip_bounds import zip_refusal
from shared.objectstore import ObjectStore, ObjectStoreError, sha256_hex

CHUNK = 1024 * 1024


async def read_limited(file: UploadFile, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise ApiError(
                413, "file_too_large", f"the file exceeds the {limit}-byte limit", limit=limit
            )
        chunks.append(chunk)
    if size == 0:
        raise ApiError(422, "invalid_upload", "the file is empty")
    return b"".join(chunks)


def check_filename(filename: str) -> str:
    """A plain file name: no directories, no traversal, no control characters."""
    name = filename or "upload"
    bad = (
        len(name) > 255
        or "/" in name
        or "\\" in name
        or name in (".", "..")
        or name.startswith("..")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    )
    if bad:
        raise ApiError(
            422,
            "invalid_filename",
            "the file name must be a plain name without paths or control characters",
        )
    return name


def checked_type(data: bytes) -> str:
    """The accepted type of ``data``, or the refusal (an unsafe archive, any other type)."""
    if data.startswith(b"PK\x03\x04") and (refusal := zip_refusal(data)) is not None:
        raise ApiError(
            422,
            "unsafe_archive",
            f"压缩包不予接收：{refusal.zh} — the archive is refused: {refusal.en}",
            reason=refusal.reason,
        )
    content_type = sniff(data)
    if content_type is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            "the file must be a PDF, DOCX, XLSX, ZIP, PNG or JPEG (checked from its bytes)",
        )
    return content_type


async def store_upload(
    objects: ObjectStore,
    *,
    data: bytes,
    filename: str,
    program: str,
    year: int,
    base: str,
    kind: str,
    filed_by: str,
) -> Upload:
    content_type = await asyncio.to_thread(checked_type, data)
    digest = sha256_hex(data)
    key = f"documents/{program}/{year}/{base}/{kind}/{digest}.{EXTENSIONS[content_type]}"
    try:
        stored = await objects.put(key, data, content_type)
    except ObjectStoreError as exc:
        raise ApiError(
            503, "object_store_unavailable", f"the document was not stored: {exc}"
        ) from None
    return Upload(
        key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        filename=check_filename(filename),
        filed_by=filed_by,
    )
