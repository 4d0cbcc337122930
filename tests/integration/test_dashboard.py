"""Dashboard projections: live from the consumer, and rebuilt from sequence 1, are equal."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine

from services.dashboard import store
from services.dashboard.app import build_broker
from services.dashboard.rebuild import CHECKPOINT, rebuild
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.contracts.dashboard import (
    BaseQuery,
    BaseTimeline,
    OverdueList,
    OverdueQuery,
    ProjectionUpdated,
    YearCounts,
    YearList,
    YearQuery,
)
from shared.db import make_engine, session_scope
from shared.events.envelope import CloudEvent, new_event
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from shared.rpc import Empty, RpcClient
from shared.stream import EVENTS_STREAM
from tests.event_samples import required
from tests.helpers import until

STEPS = [
    (EventType.CYCLE_OPENED, {}),
    (EventType.PLAN_FILED, {}),
    (EventType.PLAN_ACCEPTED, {}),
    (EventType.SELFEVAL_OVERDUE, {"due": "x"}),
    (EventType.REVIEW_GRADED, {"round": 0, "total": 0.0, "grade": "fail"}),
    (EventType.RECTIFICATION_ORDERED, {"round": 1}),
    (EventType.BASE_DELISTED, {}),
]


_CORE = ("program", "year", "base", "region", "stage", "grade", "total", "overdue", "last_sequence")


async def test_live_projections_equal_a_rebuild_from_sequence_one(
    nats_url: str, nc: NatsClient, tmp_path: Path
) -> None:
    live = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    rebuilt = make_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    for engine in (live, rebuilt):
        upgrade(engine, DASHBOARD_MIGRATIONS)
    # A consumer of its own, as its database is new: the session's "dashboard" durable may have
    # been moved on by other tests (whichever ran before).
    broker = build_broker(nats_url, live, consumer=f"dashboard-{uuid.uuid4().hex[:8]}")
    await broker.start()
    try:
        js = nc.jetstream()
        publisher = EventPublisher(js)
        for n, (event_type, data) in enumerate(STEPS, 1):
            event = new_event(
                event_type=event_type,
                program="dash",
                year=2026,
                base="d1",
                time=datetime.now(UTC),
                stream_key="cycle/dash/2026/d1@run",
                sequence=n,
                data={**required(event_type), **data, "region": "410100"},
            )
            await publisher.publish(event)
        # The same event under another message id: projected once.
        await js.publish(event.nats_subject, event.to_json(), headers={"Nats-Msg-Id": "dup"})
        for event in _one_story():
            await publisher.publish(event)

        for _attempt in range(5):
            last = await _caught_up(live, js)
            count = (await rebuild(js, rebuilt)).events
            if store.checkpoint(rebuilt, CHECKPOINT) == store.checkpoint(live, CHECKPOINT) == last:
                break  # nothing arrived while rebuilding: the two read the same log
        else:
            pytest.fail("the event log kept moving during every rebuild")
        assert count >= len(STEPS) + 1 + len(_one_story())
        assert store.cycles(live) == store.cycles(rebuilt)
        assert store.timeline(live) == store.timeline(rebuilt)
        assert store.program_years(live) == store.program_years(rebuilt)
        assert store.objections(live) == store.objections(rebuilt)
        _assert_one_story(live)
        d1 = [{k: c[k] for k in _CORE} for c in store.cycles(live) if c["program"] == "dash"]
        assert d1 == [
            {
                "program": "dash",
                "year": 2026,
                "base": "d1",
                "region": "410100",
                "stage": "delisted",
                "grade": "fail",
                "total": 0.0,
                "overdue": 1,
                "last_sequence": len(STEPS),
            }
        ]
    finally:
        await broker.stop()


def _story_event(
    base: str | None,
    n: int,
    event_type: EventType,
    data: dict,
    run: str = "run",  # type: ignore[type-arg]
) -> CloudEvent:
    stream = (
        f"cycle/story/2026/{base}@{run}" if base and run != "year" else "program-year/story/2026"
    )
    return new_event(
        event_type=event_type,
        program="story",
        year=2026,
        base=base,
        time=datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=n),
        stream_key=stream,
        sequence=n,
        data={**required(event_type), **data, **({} if run == "year" else {"region": "150100"})},
    )


def _entry(base: str, grade: str | None, total: float | None, outcome: str, reason: str) -> dict:  # type: ignore[type-arg]
    return {"base": base, "grade": grade, "total": total, "outcome": outcome, "reason_zh": reason}


def _one_story() -> list[CloudEvent]:
    """A year of issue 11: a held cycle, a provisional deadline counted again, an ended cycle, the
    公示, an upheld objection re-reviewed after an operator's reset, and the correction."""
    provisional = {
        "due": "2027-01-09T00:00:00+08:00",
        "last_day": "2027-01-08",
        "provisional": True,
    }
    counted = {"due": "2027-01-12T00:00:00+08:00", "last_day": "2027-01-11", "provisional": False}
    notice = {
        "counts": {"excellent": 0, "pass": 0, "fail": 1},
        "publication_until": "2026-12-09T00:00:00+08:00",
        "publication_last_day": "2026-12-08",
        "provisional": True,
        "results": {"key": "results/story/2026/results.json", "sha256": "x", "size": 1},
    }
    return [
        _story_event(
            "h1", 1, EventType.CYCLE_OPENED, {"held": True, "reason": "rectifying", "stage": "held"}
        ),
        _story_event("e1", 1, EventType.CYCLE_OPENED, {"stage": "plan_filing"}),
        _story_event(
            "e1",
            2,
            EventType.CYCLE_ENDED,
            {"reason": "vetoed", "delisted_in_year": 2025, "stage": "ended"},
        ),
        _story_event(
            "g1",
            1,
            EventType.CYCLE_OPENED,
            {
                "deadlines": {"self_evaluation": provisional["due"]},
                "deadline_info": {
                    "self_evaluation": {k: v for k, v in provisional.items() if k != "due"}
                },
            },
        ),
        _story_event(
            "g1",
            2,
            EventType.DEADLINE_RECOMPUTED,
            {"deadline": "self_evaluation", "from": provisional, "to": counted},
        ),
        _story_event(
            "g1",
            3,
            EventType.REVIEW_GRADED,
            {"round": 0, "grade": "fail", "total": 55.0, "stage": "graded"},
        ),
        _story_event(
            None,
            1,
            EventType.RESULTS_PUBLISHED,
            {
                **notice,
                "notice": 1,
                "kind": "original",
                "entries": [_entry("g1", "fail", 55.0, "none", "得分低于60分")],
            },
            run="year",
        ),
        _story_event(
            "g1",
            2,
            EventType.OBJECTION_LODGED,
            {
                "objection_id": "ob1",
                "base": "g1",
                "role": "base_user",
                "grounds": "漏计专家评分",
                "received_at": "2026-12-02T09:00:00+08:00",
            },
            run="year",
        ),
        _story_event(
            "g1",
            3,
            EventType.OBJECTION_DECIDED,
            {
                "objection_id": "ob1",
                "base": "g1",
                "decision": "upheld",
                "reason": "复核属实",
                "by": "province",
            },
            run="year",
        ),
        _story_event(
            None,
            4,
            EventType.DEADLINE_RECOMPUTED,
            {
                "deadline": "publication",
                "from": {},
                "to": {
                    "due": "2026-12-10T00:00:00+08:00",
                    "last_day": "2026-12-09",
                    "provisional": False,
                },
            },
            run="year",
        ),
        # The operator reset the cycle to its review: the new run repeats sequence 3, later.
        _story_event(
            "g1",
            30,
            EventType.REVIEW_OPENED,
            {"round": 0, "objection_id": "ob1", "stage": "under_review"},
            run="run2",
        ),
        _story_event(
            "g1",
            31,
            EventType.REVIEW_GRADED,
            {"round": 0, "grade": "pass", "total": 72.0, "objection_id": "ob1", "stage": "graded"},
            run="run2",
        ),
        _story_event(
            None,
            40,
            EventType.RESULTS_CORRECTED,
            {
                **notice,
                # A correction states the publication period as it stands: counted again.
                "publication_until": "2026-12-10T00:00:00+08:00",
                "publication_last_day": "2026-12-09",
                "provisional": False,
                "notice": 2,
                "kind": "supplementary",
                "corrected": ["g1"],
                "entries": [
                    {
                        **_entry("g1", "pass", 72.0, "none", "异议成立，复核后合格"),
                        "corrected": True,
                    }
                ],
            },
            run="year",
        ),
    ]


