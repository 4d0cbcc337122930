"""The dashboard's pure parts: what a timeline row says, which city a base counts under, and
the in-memory fold a rebuild swaps in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from services.dashboard.projection import CycleView, apply, city_of, timeline_detail
from services.dashboard.store import Aside, Fold
from shared.events.envelope import new_event
from shared.events.types import EventType
from tests.event_samples import required


def _event(event_type: EventType, sequence: int, data: dict, base: str = "b1"):  # type: ignore[no-untyped-def,type-arg]
    return new_event(
        event_type=event_type,
        program="p",
        year=2026,
        base=base,
        time=datetime(2026, 3, 1, tzinfo=UTC),
        stream_key=f"cycle/p/2026/{base}@r",
        sequence=sequence,
        data={**required(event_type), **data},
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


# ---------------------------------------------------------------- issue 11: one story

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _at(
    event_type: EventType,
    sequence: int,
    data: dict,  # type: ignore[type-arg]
    *,
    minutes: int | None = None,
    run: str = "r",
    base: str | None = "b1",
    stream: str | None = None,
):  # type: ignore[no-untyped-def]
    """An event at ``minutes`` after T0 (by default its sequence): a cycle's, or the program
    year's when ``stream`` names it."""
    return new_event(
        event_type=event_type,
        program="p",
        year=2026,
        base=base,
        time=T0 + timedelta(minutes=sequence if minutes is None else minutes),
        stream_key=stream or f"cycle/p/2026/{base}@{run}",
        sequence=sequence,
        data={**required(event_type), **data},
    )


def _year_event(event_type: EventType, sequence: int, data: dict, **kw):  # type: ignore[no-untyped-def,type-arg]
    return _at(event_type, sequence, data, stream="program-year/p/2026", **kw)


def _entry(base: str, grade: str | None, total: float | None, outcome: str, **kw) -> dict:  # type: ignore[type-arg]
    return {
        "base": base,
        "grade": grade,
        "total": total,
        "outcome": outcome,
        "reason_zh": kw.get("reason_zh", ""),
        "reason_en": kw.get("reason_en", ""),
        "rank_reason_zh": "",
        "rank_reason_en": "",
        "objections": [],
        "corrected": kw.get("corrected", False),
    }


def _notice(number: int, entries: list[dict] | None, minutes: int, **data) -> object:  # type: ignore[type-arg]
    kind = "original" if number == 1 else "supplementary"
    event_type = EventType.RESULTS_PUBLISHED if number == 1 else EventType.RESULTS_CORRECTED
    body = {
        "notice": number,
        "kind": kind,
        "counts": {"excellent": 0, "pass": 0, "fail": 1},
        "publication_until": "2026-12-08T00:00:00+08:00",
        "publication_last_day": "2026-12-07",
        "provisional": False,
        "results": {"key": f"results/p/2026/notice-{number}.json", "sha256": "x", "size": 1},
        "entries": entries,
        **data,
    }
    return _year_event(event_type, 100 + number, body, minutes=minutes, base=None)


def _every_order(events: list) -> set:  # type: ignore[type-arg]
    """The projected values for every order of ``events``, through the fold a rebuild and the
    live service both use."""
    seen = set()
    for order in itertools.permutations(events):
        fold = Fold()
        for event in order:
            fold.add(event)
        cycles = tuple(sorted((k, repr(vars(v))) for k, v in fold.cycles.items()))
        years = tuple(sorted((k, repr(vars(v))) for k, v in fold.years.items()))
        objections = tuple(sorted((k, repr(vars(v))) for k, v in fold.objections.items()))
        seen.add((cycles, years, objections))
    return seen


def _only(events: list) -> Fold:  # type: ignore[type-arg]
    [_] = _every_order(events)  # the same whatever the order
    fold = Fold()
    for event in events:
        fold.add(event)
    return fold


