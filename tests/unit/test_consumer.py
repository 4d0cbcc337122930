"""Reading a JetStream message's stream sequence from its reply subject."""

from __future__ import annotations

from nats.aio.msg import Msg

from shared.consumer import stream_seq


def test_the_stream_sequence_is_read_from_both_forms_of_ack_subject() -> None:
    for reply in (
        "$JS.ACK.NAVCYCLE_EVENTS.dashboard.1.4071.4069.1763780000000000000.12",
        "$JS.ACK.hub.ACCHASH.NAVCYCLE_EVENTS.dashboard.1.4071.4069.1763780000000000000.12.tok",
    ):
        msg = Msg(_client=None, subject="navcycle.events.x", reply=reply)  # type: ignore[arg-type]
        assert stream_seq(msg) == msg.metadata.sequence.stream == 4071
