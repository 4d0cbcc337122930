"""At-least-once notices: the outbox survives a stop between commit and send, a failing webhook is
retried and dead-lettered and then resent by the command, and a slow endpoint holds up no other.

On a real nats-server, SQLite and PostgreSQL, an aiosmtpd sink and a local HTTP receiver.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine
from sqlmodel import select

import services.notifier.sender as sender_module
from services.cli.main import main as navcycle
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
from shared.db import make_engine, session_scope
from shared.embedded import free_port
from shared.events.envelope import CloudEvent, new_event
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from shared.stream import EVENTS_STREAM
from tests.conftest import DATABASES, postgres_url
from tests.helpers import fresh_database, until

SECRET = "delivery-test-key"


class Receiver:
    """``/ok`` takes every call, ``/flaky`` fails while ``failing``, ``/slow`` answers late."""

    def __init__(self, slow_s: float = 3.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failing = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/slow":
                    time.sleep(slow_s)
                outer.calls.append(
                    {
                        "path": self.path,
                        "body": body,
                        "headers": dict(self.headers),
                        "at": time.time(),
                    }
                )
                ok = self.path != "/flaky" or not outer.failing
                self.send_response(200 if ok else 503)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, event: CloudEvent, path: str) -> list[dict[str, Any]]:
        return [
            c
            for c in self.calls
            if c["path"] == path and json.loads(c["body"])["event"]["id"] == event.id
        ]


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"

    def of(self, event: CloudEvent) -> list[email.message.EmailMessage]:
        parsed = [email.message_from_bytes(m, policy=email.policy.default) for m in self.messages]
        return [m for m in parsed if str(m[NOTICE_ID_HEADER]).startswith(event.id)]  # type: ignore[misc]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """The notifier's migrated database and its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'notifier.db'}"
        engine = make_engine(url)
        upgrade(engine, NOTIFIER_MIGRATIONS)
        yield engine, url
        return
    with fresh_database(postgres_url()) as (_, url):
        engine = make_engine(url)
        upgrade(engine, NOTIFIER_MIGRATIONS)
        yield engine, url
        engine.dispose()


Factory = Callable[..., Notifier]