def test_a_rectified_base_shows_what_the_supplementary_notice_says_in_any_order() -> None:
    events = [
        _at(EventType.REVIEW_GRADED, 5, {"round": 0, "grade": "fail", "total": 40.0}),
        _notice(
            1,
            [_entry("b1", "fail", 40.0, "rectification_ordered", reason_zh="得分低于60分")],
            minutes=6,
        ),
        _at(EventType.RECTIFICATION_ORDERED, 7, {"round": 1, "due": "2027-03-01T00:00:00+08:00"}),
        _at(EventType.REVIEW_GRADED, 8, {"round": 1, "grade": "pass", "total": 70.0}),
        _at(EventType.CYCLE_CLOSED, 9, {"grade": "fail", "rectified": True, "stage": "closed"}),
        _notice(
            2,
            [_entry("b1", "fail", 40.0, "rectified", reason_zh="整改合格", corrected=True)],
            minutes=10,
            corrected=["b1"],
        ),
    ]
    view = _only(events).cycles[("p", 2026, "b1")]
    assert (view.stage, view.grade, view.total, view.notice) == ("closed", "fail", 40.0, 2)
    assert (view.outcome, view.reason_zh, view.corrected) == ("rectified", "整改合格", True)
    year = _only(events).years[("p", 2026)]
    assert (year.notice, year.kind, year.corrected, year.inline) == (
        2,
        "supplementary",
        ["b1"],
        True,
    )


def test_after_a_reset_the_new_run_wins_and_the_grade_changes_only_with_a_correction() -> None:
    """The abandoned run went further (higher sequences) than the re-scored one: the stage
    follows the later run, and the grade is the 公示's until a supplementary notice says more."""
    old_run = [
        _at(EventType.REVIEW_GRADED, 5, {"round": 0, "grade": "fail", "total": 40.0}),
        _at(EventType.RECTIFICATION_ORDERED, 7, {"round": 1}),
        _at(EventType.RECTIFICATION_FAILED, 9, {"round": 1, "stage": "graded"}),
    ]
    published = _notice(1, [_entry("b1", "fail", 40.0, "rectification_ordered")], minutes=6)
    new_run = [
        _at(
            EventType.REVIEW_GRADED,
            5,
            {"round": 0, "grade": "pass", "total": 75.0},
            minutes=20,
            run="r2",
        ),
        _at(EventType.CYCLE_CLOSED, 6, {"grade": "pass", "stage": "closed"}, minutes=21, run="r2"),
    ]
    before = _only([*old_run, published, *new_run]).cycles[("p", 2026, "b1")]
    assert (before.stage, before.grade, before.total, before.outcome) == (
        "closed",
        "fail",
        40.0,
        "rectification_ordered",
    )
    corrected = _notice(2, [_entry("b1", "pass", 75.0, "none", corrected=True)], minutes=22)
    after = _only([*old_run, published, *new_run, corrected]).cycles[("p", 2026, "b1")]
    assert (after.stage, after.grade, after.total, after.outcome, after.notice) == (
        "closed",
        "pass",
        75.0,
        "none",
        2,
    )


def test_held_opened_and_ended_cycles_land_in_their_own_stages_in_any_order() -> None:
    held = _at(EventType.CYCLE_OPENED, 1, {"held": True, "reason": "rectifying", "stage": "held"})
    opened = _at(EventType.CYCLE_OPENED, 2, {"stage": "plan_filing", "region": "150100"})
    ended = _at(
        EventType.CYCLE_ENDED,
        3,
        {"reason": "not rectified", "delisted_in_year": 2025, "stage": "ended"},
    )
    assert _only([held]).cycles[("p", 2026, "b1")].stage == "held"
    assert _only([held, opened]).cycles[("p", 2026, "b1")].stage == "plan_filing"
    view = _only([held, opened, ended]).cycles[("p", 2026, "b1")]
    assert (view.stage, view.region) == ("ended", "150100")


