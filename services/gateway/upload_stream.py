"""A filing's multipart body, parsed as it arrives: the file goes to the object store in chunks.

FastAPI would spool the whole file part to a temporary file before the route runs. The filing
routes parse the body themselves instead (``StreamedUploads``, their route class): each chunk of
the file part is counted (413 ``file_too_large`` the moment the limit is passed), its first bytes
kept for the type check, and written to the object store under a staging key through a small
bounded queue; the store hashes it on the way. The route gets a ``StagedFile`` (an ``UploadFile``
with no bytes of its own) and promotes the staged object to its content key once it accepts the
file. Whatever was staged and not promoted is removed when the request ends, however it ends.

Route signatures (and so the OpenAPI document) are unchanged: the form fields are still
``File``/``Form`` parameters, filled from the streamed parse.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any
from uuid import uuid4

from fastapi import Request, Response
from fastapi.routing import APIRoute
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import FormData, Headers, UploadFile

from services.gateway.deps import Deps
from services.gateway.problems import ApiError
from services.gateway.upload_gate import is_upload
from services.gateway.uploads import check_filename
from shared.domain.filetypes import HEAD_BYTES
from shared.logging import get_logger
from shared.objectstore import ObjectStore, ObjectStoreError, ObjectWriter, StoredObject

STAGING = "staging"
MAX_FIELD_BYTES = 1024 * 1024  # a form field next to the file (targets, actuals)
MAX_FIELDS = 16

log = get_logger("gateway")


class StagedFile(UploadFile):
    """A form's file part, already in the object store under a staging key."""

    def __init__(self, filename: str, headers: Headers) -> None:
        super().__init__(io.BytesIO(), size=0, filename=filename, headers=headers)
        self.staged: StoredObject | None = None  # None: the part was empty
        self.head = b""  # the first HEAD_BYTES, for the type check


class _Sink:
    """Where one file part's chunks go: counted, the head kept, written to a staging key."""

    def __init__(self, objects: ObjectStore, limit: int, file: StagedFile) -> None:
        self._objects, self._limit, self.file = objects, limit, file
        self.writer: ObjectWriter | None = None
        self.size = 0
        self.ended = False

    async def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            raise ApiError(
                413,
                "file_too_large",
                f"the file exceeds the {self._limit}-byte limit",
                limit=self._limit,
            )
        if len(self.file.head) < HEAD_BYTES:
            self.file.head += chunk[: HEAD_BYTES - len(self.file.head)]
        if self.writer is None:  # an empty part stages nothing
            self.writer = self._objects.writer(f"{STAGING}/{uuid4().hex}")
        await self.writer.write(chunk)

    async def close(self) -> None:
        self.ended = True
        if self.writer is not None:
            self.file.staged = await self.writer.close()
            self.file.size = self.size


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class StreamedForm:
    """One request's form: fields in memory (bounded), the one file part streamed."""

    def __init__(self, objects: ObjectStore, limit: int) -> None:
        self._objects, self._limit = objects, limit
        self.items: list[tuple[str, str | UploadFile]] = []
        self.sinks: list[_Sink] = []
        self._pending: list[bytes | None] = []  # file chunks, None ends the part
        self._header_name = self._header_value = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._field: bytearray | None = None
        self._name = ""

    async def parse(self, content_type: str, stream: AsyncIterator[bytes]) -> FormData:
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise ApiError(400, "invalid_upload", "the multipart body has no boundary")
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )
        try:
            async for chunk in stream:
                parser.write(chunk)
                await self._drain()
            parser.finalize()
            await self._drain()
            if not all(sink.ended for sink in self.sinks):
                raise ApiError(400, "invalid_upload", "the multipart body ends inside the file")
        except FormParserError:
            await self.abort()
            raise ApiError(400, "invalid_upload", "the multipart body is malformed") from None
        except ObjectStoreError as exc:
            await self.abort()
            raise ApiError(
                503, "object_store_unavailable", f"the document was not stored: {exc}"
            ) from None
        except BaseException:
            await self.abort()
            raise
        return FormData(self.items)

    async def _drain(self) -> None:
        pending, self._pending = self._pending, []
        sink = self.sinks[-1] if self.sinks else None
        for chunk in pending:
            assert sink is not None
            if chunk is None:
                await sink.close()
            else:
                await sink.write(chunk)

    async def abort(self) -> None:
        for sink in self.sinks:
            if sink.writer is not None:
                await sink.writer.abort()

    async def discard(self) -> None:
        """Remove what was staged and not promoted (promotion moved it away already)."""
        for sink in self.sinks:
            if (staged := sink.file.staged) is not None:
                try:
                    await self._objects.delete(staged.key)
                except Exception as exc:  # the sweep removes it later
                    log.warning("upload.staging_left", key=staged.key, error=str(exc))

    # python-multipart's callbacks: synchronous, so file chunks wait in _pending for _drain.

    def _part_begin(self) -> None:
        self._headers, self._field = [], None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers.append((self._header_name.lower(), self._header_value))
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        disposition = dict(self._headers).get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        if b"name" not in options:
            raise ApiError(400, "invalid_upload", "a form part has no name")
        self._name = _decoded(options[b"name"])
        if b"filename" not in options:
            if len(self.items) - len(self.sinks) >= MAX_FIELDS:
                raise ApiError(422, "invalid_upload", f"more than {MAX_FIELDS} form fields")
            self._field = bytearray()
            return
        if self.sinks:
            raise ApiError(422, "invalid_upload", "a filing carries one file")
        filename = check_filename(_decoded(options[b"filename"]))  # before a byte is staged
        file = StagedFile(filename, Headers(raw=self._headers))
        self.sinks.append(_Sink(self._objects, self._limit, file))
        self.items.append((self._name, file))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._field is None:
            self._pending.append(data[start:end])
            return
        self._field += data[start:end]
        if len(self._field) > MAX_FIELD_BYTES:
            raise ApiError(
                422,
                "invalid_upload",
                f"the form field {self._name} exceeds {MAX_FIELD_BYTES} bytes",
            )

    def _part_end(self) -> None:
        if self._field is None:
            self._pending.append(None)
        else:
            self.items.append((self._name, _decoded(bytes(self._field))))


class StreamedUploads(APIRoute):
    """A route class whose multipart requests are parsed by ``StreamedForm``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def streamed(request: Request) -> Response:
            if not is_upload(request.scope):
                return await handler(request)
            deps: Deps = request.app.state.deps
            form = StreamedForm(deps.objects, deps.settings.upload_max_bytes)
            try:
                # FastAPI reads the form through request.form(), which answers a parsed form.
                request._form = await form.parse(
                    request.headers.get("content-type", ""), request.stream()
                )
                return await handler(request)
            finally:
                await form.discard()

        return streamed


def staged_file(file: UploadFile) -> StagedFile:
    if not isinstance(file, StagedFile):  # a route without StreamedUploads: a wiring mistake
        raise TypeError("the filing routes need the StreamedUploads route class")
    return file
