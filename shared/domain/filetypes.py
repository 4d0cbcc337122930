"""The content type of an upload, decided from its bytes, never from what the client claims."""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
PNG = "image/png"
JPEG = "image/jpeg"

EXTENSIONS = {PDF: "pdf", DOCX: "docx", XLSX: "xlsx", ZIP: "zip", PNG: "png", JPEG: "jpg"}


HEAD_BYTES = 8 * 1024  # enough of the start of a file to tell its type (ZIPs aside)


def sniff(data: bytes, archive: BinaryIO | None = None) -> str | None:
    """One of the accepted types, or ``None`` for anything else.

    ``data`` is the file, or its first ``HEAD_BYTES`` when ``archive`` is the whole file as a
    seekable binary file: a ZIP's kind (DOCX, XLSX, ZIP) is in its directory, at the end."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(io.BytesIO(data) if archive is None else archive)
    return None


def _zip_kind(archive: BinaryIO) -> str | None:
    try:
        with zipfile.ZipFile(archive) as listed:
            names = set(listed.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
    return ZIP