def test_recomputed_and_moved_deadlines_replace_the_old_ones_in_any_order() -> None:
    provisional = {
        "due": "2027-01-09T00:00:00+08:00",
        "last_day": "2027-01-08",
        "provisional": True,
    }
    counted = {"due": "2027-01-12T00:00:00+08:00", "last_day": "2027-01-11", "provisional": False}
    events = [
        _at(
            EventType.CYCLE_OPENED,
            1,
            {
                "deadlines": {
                    "plan": "2026-04-02T00:00:00+08:00",
                    "self_evaluation": provisional["due"],
                },
                "deadline_info": {
                    "plan": {"last_day": "2026-04-01", "provisional": False},
                    "self_evaluation": {"last_day": "2027-01-08", "provisional": True},
                },
            },
        ),
        _at(EventType.REMINDER_SENT, 2, {"deadline": "self_evaluation", **provisional}),
        _at(
            EventType.DEADLINE_RECOMPUTED,
            3,
            {"deadline": "self_evaluation", "from": provisional, "to": counted, "calendar": "cn"},
        ),
        _at(EventType.REVIEW_OPENED, 4, {"round": 0, "due": "2027-02-01T00:00:00+08:00"}),
    ]
    deadlines = _only(events).cycles[("p", 2026, "b1")].deadlines
    assert {
        k: {f: v[f] for f in ("due", "last_day", "provisional")} for k, v in deadlines.items()
    } == {
        "plan": {
            "due": "2026-04-02T00:00:00+08:00",
            "last_day": "2026-04-01",
            "provisional": False,
        },
        "self_evaluation": counted,
        "review": {"due": "2027-02-01T00:00:00+08:00", "last_day": None, "provisional": False},
    }
    moved = {"due": "2027-02-20T00:00:00+08:00", "last_day": "2027-02-19", "provisional": False}
    later = _at(
        EventType.DEADLINE_MOVED,
        5,
        {
            "deadline": "self_evaluation",
            "from": counted,
            "to": moved,
            "reason": "plan_accepted_late",
        },
    )
    deadlines = _only([*events, later]).cycles[("p", 2026, "b1")].deadlines
    assert deadlines["self_evaluation"]["due"] == moved["due"]


def test_objections_and_the_publication_period_merge_in_any_order() -> None:
    lodged = _year_event(
        EventType.OBJECTION_LODGED,
        3,
        {
            "objection_id": "o1",
            "base": "b1",
            "role": "public",
            "grounds": "评分有误",
            "received_at": "2026-12-02T10:00:00+08:00",
        },
    )
    decided = _year_event(
        EventType.OBJECTION_DECIDED,
        4,
        {"objection_id": "o1", "base": "b1", "decision": "upheld", "reason": "复核", "by": "admin"},
    )
    published = _notice(1, [_entry("b1", "fail", 40.0, "none")], minutes=2, provisional=True)
    recomputed = _year_event(
        EventType.DEADLINE_RECOMPUTED,
        5,
        {
            "deadline": "publication",
            "from": {
                "due": "2026-12-08T00:00:00+08:00",
                "last_day": "2026-12-07",
                "provisional": True,
            },
            "to": {
                "due": "2026-12-09T00:00:00+08:00",
                "last_day": "2026-12-08",
                "provisional": False,
            },
            "calendar": "cn",
            "calendar_version": 2,
        },
        base=None,
    )
    finalized = _year_event(EventType.RESULTS_FINALIZED, 6, {"counts": {}}, base=None)
    fold = _only([lodged, decided, published, recomputed, finalized])
    objection = fold.objections[("o1",)]
    assert (objection.base, objection.role, objection.grounds) == ("b1", "public", "评分有误")
    assert (objection.status, objection.reason, objection.decided_by) == ("upheld", "复核", "admin")
    year = fold.years[("p", 2026)]
    assert (year.publication_last_day, year.provisional) == ("2026-12-08", False)
    assert year.finalized_at is not None
    # The objection is the program year's event: it neither opens nor moves the cycle's view.
    view = fold.cycles[("p", 2026, "b1")]
    assert (view.last_sequence, view.stage_key.startswith("e|")) == (0, False)


def test_events_of_other_sources_on_a_base_open_no_cycle() -> None:
    audit = new_event(
        event_type=EventType.OPERATOR_ACTION,
        program="p",
        year=2027,
        base="b1",
        time=T0,
        stream_key="operator/x",
        sequence=1,
        source="navcycle/audit",
        data={**required(EventType.OPERATOR_ACTION), "action": "reinstate"},
    )
    fold = Fold()
    fold.add(audit)
    assert fold.cycles == {} and fold.years == {} and fold.objections == {}
