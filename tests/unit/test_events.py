from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.events.envelope import CloudEvent, event_id, new_event
from shared.events.subjects import InvalidIdentifier, event_filter, event_subject
from shared.events.types import EventType

T = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _event(**overrides: object) -> CloudEvent:
    args = dict(
        event_type=EventType.PLAN_FILED,
        program="henan",
        year=2026,
        base="zz-biomed",
        time=T,
        stream_key="cycle/henan/2026/zz-biomed",
        sequence=3,
        data={"sha256": "ab"},
    )
    args.update(overrides)
    return new_event(**args)  # type: ignore[arg-type]


def test_envelope_carries_cloudevents_attributes() -> None:
    event = _event()
    doc = event.model_dump(mode="json")
    assert doc["specversion"] == "1.0"
    assert doc["type"] == "navcycle.plan.filed"
    assert doc["subject"] == "henan/2026/zz-biomed"
    assert doc["time"] == "2026-03-01T08:00:00Z"
    assert doc["datacontenttype"] == "application/json"
    assert doc["dataschema"] == "https://navcycle.example/schemas/events/plan.filed.v1.json"
    assert event.nats_subject == "navcycle.events.henan.2026.zz-biomed.plan.filed"


def test_envelope_round_trips_through_json() -> None:
    event = _event()
    assert CloudEvent.from_json(event.to_json()) == event


def test_program_wide_event_uses_underscore_base() -> None:
    event = _event(base=None, event_type=EventType.PROGRAM_LAUNCHED)
    assert event.subject == "henan/2026/_"
    assert event.nats_subject == "navcycle.events.henan.2026._.program.launched"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError):
        _event(time=datetime(2026, 3, 1))


def test_event_ids_are_deterministic_and_distinct() -> None:
    same = event_id("cycle/p/2026/b", 3, EventType.PLAN_FILED)
    assert same == event_id("cycle/p/2026/b", 3, EventType.PLAN_FILED)
    assert same == _event(stream_key="cycle/p/2026/b").id
    others = {
        event_id("cycle/p/2026/b", 4, EventType.PLAN_FILED),
        event_id("cycle/p/2026/c", 3, EventType.PLAN_FILED),
        event_id("cycle/p/2026/b", 3, EventType.PLAN_RETURNED),
    }
    assert same not in others and len(others) == 3
    assert "." not in same


@pytest.mark.parametrize("bad", ["a.b", "a b", "*", ">", "", "x" * 65])
def test_subject_tokens_refuse_bad_ids(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        event_subject(bad, 2026, "b", EventType.PLAN_FILED)
    with pytest.raises(InvalidIdentifier):
        event_subject("p", 2026, bad, EventType.PLAN_FILED)


def test_filters_match_positions() -> None:
    assert event_filter() == "navcycle.events.>"
    assert event_filter("henan") == "navcycle.events.henan.*.*.*.*"
    assert event_filter("henan", 2026, "b1") == "navcycle.events.henan.2026.b1.*.*"
    assert (
        event_filter(year=2026, event_type="review.graded")
        == "navcycle.events.*.2026.*.review.graded"
    )


def test_every_event_type_has_two_tokens() -> None:
    assert all(len(t.value.split(".")) == 2 for t in EventType)
    assert EventType.from_cloudevents_type("navcycle.base.delisted") is EventType.BASE_DELISTED
    with pytest.raises(ValueError):
        EventType.from_cloudevents_type("other.base.delisted")