def _assert_one_story(engine: Engine) -> None:
    with session_scope(engine) as session:
        counts = store.year_counts(session, "story", 2026, CHECKPOINT)
        listed = store.year_cycles(session, "story", 2026)
        objections = store.year_objections(session, "story", 2026)
    assert counts.by_stage == {"held": 1, "ended": 1, "graded": 1}
    assert counts.by_grade == {"pass": 1}
    assert counts.objections == {"upheld": 1}
    assert counts.publication is not None
    assert (counts.publication.notice, counts.publication.kind) == (2, "supplementary")
    assert (counts.publication.last_day, counts.publication.provisional) == ("2026-12-09", False)
    assert counts.publication.until_zh == "2026年12月9日24时"
    g1 = next(c for c in listed.cycles if c.base == "g1")
    assert (g1.grade, g1.total, g1.outcome, g1.reason_zh, g1.notice) == (
        "pass",
        72.0,
        "none",
        "异议成立，复核后合格",
        2,
    )
    assert [(d.name, d.last_day, d.provisional) for d in g1.deadlines] == [
        ("self_evaluation", "2027-01-11", False)
    ]
    assert g1.deadlines[0].words_zh == "2027年1月11日24时前"
    assert [(o.objection_id, o.status, o.status_zh, o.reason) for o in g1.objections] == [
        ("ob1", "upheld", "成立", "复核属实")
    ]
    assert [o.grounds for o in objections.objections] == ["漏计专家评分"]


