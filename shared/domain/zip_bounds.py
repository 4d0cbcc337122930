"""Whether an uploaded ZIP (or DOCX/XLSX, which are ZIPs) is safe to list and keep.

Listing an archive costs time and memory in proportion to its central directory, which the
archive itself declares: 200,000 entries take seconds and 100 MiB. So the end-of-directory record
is read first, and an archive that declares (or whose directory is big enough to hold) more
entries than allowed is refused before anything is listed. A listed archive is then refused when
its entries would expand beyond a total size or a compression ratio no office document reaches
(a ZIP bomb). Nothing is ever extracted.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

EOCD = b"PK\x05\x06"
EOCD_SIZE = 22
MAX_COMMENT = 65_535
ZIP64_COUNT = 0xFFFF  # the 16-bit count field says "see the ZIP64 record": far too many for us


@dataclass(frozen=True)
class ZipBounds:
    max_entries: int = 10_000
    max_directory_bytes: int = 8 * 1024 * 1024  # entries' names and extras together
    max_expanded_bytes: int = 2 * 1024 * 1024 * 1024
    max_ratio: float = 200.0  # expanded / compressed, over the whole archive


@dataclass(frozen=True)
class ZipRefusal:
    reason: str  # too_many_entries, directory_too_large, expands_too_far, bad_archive
    zh: str
    en: str


def _end_record(archive: BinaryIO) -> tuple[int, int] | None:
    """The declared entry count and directory size, or None when there is no end record."""
    size = archive.seek(0, io.SEEK_END)
    start = max(0, size - EOCD_SIZE - MAX_COMMENT)
    archive.seek(start)
    tail = archive.read(size - start)
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < EOCD_SIZE:
        return None
    _, _, _, _, entries, directory, _, _ = struct.unpack("<4s4H2LH", tail[at : at + EOCD_SIZE])
    return entries, directory


def zip_refusal(data: bytes | BinaryIO, bounds: ZipBounds = ZipBounds()) -> ZipRefusal | None:
    """Why the archive is refused, or None when it is within ``bounds``.

    ``data`` is the archive's bytes or a seekable binary file holding them; only its end record
    and (when that passes) its central directory are read, never the entries themselves."""
    archive = io.BytesIO(data) if isinstance(data, bytes) else data
    end = _end_record(archive)
    if end is None:
        return None  # not a readable archive: the type check refuses it
    entries, directory = end
    if entries == ZIP64_COUNT or entries > bounds.max_entries:
        return ZipRefusal(
            "too_many_entries",
            f"压缩包条目过多（上限{bounds.max_entries}个）",
            f"the archive has more than {bounds.max_entries} entries",
        )
    if directory > bounds.max_directory_bytes:
        return ZipRefusal(
            "directory_too_large",
            f"压缩包目录过大（上限{bounds.max_directory_bytes}字节）",
            f"the archive's directory exceeds {bounds.max_directory_bytes} bytes",
        )
    try:
        with zipfile.ZipFile(archive) as listed:
            infos = listed.infolist()
    except (zipfile.BadZipFile, ValueError, struct.error):
        return None  # the type check refuses it as unreadable
    if len(infos) > bounds.max_entries:
        return ZipRefusal(
            "too_many_entries",
            f"压缩包条目过多（上限{bounds.max_entries}个）",
            f"the archive has more than {bounds.max_entries} entries",
        )
    expanded = sum(i.file_size for i in infos)
    compressed = max(1, sum(i.compress_size for i in infos))
    if expanded > bounds.max_expanded_bytes or expanded / compressed > bounds.max_ratio:
        return ZipRefusal(
            "expands_too_far",
            f"压缩包解压后过大（{expanded}字节，压缩比{expanded / compressed:.0f}）",
            f"the archive would expand to {expanded} bytes "
            f"(ratio {expanded / compressed:.0f} to 1)",
        )
    return None
