"""Event payload contracts: one model per type and version, every recorded event parses strictly
through its model, a renamed field fails, every type is read by every consumer, and the checked-in
schemas are what ``make docs`` writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError, create_model

from services.dashboard.projection import (
    CycleView,
    ObjectionView,
    YearView,
    apply,
    apply_objection,
    apply_year,
    timeline_detail,
    touched,
)
from services.notifier.notices import notices_for
from shared.events.envelope import CloudEvent, new_event
from shared.events.payloads import (
    EventPayload,
    PlanFiled,
    UnknownPayload,
    payload_model,
    payload_models,
    read_payload,
    schema_version,
    unknown_fields,
)
from shared.events.payloads.schemas import schema_documents
from shared.events.types import EventType
from tests.event_samples import recorded_events, required

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas" / "events"


def check_strictly(event: CloudEvent) -> EventPayload:
    """What a producer wrote must be exactly its model: no field the model does not name (a
    renamed or misspelt key), every required one present, every value of its type."""
    model = payload_model(event.event_type, schema_version(event.dataschema))
    extra = unknown_fields(model, event.data)
    assert not extra, f"{event.type}: fields its model does not name: {sorted(extra)}"
    return model.model_validate(event.data)


def _event(payload: EventPayload, base: str | None = "b1") -> CloudEvent:
    return new_event(
        payload=payload,
        program="p",
        year=2026,
        base=base,
        time=datetime(2026, 3, 1, tzinfo=UTC),
        stream_key="cycle/p/2026/b1@r",
        sequence=1,
    )


def test_every_event_type_has_one_model_at_version_1() -> None:
    assert {m.event_type for m in payload_models()} == set(EventType)
    for event_type in EventType:
        assert payload_model(event_type).payload_version == 1


def test_every_recorded_event_parses_strictly_through_its_model() -> None:
    events = recorded_events()
    assert len(events) > 100
    for name, event in events:
        payload = check_strictly(event)
        assert payload.event_type == event.event_type, name
    assert {e.event_type for _, e in events} >= {EventType.REVIEW_GRADED, EventType.PLAN_FILED}


def test_a_renamed_field_in_a_payload_model_fails_on_what_producers_wrote() -> None:
    """``document`` renamed ``doc``: every recorded plan.filed now has a field the model lacks."""
    renamed = create_model(
        "PlanFiledRenamed",
        __base__=EventPayload,
        doc=(PlanFiled.model_fields["document"].annotation, ...),
        targets=(list, []),
    )
    filed = [e for _, e in recorded_events() if e.event_type == EventType.PLAN_FILED]
    assert filed
    for event in filed:
        assert "document" in unknown_fields(renamed, event.data)
        with pytest.raises(ValidationError):
            renamed.model_validate(event.data)


def test_a_payload_sets_the_type_and_dataschema_and_reads_back() -> None:
    payload = payload_model(EventType.REVIEW_GRADED).model_validate(
        required(EventType.REVIEW_GRADED)
    )
    event = _event(payload)
    assert event.type == "navcycle.review.graded"
    assert event.dataschema == "https://navcycle.example/schemas/events/review.graded.v1.json"
    assert read_payload(CloudEvent.from_json(event.to_json())) == payload
    with pytest.raises(ValueError, match=r"plan\.filed payload on a review\.graded event"):
        new_event(
            payload=PlanFiled.model_validate(required(EventType.PLAN_FILED)),
            event_type=EventType.REVIEW_GRADED,
            program="p",
            year=2026,
            base="b1",
            time=datetime(2026, 3, 1, tzinfo=UTC),
            stream_key="k",
            sequence=1,
        )


def test_old_events_name_version_1_and_an_unknown_version_is_refused() -> None:
    assert schema_version("urn:navcycle:schema:plan.filed:1") == 1
    assert schema_version("https://navcycle.example/schemas/events/plan.filed.v2.json") == 2
    event = _event(PlanFiled.model_validate(required(EventType.PLAN_FILED)))
    old = event.model_copy(update={"dataschema": "urn:navcycle:schema:plan.filed:1"})
    assert isinstance(read_payload(old), PlanFiled)
    newer = event.model_copy(update={"dataschema": event.dataschema.replace(".v1.", ".v9.")})
    with pytest.raises(UnknownPayload):
        read_payload(newer)


def test_a_reader_drops_a_field_a_newer_producer_added_and_refuses_a_missing_one() -> None:
    event = _event(PlanFiled.model_validate(required(EventType.PLAN_FILED)))
    added = event.model_copy(update={"data": {**event.data, "added_later": 1}})
    assert isinstance(read_payload(added), PlanFiled)
    missing = event.model_copy(
        update={"data": {k: v for k, v in event.data.items() if k != "document"}}
    )
    with pytest.raises(ValidationError):
        read_payload(missing)


def test_each_event_type_is_read_by_each_consumer() -> None:
    """Built as a producer builds it, every type goes through the notifier and every dashboard
    fold without an error (the assessment service's reads are in tests/integration)."""
    for model in payload_models():
        payload = model.model_validate(required(model.event_type))
        for base in ("b1", None):
            event = _event(payload, base)
            check_strictly(event)
            notices_for(event)
            touched(event)
            timeline_detail(event)
            apply(CycleView(program="p", year=2026, base="b1"), event)
            apply_year(YearView(program="p", year=2026), event)
            if model.event_type.value.startswith("objection."):
                apply_objection(ObjectionView("o1", "p", 2026, "b1"), event)


def test_checked_in_schemas_are_what_make_docs_writes() -> None:
    expected = schema_documents()
    found = {p.name: p.read_text(encoding="utf-8") for p in SCHEMAS.glob("*.json")}
    assert sorted(found) == sorted(expected), "run `make docs` and commit docs/schemas/events"
    for name, text in expected.items():
        assert found[name] == text, f"{name} is stale: run `make docs`"
