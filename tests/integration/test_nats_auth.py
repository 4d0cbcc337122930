"""The NATS users of ``shared.nats_auth`` on a real nats-server started with the generated config:
no way in without the right password, each service only on its own subjects, and the event log
never purged or shortened, by the gateway or by anyone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.errors import APIError

from shared.embedded import nats_server
from shared.events.subjects import event_filter
from shared.nats_auth import CONFIG_FILE, USERS, inbox_prefix, write_embedded_auth
from shared.settings import with_credentials
from shared.stream import EVENTS_STREAM, ensure_events_stream

OPENED = "navcycle.events.demo-fast.2031.b1.review.opened"


@dataclass
class AuthServer:
    url: str
    passwords: dict[str, str]


@dataclass
class Errors:
    seen: list[str] = field(default_factory=list)

    async def record(self, exc: Exception) -> None:
        self.seen.append(str(exc))

    def violations(self) -> list[str]:
        return [e.lower() for e in self.seen if "permissions violation" in e.lower()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    root = tmp_path_factory.mktemp("nats-auth")
    passwords = write_embedded_auth(root / "auth")
    with nats_server(root / "store", root / "auth" / CONFIG_FILE) as url:
        yield AuthServer(url, passwords)


async def connect(server: AuthServer, user: str, errors: Errors | None = None) -> NatsClient:
    return await nats.connect(
        with_credentials(server.url, user, server.passwords[user]),
        allow_reconnect=False,
        connect_timeout=3,
        error_cb=(errors or Errors()).record,
        inbox_prefix=inbox_prefix(user),
    )


@pytest.fixture
async def stream(server: AuthServer) -> AsyncIterator[NatsClient]:
    """The streams, made as the worker makes them on start, and an operator's connection."""
    worker = await connect(server, "worker")
    await ensure_events_stream(worker.jetstream(), duplicate_window_s=60)
    await worker.close()
    operator = await connect(server, "operator")
    yield operator
    await operator.close()


async def events_in_stream(nc: NatsClient) -> int:
    return (await nc.jetstream().stream_info(EVENTS_STREAM)).state.messages


async def refused_to_connect(url: str) -> str:
    with pytest.raises(nats.errors.Error) as caught:
        await nats.connect(url, allow_reconnect=False, connect_timeout=3, error_cb=Errors().record)
    return str(caught.value)


async def test_a_connection_without_credentials_is_refused(server: AuthServer) -> None:
    assert "Authorization Violation" in await refused_to_connect(server.url)


async def test_a_connection_with_a_wrong_password_is_refused(server: AuthServer) -> None:
    wrong = with_credentials(server.url, "gateway", server.passwords["worker"])
    assert "Authorization Violation" in await refused_to_connect(wrong)
    unknown = with_credentials(server.url, "navcycle", "guess")
    assert "Authorization Violation" in await refused_to_connect(unknown)


async def test_every_generated_user_gets_in(server: AuthServer) -> None:
    for user in USERS:
        nc = await connect(server, user)
        assert nc.is_connected
        await nc.close()


async def test_a_forged_review_opened_from_the_gateway_never_reaches_the_log(
    server: AuthServer, stream: NatsClient
) -> None:
    """Who scores a base follows ``review.opened``: only the worker may publish it."""
    before = await events_in_stream(stream)
    listener = await stream.subscribe(OPENED)
    errors = Errors()
    gateway = await connect(server, "gateway", errors)
    try:
        with pytest.raises(nats.errors.TimeoutError):
            await gateway.jetstream().publish(OPENED, b"{}", timeout=1)
        await gateway.publish(OPENED, b"{}")
        await gateway.flush()
    finally:
        await gateway.close()
    with pytest.raises(nats.errors.TimeoutError):
        await listener.next_msg(timeout=0.5)
    assert await events_in_stream(stream) == before
    assert any(OPENED in v for v in errors.violations()), errors.seen

    worker = await connect(server, "worker")
    try:
        ack = await worker.jetstream().publish(OPENED, b"{}", timeout=5)
    finally:
        await worker.close()
    assert ack.stream == EVENTS_STREAM
    assert await events_in_stream(stream) == before + 1


async def test_a_service_cannot_publish_or_listen_on_another_services_subjects(
    server: AuthServer, stream: NatsClient
) -> None:
    errors = Errors()
    registry = await connect(server, "registry", errors)
    snoop = await registry.subscribe("navcycle.rpc.filings.>")
    filings = await connect(server, "filings")
    try:
        await registry.flush()
        await filings.publish("navcycle.rpc.filings.documents.register", b"{}")
        await filings.flush()
        await registry.publish("navcycle.rpc.filings.documents.register", b"{}")
        await registry.publish(event_filter("demo-fast", 2031, "b1", "plan.filed"), b"{}")
        await registry.flush()
        with pytest.raises(nats.errors.TimeoutError):
            await snoop.next_msg(timeout=0.5)
    finally:
        await filings.close()
        await registry.close()
    refused = errors.violations()
    assert any("subscription to" in v and "navcycle.rpc.filings.>" in v for v in refused), refused
    assert any("publish to" in v and "navcycle.rpc.filings" in v for v in refused), refused
    assert any("publish to" in v and "plan.filed" in v for v in refused), refused