def _event(program: str, base: str, n: int, event_type: EventType, data: dict) -> object:  # type: ignore[type-arg]
    return new_event(
        event_type=event_type,
        program=program,
        year=2026,
        base=base,
        time=datetime.now(UTC),
        stream_key=f"cycle/{program}/2026/{base}@run",
        sequence=n,
        data={**required(event_type), **data},
    )


async def _caught_up(engine, js, limit_s: float = 30) -> int:  # type: ignore[no-untyped-def]
    last = (await js.stream_info(EVENTS_STREAM)).state.last_seq
    await until(
        lambda: store.checkpoint(engine, CHECKPOINT) >= last,
        what=f"the projections at sequence {last}",
        limit_s=limit_s,
    )
    return last


async def test_a_rebuild_swaps_in_while_the_live_service_writes_and_loses_nothing(
    nats_url: str, nc: NatsClient, tmp_path: Path
) -> None:
    """Rebuild into the very tables the running service writes, with events still arriving."""
    live = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    for engine in (live, fresh):
        upgrade(engine, DASHBOARD_MIGRATIONS)
    js = nc.jetstream()
    publisher = EventPublisher(js)
    # A consumer of its own, as its database is new: the session's "dashboard" durable may have
    # been moved on by other tests (whichever ran before).
    broker = build_broker(nats_url, live, consumer=f"dashboard-{uuid.uuid4().hex[:8]}")
    await broker.start()
    try:

        async def keep_publishing() -> None:
            for n in range(1, 121):
                base = f"s{n % 12}"
                step = STEPS[(n // 12) % len(STEPS)]
                await publisher.publish(
                    _event("swap", base, n // 12 + 1, step[0], {**step[1], "region": "410300"})  # type: ignore[arg-type]
                )
                await asyncio.sleep(0.01)

        feeding = asyncio.create_task(keep_publishing())
        reports = []
        while not feeding.done():
            reports.append(await rebuild(js, live))
        await feeding
        last = await _caught_up(live, js)
        await rebuild(js, fresh)
        assert store.checkpoint(fresh, CHECKPOINT) == last
        assert store.cycles(live) == store.cycles(fresh)
        assert store.timeline(live) == store.timeline(fresh)
        assert len([c for c in store.cycles(live) if c["program"] == "swap"]) == 12
        assert reports and all(r.events > 0 for r in reports)
    finally:
        await broker.stop()


async def test_a_service_whose_consumer_was_lost_resumes_after_its_stored_checkpoint(
    nats_url: str, nc: NatsClient, tmp_path: Path
) -> None:
    js = nc.jetstream()
    engine = make_engine(f"sqlite:///{tmp_path / 'resume.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    publisher = EventPublisher(js)
    # Events the service had applied before it lost its consumer (whatever other tests left).
    opened = _event("resume-before", "r0", 1, EventType.CYCLE_OPENED, {"region": "410200"})
    await publisher.publish(opened)  # type: ignore[arg-type]
    before = (await js.stream_info(EVENTS_STREAM)).state.last_seq
    with session_scope(engine) as session:  # a service that had applied everything so far
        store.lock(session, CHECKPOINT)
        store.swap(session, store.Aside(stream_seq=before), CHECKPOINT)
    try:
        await js.delete_consumer(EVENTS_STREAM, "dashboard")  # NATS lost the consumer
    except Exception:
        pass
    for n, (event_type, data) in enumerate(STEPS[:2], 1):
        await publisher.publish(_event("resume", "r1", n, event_type, {**data, "region": "410200"}))  # type: ignore[arg-type]

    broker = build_broker(nats_url, engine, start_after=store.checkpoint(engine, CHECKPOINT))
    await broker.start()
    try:
        await _caught_up(engine, js)
        info = await js.consumer_info(EVENTS_STREAM, "dashboard")
        assert info.delivered.consumer_seq == 2, "it read the log again from sequence 1"
        assert [(c["program"], c["stage"]) for c in store.cycles(engine)] == [
            ("resume", "plan_review")
        ]
    finally:
        await broker.stop()


async def test_counts_overdue_and_timelines_are_answered_and_changes_announced(
    nats_url: str, nc: NatsClient, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rpc.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    js = nc.jetstream()
    heard: list[bytes] = []
    sub = await nc.subscribe("navcycle.projection.updated.rpcdash.2026", cb=_keep(heard))
    broker = build_broker(nats_url, engine, consumer=f"dashboard-{uuid.uuid4().hex[:8]}")
    await broker.start()
    try:
        publisher = EventPublisher(js)
        plan = {"document": {"document_id": "doc-1", "sha256": "ab"}, "region": "410102"}
        published = [
            _event("rpcdash", "a1", 1, EventType.CYCLE_OPENED, {"region": "410102"}),
            _event("rpcdash", "a1", 2, EventType.PLAN_FILED, plan),
            _event("rpcdash", "b1", 1, EventType.CYCLE_OPENED, {"region": "410300"}),
            _event("rpcdash", "b1", 2, EventType.PLAN_OVERDUE, {"region": "410300"}),
        ]
        for event in published:
            await publisher.publish(event)  # type: ignore[arg-type]
        await until(lambda: len(_announced(heard)) >= 4)
        assert _announced(heard) == [e.id for e in published]  # type: ignore[attr-defined]
        rpc = RpcClient(nc)
        counts = await rpc.call(
            "dashboard", "counts", YearQuery(program="rpcdash", year=2026), YearCounts
        )
        assert counts.bases == 2
        assert counts.by_stage == {"plan_review": 1, "plan_filing": 1}
        assert counts.overdue == 1
        late = await rpc.call(
            "dashboard", "overdue", OverdueQuery(program="rpcdash", year=2026), OverdueList
        )
        assert [(b.base, b.city, b.stage, b.overdue) for b in late.bases] == [
            ("b1", "410300", "plan_filing", 1)
        ]
        assert late.next_cursor is None
        line = await rpc.call(
            "dashboard",
            "timeline",
            BaseQuery(program="rpcdash", year=2026, base="a1"),
            BaseTimeline,
        )
        assert [e.type for e in line.events] == ["navcycle.cycle.opened", "navcycle.plan.filed"]
        assert line.events[1].document_id == "doc-1"
        assert line.cycle is not None and line.cycle.region == "410102"
        listed = await rpc.call("dashboard", "years", Empty(), YearList)
        assert any(y.program == "rpcdash" and y.bases == 2 for y in listed.years)
    finally:
        await sub.unsubscribe()
        await broker.stop()


def _announced(heard: list[bytes]) -> list[str]:
    """The event ids the projection-updated notices named, in order."""
    return [e.event_id for raw in heard for e in ProjectionUpdated.model_validate_json(raw).events]


def _keep(into: list[bytes]):  # type: ignore[no-untyped-def]
    async def cb(msg) -> None:  # type: ignore[no-untyped-def]
        into.append(msg.data)

    return cb


async def test_while_a_swap_holds_the_projection_lock_the_service_answers_and_then_catches_up(
    nats_url: str, nc: NatsClient, dashboard_db: Engine
) -> None:
    """Events are applied on the event loop, but a held lock is waited for off it."""
    js = nc.jetstream()
    broker = build_broker(nats_url, dashboard_db, consumer=f"dashboard-{uuid.uuid4().hex[:8]}")
    await broker.start()
    release = threading.Event()
    locked = threading.Event()
    with session_scope(dashboard_db) as session:
        store.lock(session, CHECKPOINT)  # the checkpoint row exists, as on a running service

    def hold_the_lock() -> None:  # as a rebuild's swap does, for seconds
        with session_scope(dashboard_db) as session:
            store.lock(session, CHECKPOINT)
            locked.set()
            release.wait(30)

    holder = asyncio.create_task(asyncio.to_thread(hold_the_lock))
    try:
        await asyncio.to_thread(locked.wait, 10)
        publisher = EventPublisher(js)
        base = f"l-{dashboard_db.dialect.name}"  # one event id per database: not a duplicate
        # A program per database too: a fresh database's own consumer reads the log from the
        # start, the other database's event of this test included.
        program = f"locked-{dashboard_db.dialect.name}"
        event = _event(program, base, 1, EventType.CYCLE_OPENED, {"region": "410100"})
        await publisher.publish(event)  # type: ignore[arg-type]
        rpc = RpcClient(nc)
        for _ in range(5):  # it answers while the event waits for the lock
            started = time.monotonic()
            await rpc.call("dashboard", "years", Empty(), YearList)
            assert time.monotonic() - started < 1.0
            await asyncio.sleep(0.2)
        assert not any(c["program"] == program for c in store.cycles(dashboard_db))
        release.set()
        await holder
        await _caught_up(dashboard_db, js)
        assert [c["base"] for c in store.cycles(dashboard_db) if c["program"] == program] == [base]
    finally:
        release.set()
        await broker.stop()
