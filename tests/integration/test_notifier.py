"""The notifier against a real NATS, a local webhook receiver and a local SMTP sink."""

from __future__ import annotations

import email
import email.policy
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from services.notifier.app import Notifier, build_notifier
from services.notifier.delivery import (
    NOTICE_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    EmailChannel,
    WebhookChannel,
    verify,
)
from services.notifier.outbox import Recipients, RetryPolicy
from services.notifier.sender import OutboxSender, SenderLimits
from services.notifier.tables import MIGRATIONS as NOTIFIER_MIGRATIONS
from services.notifier.tables import Delivery
from shared.contracts.notifier import Inbox, InboxQuery
from shared.db import make_engine, session_scope
from shared.embedded import free_port
from shared.events.envelope import new_event
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from tests.helpers import log_end, until

SECRET = "notifier-test-key"


class Receiver:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        received = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                self.send_response(200 if self.path == "/ok" else 500)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
async def notifier(
    nats_url: str,
    nc: NatsClient,
    tmp_path_factory: pytest.TempPathFactory,
    receiver: Receiver,
    sink: tuple[Sink, int],
) -> AsyncIterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('notifier') / 'n.db'}")
    upgrade(engine, NOTIFIER_MIGRATIONS)
    sender = OutboxSender(
        engine,
        webhooks=WebhookChannel(SECRET),
        email=EmailChannel("127.0.0.1", sink[1], "navcycle@test"),
        policy=RetryPolicy(max_attempts=3, backoff_s=0.01),
        limits=SenderLimits(poll_s=0.05),
    )
    recipients = Recipients([f"{receiver.url}/ok", f"{receiver.url}/broken"], ["bureau@test"])
    # A consumer of its own from the log's end: the tests publish their events after this.
    service: Notifier = build_notifier(
        nats_url,
        engine,
        sender,
        recipients,
        consumer=f"notifier-{uuid.uuid4().hex[:8]}",
        start_after=await log_end(nc),
    )
    await service.start()
    yield engine
    await service.stop()


async def _inbox(nc: NatsClient, **query: Any) -> Inbox:
    return await RpcClient(nc).call("notifier", "inbox.list", InboxQuery(**query), Inbox)


async def test_a_rectification_order_reaches_inbox_webhook_and_mail(
    notifier: Any, nc: NatsClient, receiver: Receiver, sink: tuple[Sink, int]
) -> None:
    event = new_event(
        event_type=EventType.RECTIFICATION_ORDERED,
        program="notify",
        year=2026,
        base="n1",
        time=datetime.now(UTC),
        stream_key="cycle/notify/2026/n1",
        sequence=9,
        data={"round": 1, "due": "2026-09-01T00:00:00+08:00", "region": "410100"},
    )
    await EventPublisher(nc.jetstream()).publish(event)

    def mine(path: str) -> list[dict[str, Any]]:
        # This event's calls only: the module's other tests publish events too.
        return [
            c
            for c in receiver.calls
            if c["path"] == path and c["headers"].get("X-Navcycle-Event-Id") == event.id
        ]

    def mail() -> list[Any]:
        parsed = [
            email.message_from_bytes(m, policy=email.policy.default) for m in sink[0].messages
        ]
        # This event's mail only: the module's other tests' mails arrive too.
        return [m for m in parsed if event.id in str(m.get("Message-ID", ""))]

    inbox = await until(
        lambda: _inbox(nc, audiences=["base"], program="notify", base="n1"),
        lambda inbox: inbox.notices and len(mine("/broken")) >= 3 and mail(),
    )
    assert [n.title_zh for n in inbox.notices] == ["整改通知"]
    assert inbox.notices[0].region == "410100" and "2026年8月31日24时前" in inbox.notices[0].body_zh

    good = mine("/ok")
    assert len(good) == 1
    headers = good[0]["headers"]
    assert verify(SECRET, headers[TIMESTAMP_HEADER], good[0]["body"], headers[SIGNATURE_HEADER])
    assert len(mine("/broken")) == 3  # every retry

    assert good[0]["headers"][NOTICE_ID_HEADER] == f"{event.id}.base"

    def deliveries() -> list[Delivery]:
        with session_scope(notifier) as session:
            return list(session.exec(select(Delivery).where(Delivery.event_id == event.id)))

    rows = await until(
        deliveries, lambda rows: all(r.status != "pending" for r in rows), "every delivery ended"
    )
    assert sorted((r.channel, r.recipient, r.status, r.attempts, r.last_error) for r in rows) == [
        ("email", "bureau@test", "sent", 1, ""),
        ("webhook", f"{receiver.url}/broken", "dead", 3, "HTTP 500"),
        ("webhook", f"{receiver.url}/ok", "sent", 1, ""),
    ]
    assert [str(m["Subject"]) for m in mail()] == ["整改通知 / Rectification ordered"]

    # Redelivered under another message id: no second notice. The notifier applies the log in
    # order, so once a marker published behind the duplicate has its notice, the duplicate was
    # handled.
    await nc.jetstream().publish(
        event.nats_subject, event.to_json(), headers={"Nats-Msg-Id": "again"}
    )
    marker = new_event(
        event_type=EventType.RECTIFICATION_ORDERED,
        program="notify",
        year=2026,
        base="n1-marker",
        time=datetime.now(UTC),
        stream_key="cycle/notify/2026/n1-marker",
        sequence=9,
        data={"round": 1, "due": "2026-09-01T00:00:00+08:00", "region": "410100"},
    )
    await EventPublisher(nc.jetstream()).publish(marker)
    await until(
        lambda: _inbox(nc, audiences=["base"], program="notify", base="n1-marker"),
        lambda inbox: inbox.notices,
        "the marker behind the duplicate",
    )
    assert len((await _inbox(nc, audiences=["base"], program="notify", base="n1")).notices) == 1


async def test_city_inbox_is_scoped_by_region(notifier: Any, nc: NatsClient) -> None:
    for base, region in (("c1", "410102"), ("c2", "410302")):
        await EventPublisher(nc.jetstream()).publish(
            new_event(
                event_type=EventType.PLAN_OVERDUE,
                program="notify",
                year=2026,
                base=base,
                time=datetime.now(UTC),
                stream_key=f"cycle/notify/2026/{base}",
                sequence=3,
                data={"due": "x", "region": region},
            )
        )
    zz = await until(
        lambda: _inbox(nc, audiences=["city"], program="notify", region_prefix="4101"),
        lambda inbox: inbox.notices,
    )
    assert [n.base for n in zz.notices] == ["c1"]


async def test_an_assignment_reaches_only_its_expert(notifier: Any, nc: NatsClient) -> None:
    js = nc.jetstream()
    event = new_event(
        event_type=EventType.EXPERT_ASSIGNED,
        program="notify",
        year=2026,
        base="n2",
        time=datetime.now(UTC),
        stream_key="assessment/notify/2026/n2/1/exp-li",
        sequence=1,
        data={"expert": "exp-li", "round": 1, "due": "2026-10-16T00:00:00+08:00"},
    )
    await EventPublisher(js).publish(event)
    theirs = await until(
        lambda: _inbox(nc, audiences=["expert"], program="notify", recipient="exp-li"),
        lambda inbox: inbox.notices,
        "exp-li's assignment notice",
    )
    mine = theirs.notices
    assert [(n.kind, n.recipient) for n in mine] == [("expert_assigned", "exp-li")]
    assert "2026年10月15日24时前" in mine[0].body_zh
    other = await _inbox(nc, audiences=["expert", "program"], recipient="exp-wang")
    assert [n for n in other.notices if n.audience == "expert"] == []
