"""The dashboard's pure parts: what a timeline row says, which city a base counts under, and
the in-memory fold a rebuild swaps in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from services.dashboard.projection import CycleView, apply, city_of, timeline_detail
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


def _fold(events: list) -> CycleView:  # type: ignore[type-arg]
    view = CycleView("p", 2026, "b1")
    for event in events:
        view = apply(view, event)
    return view


def test_a_cycle_view_is_the_same_whatever_order_its_events_arrive_in() -> None:
    """A consumer may apply an event after a later one of its cycle (a redelivery)."""
    graded_then_closed = [
        _event(EventType.CYCLE_OPENED, 1, {"region": "410102"}),
        _event(EventType.PLAN_OVERDUE, 2, {"region": "410102"}),
        _event(EventType.PLAN_FILED, 3, {"region": "410102"}),
        _event(EventType.SELFEVAL_OVERDUE, 4, {"region": "410102"}),
        _event(EventType.REVIEW_GRADED, 5, {"round": 0, "grade": "pass", "total": 71.0}),
        _event(EventType.CYCLE_CLOSED, 6, {"grade": "excellent"}),  # relative grading moved it
    ]
    rectified = [
        *graded_then_closed[:4],
        _event(EventType.REVIEW_GRADED, 5, {"round": 0, "grade": "fail", "total": 40.0}),
        _event(EventType.RECTIFICATION_ORDERED, 6, {"round": 1}),
        _event(EventType.REVIEW_GRADED, 7, {"round": 1, "grade": "pass", "total": 65.0}),
        _event(EventType.CYCLE_CLOSED, 8, {"grade": "fail", "rectified": True}),
    ]
    for events, expected in (
        (graded_then_closed, ("closed", "excellent", 71.0, 2, "410102", 6)),
        (rectified, ("closed", "fail", 40.0, 2, "410102", 8)),
    ):
        for order in itertools.permutations(events):
            v = _fold(list(order))
            assert (v.stage, v.grade, v.total, v.overdue, v.region, v.last_sequence) == expected