@pytest.fixture
async def notifiers(
    nats_url: str, nc: NatsClient, db: tuple[Engine, str], sink: tuple[Sink, int]
) -> AsyncIterator[Factory]:
    """Builds notifier processes on one database and one durable consumer that starts after
    what is in the log now (other tests' events are not this test's)."""
    consumer = f"notifier-{uuid.uuid4().hex[:8]}"
    start_after = (await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
    made: list[Notifier] = []

    def make(recipients: Recipients, **limits: Any) -> Notifier:
        sender = OutboxSender(
            db[0],
            webhooks=WebhookChannel(SECRET),
            email=EmailChannel("127.0.0.1", sink[1], "navcycle@test", timeout_s=5),
            policy=RetryPolicy(max_attempts=3, backoff_s=0.05),
            limits=SenderLimits(
                **{"poll_s": 0.05, "timeout_s": 2.0, "lease_margin_s": 0.5, **limits}
            ),
        )
        service = build_notifier(nats_url, db[0], sender, recipients, consumer, start_after)
        made.append(service)
        return service

    yield make
    for service in made:
        await service.stop()


async def _publish(
    nc: NatsClient, event_type: EventType = EventType.RECTIFICATION_ORDERED
) -> CloudEvent:
    event = new_event(
        event_type=event_type,
        program="deliver",
        year=2026,
        base="d1",
        time=datetime.now(UTC),
        stream_key=f"cycle/deliver/2026/d1/{uuid.uuid4().hex}",
        sequence=1,
        data={"round": 1, "due": "2026-09-01T00:00:00+08:00", "region": "410100"},
    )
    await EventPublisher(nc.jetstream()).publish(event)
    return event


async def _marker_behind(nc: NatsClient, engine: Engine, statuses: list[str]) -> None:
    """A marker event published now, once its notices have ``statuses``: the notifier takes
    events and claims notices in order, so what the events before it were to cause is done."""
    marker = await _publish(nc)
    await until(
        lambda: [r.status for r in _rows(engine, marker)] == statuses,
        what="the marker's notices " + ", ".join(statuses),
    )


def _rows(engine: Engine, event: CloudEvent) -> list[Delivery]:
    with session_scope(engine) as session:
        rows = list(session.exec(select(Delivery).where(Delivery.event_id == event.id)))
        for row in rows:
            session.expunge(row)
    return sorted(rows, key=lambda r: (r.channel, r.recipient))


async def test_a_notice_committed_before_a_stop_is_delivered_once_after_the_restart(
    nc: NatsClient,
    db: tuple[Engine, str],
    notifiers: Factory,
    receiver: Receiver,
    sink: tuple[Sink, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = db[0]
    recipients = Recipients([f"{receiver.url}/ok"], ["bureau@test", "city@test"])
    first = notifiers(recipients)
    await first.start(deliver=False)  # the process stops between the commit and the send
    event = await _publish(nc)
    await until(lambda: len(_rows(engine, event)) == 3)
    await first.stop()
    assert [(r.channel, r.status) for r in _rows(engine, event)] == [
        ("email", "pending"),
        ("email", "pending"),
        ("webhook", "pending"),
    ]
    assert receiver.of(event, "/ok") == [] and sink[0].of(event) == []

    second = notifiers(recipients)
    await second.start()
    await until(lambda: all(r.status == "sent" for r in _rows(engine, event)))
    await _marker_behind(nc, engine, ["sent"] * 3)  # and nothing more arrives
    [call] = receiver.of(event, "/ok")
    headers = call["headers"]
    assert headers[NOTICE_ID_HEADER] == f"{event.id}.base"
    assert verify(SECRET, headers[TIMESTAMP_HEADER], call["body"], headers[SIGNATURE_HEADER])
    mails = sink[0].of(event)
    assert sorted(str(m["To"]) for m in mails) == ["bureau@test", "city@test"]
    assert {str(m["Message-ID"]) for m in mails} == {f"<{event.id}.base@navcycle>"}

    # A send that succeeded but whose success was not recorded: tried again after the claim's
    # lease, and the copy carries the same notice id, so the receiver can drop it.
    lost = {"once": True}
    record_sent = sender_module.record_sent

    def lose_first(engine: Engine, delivery_id: int, now: datetime) -> None:
        if lost.pop("once", False):
            raise ConnectionError("database gone")
        record_sent(engine, delivery_id, now)

    monkeypatch.setattr(sender_module, "record_sent", lose_first)
    again = await _publish(nc)
    await until(lambda: len(_rows(engine, again)) == 3)
    await until(lambda: all(r.status == "sent" for r in _rows(engine, again)))
    copies = receiver.of(again, "/ok") + [
        {"headers": {NOTICE_ID_HEADER: str(m[NOTICE_ID_HEADER]), "to": str(m["To"])}}
        for m in sink[0].of(again)
    ]
    assert len(copies) == 4  # one of the three was sent twice
    unique = {(c["headers"][NOTICE_ID_HEADER], c["headers"].get("to")) for c in copies}
    assert len(unique) == 3 and {n for n, _ in unique} == {f"{again.id}.base"}


async def test_a_failing_webhook_is_retried_dead_lettered_and_resent_by_the_command(
    nats_url: str,
    nc: NatsClient,
    db: tuple[Engine, str],
    notifiers: Factory,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, url = db
    service = notifiers(Recipients([f"{receiver.url}/flaky"], []))
    await service.start()
    event = await _publish(nc)
    await until(lambda: [r.status for r in _rows(engine, event)] == ["dead"])
    [row] = _rows(engine, event)
    assert (row.attempts, row.last_error) == (3, "HTTP 503")
    assert len(receiver.of(event, "/flaky")) == 3  # every try, then no more
    await _marker_behind(nc, engine, ["dead"])
    assert len(receiver.of(event, "/flaky")) == 3

    monkeypatch.setenv("NAVCYCLE_DATABASE_URL", url)
    monkeypatch.setenv("NAVCYCLE_NATS_URL", nats_url)
    assert await asyncio.to_thread(navcycle, ["notices", "resend", "--id", "999999"]) == 1
    receiver.failing = False
    assert await asyncio.to_thread(navcycle, ["notices", "resend", "--all-dead"]) == 0
    await until(lambda: [r.status for r in _rows(engine, event)] == ["sent"])
    calls = receiver.of(event, "/flaky")
    assert len(calls) == 4
    assert {c["headers"][NOTICE_ID_HEADER] for c in calls} == {f"{event.id}.base"}
    # Nothing dead is left to resend.
    assert await asyncio.to_thread(navcycle, ["notices", "resend", "--id", str(row.id)]) == 1


async def test_a_slow_endpoint_holds_up_no_other(
    nc: NatsClient, db: tuple[Engine, str], notifiers: Factory, receiver: Receiver
) -> None:
    engine = db[0]
    service = notifiers(
        Recipients([f"{receiver.url}/slow", f"{receiver.url}/ok"], []), timeout_s=10.0
    )
    await service.start()
    events = [await _publish(nc) for _ in range(2)]
    started = time.time()
    await until(lambda: all(len(receiver.of(e, "/ok")) == 1 for e in events), limit_s=2.5)
    assert time.time() - started < 2.5  # well before the slow endpoint's 3 s answer
    assert all(receiver.of(e, "/slow") == [] for e in events)
    await until(lambda: all(r.status == "sent" for e in events for r in _rows(engine, e)))
    assert all(len(receiver.of(e, "/slow")) == 1 for e in events)
