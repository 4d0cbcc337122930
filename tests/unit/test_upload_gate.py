"""An upload's token is checked before its body is read: a 50 MB upload without a token, or with
a token whose role may not file there, is answered 401/403 while the client is still sending,
and the gateway has consumed none of the body (nothing parsed, nothing spooled)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user
from shared.db import make_engine
from shared.embedded import free_port, wait_port
from shared.migrations import upgrade
from shared.settings import Settings

SIZE = 50 * 1024 * 1024
CHUNK = 64 * 1024
PLAN = "/v1/programs/demo/years/2030/bases/b1/plan"


class BodyCounter:
    """Counts the body bytes the gateway pulls from the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.consumed = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.consumed += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
def users(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(engine, GATEWAY_MIGRATIONS)
    return engine


@pytest.fixture
def served(users: Engine) -> Iterator[tuple[str, int, BodyCounter]]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # 50 MB upload limit

    async def build() -> Deps:
        return Deps(settings, None, None, None, None, users)  # type: ignore[arg-type]

    async def close(_: Deps) -> None:
        pass

    counter = BodyCounter(create_app(build, close))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(counter, port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_port(port)
    yield "127.0.0.1", port, counter
    server.should_exit = True
    thread.join(10)


async def _upload(host: str, port: int, token: str | None) -> tuple[int, int]:
    """Send a 50 MB multipart upload slowly; return the status and how many body bytes had been
    sent when the answer arrived."""
    reader, writer = await asyncio.open_connection(host, port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {PLAN} HTTP/1.1\r\nHost: gateway\r\n{auth}"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {SIZE}\r\n\r\n"
    )
    writer.write(head.encode())
    answer = asyncio.create_task(reader.readuntil(b"\r\n\r\n"))
    sent = 0
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF'
    writer.write(part)
    sent += len(part)
    while not answer.done() and sent < SIZE:
        chunk = b"0" * min(CHUNK, SIZE - sent)
        writer.write(chunk)
        await writer.drain()
        sent += len(chunk)
        await asyncio.sleep(0.001)
    status = int((await answer).split(b" ")[1])
    writer.close()
    return status, sent


async def test_a_50mb_upload_without_a_token_is_refused_before_it_is_read(
    served: tuple[str, int, BodyCounter],
) -> None:
    host, port, counter = served
    status, sent = await _upload(host, port, None)
    assert status == 401
    assert sent < 5 * 1024 * 1024, f"{sent} bytes sent before the answer"
    assert counter.consumed == 0


async def test_an_unknown_token_and_a_wrong_role_are_refused_before_the_body(
    served: tuple[str, int, BodyCounter], users: Engine
) -> None:
    host, port, counter = served
    viewer = add_user(users, Principal(name="li-viewer", role="viewer"))
    other_base = add_user(
        users, Principal(name="b2-staff", role="base_user", program="demo", base="b2")
    )
    assert (await _upload(host, port, "nvc_unknown"))[0] == 401
    assert (await _upload(host, port, viewer))[0] == 403
    assert (await _upload(host, port, other_base))[0] == 403
    assert counter.consumed == 0
