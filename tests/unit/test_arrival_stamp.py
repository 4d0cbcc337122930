"""The gateway stamps a request's arrival before it reads the body: a slow upload does not make a
filing later than when it reached the gateway."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, File, UploadFile
from starlette.types import Message

from services.gateway.arrival_stamp import ArrivalDep, ArrivalStamp

BOUNDARY = "navcycle-test-boundary"
PAUSE = 0.4


def app(stamped: bool = True) -> FastAPI:
    api = FastAPI()
    if stamped:
        api.add_middleware(ArrivalStamp)

    @api.post("/upload")
    async def upload(file: Annotated[UploadFile, File()], arrived: ArrivalDep) -> dict[str, Any]:
        return {
            "received_at": arrived.isoformat(),
            "handled_at": datetime.now().astimezone().isoformat(),
        }

    return api


def multipart(data: bytes) -> bytes:
    return (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="plan.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


async def slow_post(api: FastAPI) -> tuple[datetime, datetime, dict[str, Any]]:
    """POST a multipart body whose second half arrives PAUSE seconds after the first."""
    body = multipart(b"%PDF-1.4\n" + b"x" * 10_000)
    halves = [body[: len(body) // 2], body[len(body) // 2 :]]
    sent: list[Message] = []
    started = datetime.now().astimezone()

    async def receive() -> Message:
        if halves:
            if len(halves) == 1:
                await asyncio.sleep(PAUSE)
            chunk = halves.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(halves)}
        await asyncio.sleep(3600)  # no disconnect while the app answers
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"gateway"),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("gateway", 80),
    }
    await api(scope, receive, send)
    finished = datetime.now().astimezone()
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    assert start["status"] == 200, sent
    answer = json.loads(
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    )
    return started, finished, answer


async def test_the_arrival_is_stamped_before_a_slow_upload_is_read() -> None:
    started, finished, answer = await slow_post(app())
    arrived = datetime.fromisoformat(answer["received_at"])
    handled = datetime.fromisoformat(answer["handled_at"])
    assert started <= arrived <= started + timedelta(seconds=PAUSE / 4)
    assert handled - arrived >= timedelta(seconds=PAUSE * 0.9)  # the upload's time is not counted
    assert arrived.utcoffset() == timedelta(hours=8)  # Beijing time on the wire
    assert finished >= handled


async def test_without_the_middleware_the_stamp_would_be_after_the_upload() -> None:
    """Why a middleware: FastAPI reads the form before any dependency runs."""
    started, _, answer = await slow_post(app(stamped=False))
    assert datetime.fromisoformat(answer["received_at"]) - started >= timedelta(seconds=PAUSE * 0.9)
