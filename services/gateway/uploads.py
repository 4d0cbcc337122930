"""Checking a streamed file and storing it by content.

The file arrives staged in the object store (``upload_stream.py``), with its first bytes kept.
Its type is decided from the bytes, in a worker thread: an archive's directory is bounded
(``shared/domain/zip_bounds.py``) before it is listed, reading the staged object through a
seekable reader, so a ZIP bomb is refused with 422 ``unsafe_archive`` without the file in memory
and without costing the event loop anything. An accepted file is promoted to its content key.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, BinaryIO

from services.gateway.problems import ApiError
from shared.contracts.cycle import Upload
from shared.domain.filetypes import EXTENSIONS, sniff
from shared.domain.zip_bounds import zip_refusal
from shared.objectstore import ObjectStore, ObjectStoreError, StoredObject

if TYPE_CHECKING:
    from services.gateway.upload_stream import StagedFile

ZIP_MAGIC = b"PK\x03\x04"


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


def checked_type(data: bytes, archive: BinaryIO | None = None) -> str:
    """The accepted type, or the refusal (an unsafe archive, any other type).

    ``data`` is the file, or its first bytes when ``archive`` is the whole file, seekable."""
    if data.startswith(ZIP_MAGIC):
        archive = io.BytesIO(data) if archive is None else archive
        if (refusal := zip_refusal(archive)) is not None:
            raise ApiError(
                422,
                "unsafe_archive",
                f"压缩包不予接收：{refusal.zh} — the archive is refused: {refusal.en}",
                reason=refusal.reason,
            )
    content_type = sniff(data, archive)
    if content_type is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            "the file must be a PDF, DOCX, XLSX, ZIP, PNG or JPEG (checked from its bytes)",
        )
    return content_type


def _checked_staged(objects: ObjectStore, head: bytes, staged: StoredObject) -> str:
    if not head.startswith(ZIP_MAGIC):
        return checked_type(head)
    with objects.open_reader(staged.key) as archive:
        return checked_type(head, archive)


async def store_upload(
    objects: ObjectStore,
    *,
    file: StagedFile,
    program: str,
    year: int,
    base: str,
    kind: str,
    filed_by: str,
) -> Upload:
    staged = file.staged
    if staged is None:
        raise ApiError(422, "invalid_upload", "the file is empty")
    try:
        content_type = await asyncio.to_thread(_checked_staged, objects, file.head, staged)
        key = f"documents/{program}/{year}/{base}/{kind}/{staged.sha256}.{EXTENSIONS[content_type]}"
        stored = await objects.promote(staged, key, content_type)
    except ObjectStoreError as exc:
        raise ApiError(
            503, "object_store_unavailable", f"the document was not stored: {exc}"
        ) from None
    return Upload(
        key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        filename=check_filename(file.filename or ""),
        filed_by=filed_by,
    )