async def test_a_service_answers_its_own_requests_and_the_gateway_reaches_it(
    server: AuthServer,
) -> None:
    registry = await connect(server, "registry")

    async def answer(msg) -> None:  # type: ignore[no-untyped-def]
        await msg.respond(b'{"ok": true, "data": {}}')

    await registry.subscribe("navcycle.rpc.registry.bases.get", queue="registry", cb=answer)
    await registry.flush()
    gateway = await connect(server, "gateway")
    try:
        reply = await gateway.request("navcycle.rpc.registry.bases.get", b"{}", timeout=3)
    finally:
        await gateway.close()
        await registry.close()
    assert reply.data == b'{"ok": true, "data": {}}'


@pytest.mark.parametrize("user", ["gateway", "notifier", "worker", "operator"])
async def test_no_user_can_purge_or_delete_the_event_log(
    server: AuthServer, stream: NatsClient, user: str
) -> None:
    worker = await connect(server, "worker")
    ack = await worker.jetstream().publish(OPENED, b"{}", timeout=5)
    await worker.close()
    before = await events_in_stream(stream)
    errors = Errors()
    nc = await connect(server, user, errors)
    js = nc.jetstream(timeout=1)
    try:
        with pytest.raises((nats.errors.TimeoutError, APIError)):
            await js.purge_stream(EVENTS_STREAM)
        with pytest.raises((nats.errors.TimeoutError, APIError)):
            await js.delete_msg(EVENTS_STREAM, ack.seq)
        with pytest.raises((nats.errors.TimeoutError, APIError)):
            await js.delete_stream(EVENTS_STREAM)
    finally:
        await nc.close()
    assert await events_in_stream(stream) == before
    assert len(errors.violations()) == 3, errors.seen


async def test_the_event_stream_itself_denies_purge_and_deletion(tmp_path: Path) -> None:
    """Even where no user rules apply (an auth-less server), the stream refuses."""
    with nats_server(tmp_path) as url:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            await ensure_events_stream(js, duplicate_window_s=60)
            ack = await js.publish(OPENED, b"{}")
            info = await js.stream_info(EVENTS_STREAM)
            assert info.config.deny_purge and info.config.deny_delete
            with pytest.raises(APIError) as purge:
                await js.purge_stream(EVENTS_STREAM)
            assert "purge not permitted" in str(purge.value)
            with pytest.raises(APIError) as delete:
                await js.delete_msg(EVENTS_STREAM, ack.seq)
            assert "not permitted" in str(delete.value)
            config = info.config
            config.deny_purge = False
            with pytest.raises(APIError) as undo:
                await js.update_stream(config)
            assert "deny purge" in str(undo.value)
            assert (await js.stream_info(EVENTS_STREAM)).state.messages == 1
        finally:
            await nc.close()


async def test_an_older_stream_gets_the_denials_on_the_next_start(tmp_path: Path) -> None:
    from nats.js.api import StreamConfig

    with nats_server(tmp_path) as url:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            await js.add_stream(StreamConfig(name=EVENTS_STREAM, subjects=["navcycle.events.>"]))
            await ensure_events_stream(js, duplicate_window_s=60)
            config = (await js.stream_info(EVENTS_STREAM)).config
            assert config.deny_purge and config.deny_delete
        finally:
            await nc.close()
    await asyncio.sleep(0)


async def test_the_compose_users_take_their_passwords_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.nats_auth import env_name
    from shared.settings import REPO_ROOT

    for user in USERS:
        monkeypatch.setenv(env_name(user), f"pw-{user}-from-env")
    with nats_server(tmp_path, REPO_ROOT / "deploy" / "nats" / "auth.conf") as url:
        nc = await nats.connect(
            with_credentials(url, "gateway", "pw-gateway-from-env"), allow_reconnect=False
        )
        await nc.close()
        other = with_credentials(url, "gateway", "pw-worker-from-env")
        assert "Authorization Violation" in await refused_to_connect(other)


async def test_no_service_can_read_the_answers_sent_to_the_gateway(server: AuthServer) -> None:
    errors = Errors()
    registry = await connect(server, "registry", errors)
    snoop = await registry.subscribe("_INBOX_gateway.>")

    async def answer(msg) -> None:  # type: ignore[no-untyped-def]
        await msg.respond(b"answer")

    await registry.subscribe("navcycle.rpc.registry.users.get", cb=answer)
    await registry.flush()
    gateway = await connect(server, "gateway")
    try:
        reply = await gateway.request("navcycle.rpc.registry.users.get", b"{}", timeout=3)
        assert reply.data == b"answer" and reply.subject.startswith("_INBOX_gateway.")
        with pytest.raises(nats.errors.TimeoutError):
            await snoop.next_msg(timeout=0.5)
    finally:
        await gateway.close()
        await registry.close()
    assert any("_inbox_gateway.>" in v for v in errors.violations()), errors.seen
