"""Events as the workflows really wrote them: every ``publish_event`` input in the recorded
histories (tests/histories), and from those the fields each payload model requires, for tests
that build an event to show one field and need the rest as a producer would write them."""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

from shared.events.envelope import CloudEvent
from shared.events.payloads import payload_model
from shared.events.types import EventType

HISTORIES = Path(__file__).parent / "histories"

# Types no recorded history publishes (the services' own, and rare paths): written by hand.
_UNRECORDED: dict[EventType, dict[str, Any]] = {
    EventType.OPERATOR_ACTION: {"actor": "ops@host", "via": "cli", "action": "a", "target": "t"},
    EventType.BASE_REINSTATED: {"status": "active"},
    EventType.CALENDAR_APPLIED: {"calendar": "cn", "version": 1},
    EventType.EXPERT_ASSIGNED: {"expert": "exp-1"},
    EventType.PLAN_RETURNED: {"step": "city"},
    EventType.PLANS_FORWARDED: {
        "region": "410000",
        "level": "province",
        "units": ["b1", "b2"],
        "by": "henan-officer",
    },
    EventType.OUTCOME_DECIDED: {
        "kind": "exit",
        "rule": "outcomes.exit",
        "grades": [{"year": 2025, "grade": "fail"}, {"year": 2026, "grade": "fail"}],
        "words_zh": "连续2年（2025—2026年度）评估不合格，予以摘牌，退出基地序列",
        "words_en": "failed 2 years running (2025-2026): de-listed: the base leaves the programme",
    },
}


def recorded_events() -> list[tuple[str, CloudEvent]]:
    """``(history file, event)`` for every event a recorded workflow published."""
    found: list[tuple[str, CloudEvent]] = []
    for path in sorted(HISTORIES.glob("*.json")):
        for entry in json.loads(path.read_text())["events"]:
            scheduled = entry.get("activityTaskScheduledEventAttributes")
            if not scheduled or scheduled["activityType"]["name"] != "publish_event":
                continue
            raw = base64.b64decode(scheduled["input"]["payloads"][0]["data"])
            found.append((path.name, CloudEvent.model_validate(json.loads(raw)["event"])))
    return found


@functools.cache
def _samples() -> dict[EventType, dict[str, Any]]:
    samples: dict[EventType, dict[str, Any]] = {}
    for _, event in recorded_events():
        samples.setdefault(event.event_type, event.data)
    return samples


def required(event_type: EventType) -> dict[str, Any]:
    """The fields ``event_type``'s payload model requires, with values a producer wrote."""
    model = payload_model(event_type)
    sample = _samples().get(event_type) or _UNRECORDED.get(event_type, {})
    names = {f.alias or n for n, f in model.model_fields.items() if f.is_required()}
    missing = names - set(sample)
    if missing:
        raise KeyError(f"no sample value for {event_type.value}: {sorted(missing)}")
    return {k: v for k, v in sample.items() if k in names}
