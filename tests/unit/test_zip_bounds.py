"""A ZIP bomb is refused before it is listed (too many entries, declared or not) or once its
expansion shows (total size, ratio); ordinary archives and office documents pass."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from services.gateway.problems import ApiError
from services.gateway.uploads import checked_type
from shared.domain.filetypes import DOCX, ZIP
from shared.domain.zip_bounds import ZipBounds, zip_refusal


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _many(n: int) -> bytes:
    return _zip({f"f{i}.txt": b"" for i in range(n)}, zipfile.ZIP_STORED)


def test_ordinary_archives_and_documents_pass() -> None:
    docx = _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w>" * 100})
    assert zip_refusal(docx) is None and checked_type(docx) == DOCX
    plain = _zip({"a.pdf": b"%PDF-1.7 " + bytes(range(256)) * 40})
    assert checked_type(plain) == ZIP


def test_too_many_entries_is_refused_from_the_end_record_before_listing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = _many(200_000)

    def listed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the directory was listed")

    monkeypatch.setattr(zipfile, "ZipFile", listed)  # from here on, listing fails the test
    refusal = zip_refusal(bomb)
    assert refusal is not None and refusal.reason == "too_many_entries"
    with pytest.raises(ApiError) as refused:
        checked_type(bomb)
    assert (refused.value.status, refused.value.code) == (422, "unsafe_archive")


def test_an_end_record_that_understates_its_entries_is_refused_by_its_directory_size() -> None:
    bomb = bytearray(_many(5_000))
    at = bomb.rfind(b"PK\x05\x06")
    bomb[at + 8 : at + 12] = struct.pack("<HH", 1, 1)  # claims one entry
    bounds = ZipBounds(max_entries=100, max_directory_bytes=10_000)
    refusal = zip_refusal(bytes(bomb), bounds)
    assert refusal is not None and refusal.reason == "directory_too_large"


def test_an_archive_that_expands_too_far_is_refused() -> None:
    bomb = _zip({"zeros.bin": b"\0" * 50_000_000})
    assert len(bomb) < 100_000
    refusal = zip_refusal(bomb)
    assert refusal is not None and refusal.reason == "expands_too_far"
    with pytest.raises(ApiError) as refused:
        checked_type(bomb)
    assert refused.value.code == "unsafe_archive"
