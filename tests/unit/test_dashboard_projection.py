"""The dashboard's pure parts: what a timeline row says, which city a base counts under, and
the in-memory fold a rebuild swaps in."""

from __future__ import annotations

from datetime import UTC, datetime

from services.dashboard.projection import city_of, timeline_detail
from services.dashboard.store import Aside
from shared.events.envelope import new_event
from shared.events.types import EventType


def _event(event_type: EventType, sequence: int, data: dict, base: str = "b1"):  # type: ignore[no-untyped-def,type-arg]
    return new_event(
        event_type=event_type,
        program="p",
        year=2026,
        base=base,
        time=datetime(2026, 3, 1, tzinfo=UTC),
        stream_key=f"cycle/p/2026/{base}@r",
        sequence=sequence,
        data=data,
    )


def test_a_timeline_row_names_its_document_and_what_happened() -> None:
    filed = _event(
        EventType.PLAN_FILED, 2, {"document": {"document_id": "d-1"}, "stage": "plan_filing"}
    )
    assert timeline_detail(filed) == ("d-1", None)  # the stage before is not news
    graded = _event(EventType.REVIEW_GRADED, 5, {"grade": "pass", "round": 0, "stage": "x"})
    assert timeline_detail(graded) == (None, "grade: pass")
    verified = _event(EventType.PLAN_VERIFIED, 3, {"step": "city"})
    assert timeline_detail(verified) == (None, "step: city")


def test_counties_count_under_their_city() -> None:
    assert city_of("410102") == "410100"
    assert city_of("410300") == "410300"
    assert city_of("410000") == "410000"
    assert city_of("") == ""


def test_the_fold_applies_each_event_once_and_keeps_the_latest_sequence() -> None:
    aside = Aside()
    opened = _event(EventType.CYCLE_OPENED, 1, {"region": "410102"})
    overdue = _event(EventType.PLAN_OVERDUE, 2, {"region": "410102"})
    aside.add(opened, 10)
    aside.add(overdue, 11)
    aside.add(overdue, 12)  # redelivered under another stream sequence
    view = aside.cycles[("p", 2026, "b1")]
    assert (view.stage, view.overdue, view.region) == ("plan_filing", 1, "410102")
    assert len(aside.timeline) == 2 and aside.stream_seq == 12
    assert aside.timeline[overdue.id]["stream_seq"] == 11
