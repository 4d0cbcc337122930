"""Published XLSX and PDF exports: rendered to a file, kept in the object store, streamed out.

An XLSX (a zip whose directory comes last) and a PDF (whose cross-reference table comes last) are
not made a chunk at a time, but neither is held in the gateway's memory: the render process
writes the rendering to a temporary file and hands back only its size and sha256; the gateway
puts the file in the object store a chunk at a time, under a key naming the notice and its
digest, and deletes the file. A response streams the object out of the store. The store is
shared, so an export rendered by another gateway (or before a restart) is found by a ``stat``,
not rendered again.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from services.gateway.export_cache import Rendered
from services.gateway.exports import write_xlsx
from services.gateway.notice_pdf import write_pdf
from services.gateway.render_pool import render_off_loop
from shared.contracts.results import ResultsNotice
from shared.logging import get_logger
from shared.objectstore import (
    ObjectConflict,
    ObjectStore,
    ObjectStoreError,
    StoredObject,
    file_facts,
)

log = get_logger("gateway")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
WRITERS: dict[str, Callable[[ResultsNotice, str], None]] = {"xlsx": write_xlsx, "pdf": write_pdf}


def export_key(program: str, year: int, number: int, digest: str, format: str) -> str:
    """Where notice ``number``'s export in ``format`` is stored (``digest``: the notice's)."""
    return f"exports/{program}/{year}/{number}/{digest}.{format}"


def render_file(format: str, notice: ResultsNotice, path: str) -> tuple[int, str]:
    """In the render process: the notice written to ``path`` as ``format``; only its size and
    sha256 (read back from the file a chunk at a time) cross back to the gateway."""
    WRITERS[format](notice, path)
    return file_facts(path)


def _temp_file(format: str) -> str:
    fd, name = tempfile.mkstemp(prefix="navcycle-export-", suffix=f".{format}")
    os.close(fd)
    return name


def _rendered(obj: StoredObject) -> Rendered:
    return Rendered(obj.key, obj.size, f'"{obj.sha256}"')


async def find(objects: ObjectStore, key: str) -> Rendered | None:
    """The export already stored under ``key``, if any (a ``stat``: nothing is read)."""
    found = await objects.stat(key)
    return None if found is None else _rendered(found)


async def render_to_store(
    objects: ObjectStore, key: str, format: str, notice: ResultsNotice
) -> Rendered:
    """Render ``notice`` as ``format`` in the render process to a temporary file, store the file
    under ``key`` and delete it."""
    name = await asyncio.to_thread(_temp_file, format)
    try:
        size, sha256 = await render_off_loop(render_file, format, notice, name)
        log.info("export.written", export=key, bytes=size, sha256=sha256)
        try:
            stored: StoredObject | None = await objects.put_file(
                key, Path(name), MEDIA_TYPES[format]
            )
        except ObjectConflict:
            # Another gateway stored its rendering of the same notice first (a PDF or XLSX
            # carries the time it was made, so the bytes differ): that one is served.
            stored = await objects.stat(key)
        if stored is None:
            raise ObjectStoreError(f"the export {key!r} was not kept by the object store")
        return _rendered(stored)
    finally:
        await asyncio.to_thread(Path(name).unlink, missing_ok=True)
