"""The NATS users of ``shared.nats_auth`` on a real nats-server started with the generated config:
no way in without the right password, each service only on its own subjects, and the event log
never purged or shortened, by the gateway or by anyone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import APIError, NotFoundError
from sqlalchemy import Engine

from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.notifier.tables import MIGRATIONS as NOTIFIER_MIGRATIONS
from shared.consumer import ALL_EVENTS
from shared.db import make_engine
from shared.embedded import free_port, nats_server
from shared.eventlog import fetch_events, read_events
from shared.events.envelope import new_event
from shared.events.subjects import event_filter
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.nats_auth import CONFIG_FILE, SERVICES, USERS, inbox_prefix, write_embedded_auth
from shared.publisher import EventPublisher
from shared.service import url_inbox_prefix
from shared.settings import with_credentials
from shared.stream import EVENTS_STREAM, ensure_events_stream
from tests.helpers import until

OPENED = "navcycle.events.demo-fast.2031.b1.review.opened"


@dataclass
class AuthServer:
    url: str
    passwords: dict[str, str]
    monitor: int = 0


@dataclass
class Errors:
    seen: list[str] = field(default_factory=list)

    async def record(self, exc: Exception) -> None:
        self.seen.append(str(exc))

    def violations(self) -> list[str]:
        return [e.lower() for e in self.seen if "permissions violation" in e.lower()]

    async def settle(self, count: int) -> None:
        """Refusals arrive after the call that caused them: wait for ``count`` of them."""
        await until(self.violations, lambda seen: len(seen) >= count, f"{count} refusals")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    root = tmp_path_factory.mktemp("nats-auth")
    monitor = free_port()
    passwords = write_embedded_auth(root / "auth", monitor_port=monitor)
    with nats_server(root / "store", root / "auth" / CONFIG_FILE) as url:
        yield AuthServer(url, passwords, monitor)


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
    # The file as compose mounts it, but monitoring on a free port (8222 may be taken here).
    text = (REPO_ROOT / "deploy" / "nats" / "auth.conf").read_text()
    assert 'http: "127.0.0.1:8222"\n' in text
    config = tmp_path / "auth.conf"
    config.write_text(text.replace(":8222", f":{free_port()}"))
    with nats_server(tmp_path / "store", config) as url:
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


@pytest.mark.parametrize("user", USERS)
async def test_no_user_may_read_the_shared_inbox_or_another_users(
    server: AuthServer, user: str
) -> None:
    errors = Errors()
    nc = await connect(server, user, errors)
    other = "registry" if user != "registry" else "gateway"
    # The operator may read the default inbox (its own tools keep it), no one else.
    watched = [f"{inbox_prefix(other)}.>"] + (["_INBOX.>"] if user != "operator" else [])
    try:
        subs = [await nc.subscribe(subject) for subject in watched]
        await nc.flush()
        sender = await connect(server, "operator")
        await sender.publish("_INBOX.probe", b"x")
        await sender.publish(f"{inbox_prefix(other)}.probe", b"x")
        await sender.close()
        for sub in subs:
            with pytest.raises(nats.errors.TimeoutError):
                await sub.next_msg(timeout=0.3)
    finally:
        await nc.close()
    if user != "operator":  # the operator may subscribe to ">", but is not sent these
        refused = errors.violations()
        assert any("_inbox.>" in v for v in refused), errors.seen
        assert any(f"{inbox_prefix(other).lower()}.>" in v for v in refused), errors.seen


async def test_the_operators_tools_may_keep_the_default_inbox(server: AuthServer) -> None:
    registry = await connect(server, "registry")

    async def answer(msg) -> None:  # type: ignore[no-untyped-def]
        await msg.respond(b"ok")

    await registry.subscribe("navcycle.rpc.registry.health", cb=answer)
    await registry.flush()
    tool = await nats.connect(
        with_credentials(server.url, "operator", server.passwords["operator"]),
        allow_reconnect=False,
    )
    try:
        reply = await tool.request("navcycle.rpc.registry.health", b"{}", timeout=3)
    finally:
        await tool.close()
        await registry.close()
    assert reply.data == b"ok" and reply.subject.startswith("_INBOX.")


@pytest.mark.parametrize("user", USERS)
async def test_every_user_takes_its_answers_on_its_own_inbox(server: AuthServer, user: str) -> None:
    """A service asks itself (its container's health check); the others ask the registry."""
    service = user if user in SERVICES else "registry"
    responder = await connect(server, service)

    async def answer(msg) -> None:  # type: ignore[no-untyped-def]
        await msg.respond(b"ok")

    await responder.subscribe(f"navcycle.rpc.{service}.health", cb=answer)
    await responder.flush()
    nc = await connect(server, user)
    try:
        reply = await nc.request(f"navcycle.rpc.{service}.health", b"{}", timeout=3)
    finally:
        await nc.close()
        await responder.close()
    assert reply.data == b"ok"
    assert reply.subject.startswith(f"_INBOX_{user}."), reply.subject


def test_a_service_broker_takes_its_users_inbox() -> None:
    assert url_inbox_prefix(["nats://dashboard:pw@n1:4222", "nats://x:pw@n2:4222"]) == (
        "_INBOX_dashboard"
    )
    assert url_inbox_prefix("nats://127.0.0.1:4222") == "_INBOX"


async def _consumed(js: JetStreamContext, consumer: str, seq: int) -> None:
    await until(
        lambda: js.consumer_info(EVENTS_STREAM, consumer),
        lambda info: info.ack_floor and (info.ack_floor.stream_seq or 0) >= seq,
        f"{consumer} acknowledging {seq}",
        every=0.1,
    )


async def test_a_reader_cannot_delete_another_services_consumer(
    server: AuthServer, stream: NatsClient, tmp_path: Path
) -> None:
    """The notifier and the dashboard run as their users: each makes, reads and acknowledges its
    own consumer (the dashboard replacing an older one of its name); neither the dashboard, the
    gateway nor the assessment may delete, pull from or acknowledge another's."""
    from services.dashboard.app import build_broker as dashboard_broker
    from services.notifier.app import build_broker as notifier_broker

    def url(user: str) -> str:
        return with_credentials(server.url, user, server.passwords[user])

    def engine(name: str) -> Engine:
        db = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(db, {"dashboard": DASHBOARD_MIGRATIONS, "notifier": NOTIFIER_MIGRATIONS}[name])
        return db

    js = stream.jetstream()
    # An older dashboard's pull consumer, which the dashboard replaces on start.
    await js.add_consumer(EVENTS_STREAM, ConsumerConfig(durable_name="dashboard"))
    notifier = notifier_broker(url("notifier"), engine("notifier"))
    dashboard = dashboard_broker(url("dashboard"), engine("dashboard"))
    await notifier.start()
    await dashboard.start()
    try:
        worker = await connect(server, "worker")
        ack = await worker.jetstream().publish(OPENED, b"not an event", timeout=5)
        await worker.close()
        await _consumed(js, "notifier", ack.seq)  # dead-lettered (its DLQ) and acknowledged
        await _consumed(js, "dashboard", ack.seq)
        assert (await js.consumer_info(EVENTS_STREAM, "dashboard")).config.deliver_subject

        for user, victim in (("dashboard", "notifier"), ("gateway", "dashboard")):
            errors = Errors()
            nc = await connect(server, user, errors)
            theirs = nc.jetstream(timeout=1)
            try:
                with pytest.raises((nats.errors.TimeoutError, APIError)):
                    await theirs.delete_consumer(EVENTS_STREAM, victim)
                await nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{victim}", b"1")
                await nc.publish(f"$JS.ACK.{EVENTS_STREAM}.{victim}.1.1.1.1.0", b"+ACK")
                await nc.flush()
                await errors.settle(3)
            finally:
                await nc.close()
            refused = " ".join(errors.violations())
            for api in ("$js.api.consumer.delete", "$js.api.consumer.msg.next", "$js.ack"):
                assert f"{api}.{EVENTS_STREAM}.{victim}".lower() in refused, errors.seen
        errors = Errors()
        assessment = await connect(server, "assessment", errors)
        try:
            with pytest.raises((nats.errors.TimeoutError, APIError)):
                await assessment.jetstream(timeout=1).delete_consumer(EVENTS_STREAM, "notifier")
        finally:
            await assessment.close()
        assert errors.violations(), errors.seen
    finally:
        await dashboard.stop()
        await notifier.stop()
    names = {c.name for c in await js.consumers_info(EVENTS_STREAM)}
    assert {"notifier", "dashboard"} <= names, names


async def test_the_operator_replays_the_log_and_the_gateway_reads_it_without_a_consumer(
    server: AuthServer, stream: NatsClient
) -> None:
    """``navcycle events`` and ``navcycle dashboard rebuild`` (the operator) replay through
    ordered consumers; the gateway's year view fetches its few events one by one."""
    worker = await connect(server, "worker")
    ack = await worker.jetstream().publish(OPENED, b"not an event", timeout=5)
    event = new_event(
        event_type=EventType.PLAN_OVERDUE,
        program="auth-year",
        year=2031,
        base="b1",
        time=datetime.now(UTC),
        stream_key="cycle/auth-year/2031/b1",
        sequence=1,
        data={"region": "410100"},
    )
    published = await EventPublisher(worker.jetstream()).publish(event)
    await worker.close()
    operator = await connect(server, "operator")
    try:
        unreadable: list[int] = []
        await read_events(operator.jetstream(timeout=3), ALL_EVENTS, unreadable=unreadable)
    finally:
        await operator.close()
    assert ack.seq in unreadable
    errors = Errors()
    gateway = await connect(server, "gateway", errors)
    try:
        overdue = event_filter("auth-year", 2031, event_type="plan.overdue")
        found = await fetch_events(gateway.jetstream(timeout=3), overdue)
        assert [(seq, e.id) for seq, e in found] == [(published.stream_seq, event.id)]
        assert await fetch_events(gateway.jetstream(timeout=3), event_filter("none", 1)) == []
    finally:
        await gateway.close()
    assert errors.violations() == []


@pytest.mark.parametrize("user", ["registry", "notifier", "dashboard", "gateway", "worker"])
async def test_no_service_makes_an_ephemeral_consumer(
    server: AuthServer, stream: NatsClient, user: str
) -> None:
    errors = Errors()
    nc = await connect(server, user, errors)
    try:
        with pytest.raises((nats.errors.TimeoutError, APIError)):
            await read_events(nc.jetstream(timeout=1), ALL_EVENTS)
    finally:
        await nc.close()
    assert any(f"consumer.create.{EVENTS_STREAM}".lower() in v for v in errors.violations())


@pytest.mark.parametrize("user", ["gateway", "notifier", "assessment"])
async def test_no_service_redirects_the_dashboards_consumer(
    server: AuthServer, stream: NatsClient, user: str
) -> None:
    """nats-server takes the name from the body of an ephemeral consumer's request: with that
    right a user could point the dashboard's deliveries at its own inbox."""
    js = stream.jetstream()
    try:
        await js.delete_consumer(EVENTS_STREAM, "dashboard")
    except NotFoundError:
        pass
    made = await js.add_consumer(
        EVENTS_STREAM,
        ConsumerConfig(durable_name="dashboard", deliver_subject="_INBOX_dashboard.d1"),
    )
    config = {**made.config.as_dict(), "name": "dashboard"}
    config.pop("durable_name", None)
    config["deliver_subject"] = f"{inbox_prefix(user)}.stolen"
    body = json.dumps({"stream_name": EVENTS_STREAM, "config": config}).encode()
    errors = Errors()
    nc = await connect(server, user, errors)
    try:
        with pytest.raises(nats.errors.TimeoutError):
            await nc.request(f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}", body, timeout=1)
    finally:
        await nc.close()
    info = await js.consumer_info(EVENTS_STREAM, "dashboard")
    assert info.config.deliver_subject == "_INBOX_dashboard.d1"
    assert errors.violations(), errors.seen
    await js.delete_consumer(EVENTS_STREAM, "dashboard")


def test_the_monitoring_port_listens_on_the_loopback_only(server: AuthServer) -> None:
    varz = httpx.get(f"http://127.0.0.1:{server.monitor}/varz", timeout=5).json()
    assert varz["http_host"] == "127.0.0.1" and varz["http_port"] == server.monitor
