"""The assessment service's event consumer: assignments in turn, idempotent, poison to the DLQ."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from shared.consumer import dlq_subject
from shared.contracts.assessment import AddExpert, AssignmentQuery, Assignments
from shared.events.envelope import new_event
from shared.events.types import EventType
from shared.publisher import EventPublisher
from shared.rpc import Empty, RpcClient
from shared.stream import DLQ_STREAM
from tests.conftest import Stack
from tests.helpers import until


def _opened(base: str, seq: int = 1, round_: int = 0):  # type: ignore[no-untyped-def]
    return new_event(
        event_type=EventType.REVIEW_OPENED,
        program="asg",
        year=2026,
        base=base,
        time=datetime.now(UTC),
        stream_key=f"cycle/asg/2026/{base}",
        sequence=seq,
        data={"round": round_, "experts_required": 2},
    )


async def _dead_letters(js: JetStreamContext, subject: str) -> list[RawStreamMsg]:
    letters, seq = [], 1
    while True:
        try:
            msg = await js.get_msg(DLQ_STREAM, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return letters
        letters.append(msg)
        seq = (msg.seq or seq) + 1


async def _assigned(rpc: RpcClient, base: str, count: int = 2) -> Assignments:
    query = AssignmentQuery(program="asg", year=2026, base=base)
    got: Assignments = await until(
        lambda: rpc.call("assessment", "assignments.current", query, Assignments),
        lambda got: len(got.experts) >= count,
        f"{count} experts assigned to {base}",
    )
    return got


async def test_experts_are_assigned_in_turn_and_redelivery_changes_nothing(
    stack: Stack, nc: NatsClient
) -> None:
    rpc = RpcClient(nc)
    for expert in ("e1", "e2", "e3"):
        await rpc.call("assessment", "experts.add", AddExpert(program="asg", expert=expert), Empty)
    publisher = EventPublisher(nc.jetstream())
    first = _opened("a1")
    await publisher.publish(first)
    assert (await _assigned(rpc, "a1")).experts == ["e1", "e2"]
    # The same event again under another message id: JetStream keeps both, the consumer acts once.
    await nc.jetstream().publish(
        first.nats_subject, first.to_json(), headers={"Nats-Msg-Id": "copy"}
    )
    await publisher.publish(_opened("a2"))
    assert (await _assigned(rpc, "a2")).experts == ["e1", "e3"]
    assert (await _assigned(rpc, "a1")).experts == ["e1", "e2"]


async def test_an_unreadable_event_goes_to_the_dead_letter_stream(
    stack: Stack, nc: NatsClient
) -> None:
    js = nc.jetstream()
    await js.publish("navcycle.events.asg.2026.bad.review.opened", b"{not json")
    subject = dlq_subject("assessment")
    # Counted on the subject: the stream's own count includes other consumers' dead letters.
    await until(
        lambda: js.stream_info(DLQ_STREAM, subjects_filter=subject),
        lambda info: (info.state.subjects or {}).get(subject),
    )
    # Its own dead letter among any other test's (the log is shared by the session's tests).
    letters = await until(
        lambda: _dead_letters(js, subject),
        lambda found: any(m.data == b"{not json" for m in found),
    )
    msg = next(m for m in letters if m.data == b"{not json")
    assert msg.headers is not None and "unreadable event" in msg.headers["Navcycle-Dead-Reason"]
