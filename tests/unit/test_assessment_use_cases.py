"""The assessment service's use cases called directly, on a SQLite file and with no broker:
rounds assigned in turn from the roster, places given away, an expert removed, the refusals
with their stable codes, and the events handed over only once their transaction committed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from services.assessment import use_cases
from services.assessment.tables import MIGRATIONS as ASSESSMENT_MIGRATIONS
from services.assessment.tables import AssignmentRow, DecisionRow
from shared.contracts.assessment import (
    AddExpert,
    AssignmentQuery,
    ExpertReviewsQuery,
    OpenAssignments,
    ReassignExperts,
    RemoveExpert,
    RosterQuery,
)
from shared.db import make_engine, session_scope
from shared.events.envelope import CloudEvent
from shared.migrations import upgrade
from shared.rpc import RpcError

P = "p"
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
DUE = datetime(2026, 12, 15, 16, tzinfo=UTC)


class Published:
    """What a use case handed over to publish, and how many assignment rows were committed
    (read on a connection of its own) when it did."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.events, self.committed = engine, list[CloudEvent](), list[int]()

    def __call__(self, events: list[CloudEvent]) -> None:
        with session_scope(self.engine) as session:
            self.committed.append(len(session.exec(select(AssignmentRow)).all()))
        self.events.extend(events)

    def types(self) -> list[tuple[str, str]]:
        return [(e.event_type.value, str(e.data["expert"])) for e in self.events]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path / 'assessment.db'}")
    upgrade(db, ASSESSMENT_MIGRATIONS)
    for expert in ("e1", "e2", "e3", "e4"):
        use_cases.add_expert(db, AddExpert(program=P, expert=expert))
    yield db
    db.dispose()


def _open(engine: Engine, publish: Published, base: str = "b1", needed: int = 2) -> list[str]:
    req = OpenAssignments(program=P, year=2026, base=base, round=0, needed=needed, due=DUE, at=AT)
    return use_cases.open_assignments(engine, req, publish).experts


def test_the_roster_check_says_how_short_it_is_in_both_languages(engine: Engine) -> None:
    assert use_cases.check_roster(engine, RosterQuery(program=P, needed=4)).ok
    short = use_cases.check_roster(engine, RosterQuery(program=P, needed=5))
    assert (short.size, short.ok) == (4, False)
    assert short.message is not None and "专家库人数不足" in short.message
    assert "roster is too short" in short.message


def test_a_round_is_assigned_in_turn_once_and_published_after_the_commit(engine: Engine) -> None:
    publish = Published(engine)
    assert _open(engine, publish) == ["e1", "e2"]
    assert _open(engine, publish) == ["e1", "e2"]  # a retry: the same experts, the same ids
    assert _open(engine, publish, base="b2") == ["e3", "e4"]
    assert publish.committed == [2, 2, 4]
    assert publish.types() == [("expert.assigned", e) for e in ("e1", "e2", "e1", "e2", "e3", "e4")]
    assert publish.events[0].id == publish.events[2].id
    now = use_cases.current_assignments(engine, AssignmentQuery(program=P, year=2026, base="b1"))
    assert (now.round, now.experts) == (0, ["e1", "e2"])
    assert now.due is not None and now.due.replace(tzinfo=UTC) == DUE


def test_a_round_the_roster_cannot_fill_is_refused_and_nothing_is_assigned(engine: Engine) -> None:
    publish = Published(engine)
    with pytest.raises(RpcError) as caught:
        _open(engine, publish, needed=5)
    assert (caught.value.code, caught.value.status) == ("roster_too_short", 409)
    assert caught.value.details == {"needed": 5, "available": 4}
    assert publish.events == []
    none = use_cases.current_assignments(engine, AssignmentQuery(program=P, year=2026, base="b1"))
    assert (none.round, none.experts) == (None, [])


def test_a_replaced_experts_place_goes_to_the_next_on_the_roster(engine: Engine) -> None:
    _open(engine, Published(engine))
    publish = Published(engine)
    req = ReassignExperts(
        program=P, year=2026, base="b1", replace=["e1"], reason="silent", by="officer", at=AT
    )
    answer = use_cases.reassign_experts(engine, req, publish)
    assert (answer.round, answer.experts, answer.replaced) == (0, ["e2", "e3"], ["e1"])
    assert publish.types() == [("expert.reassigned", "e3"), ("expert.assigned", "e3")]
    assert publish.events[0].data["replaced"] == "e1"
    assert publish.committed == [3]


def test_reassigning_refuses_an_unknown_review_an_expert_not_on_it_and_a_graded_round(
    engine: Engine,
) -> None:
    publish = Published(engine)

    def refused(**changes: object) -> tuple[str, int]:
        body = {"program": P, "year": 2026, "base": "b1", "reason": "r", "by": "officer"}
        req = ReassignExperts.model_validate(body | changes)
        with pytest.raises(RpcError) as caught:
            use_cases.reassign_experts(engine, req, publish)
        return caught.value.code, caught.value.status

    assert refused(replace=["e1"]) == ("review_not_assigned", 404)
    _open(engine, Published(engine))
    assert refused(replace=["e4"]) == ("not_assigned", 422)
    assert refused(keep=["e4"]) == ("not_assigned", 422)
    with session_scope(engine) as session:
        session.add(
            DecisionRow(program=P, year=2026, base="b1", round=0, total=80, grade="pass", record={})
        )
    assert refused(replace=["e1"]) == ("review_decided", 409)
    assert publish.events == []


def test_a_removed_expert_leaves_every_review_the_roster_can_fill(engine: Engine) -> None:
    _open(engine, Published(engine))  # e1, e2 on b1
    _open(engine, Published(engine), base="b2")  # e3, e4 on b2
    publish = Published(engine)
    done = use_cases.remove_expert(
        engine, RemoveExpert(program=P, expert="e1", by="admin"), publish
    )
    assert done.removed and [r.base for r in done.reassigned] == ["b1"] and done.unfilled == []
    assert publish.types() == [("expert.reassigned", "e3"), ("expert.assigned", "e3")]
    assert "e1 was revoked" in str(publish.events[0].data["reason"])


def test_a_review_nobody_can_take_keeps_the_removed_expert_and_says_why(engine: Engine) -> None:
    assert _open(engine, Published(engine), needed=4) == ["e1", "e2", "e3", "e4"]
    publish = Published(engine)
    done = use_cases.remove_expert(engine, RemoveExpert(program=P, expert="e1", by="a"), publish)
    assert (done.removed, done.reassigned, publish.events) == (True, [], [])
    assert [(r.base, r.round) for r in done.unfilled] == [("b1", 0)]
    assert done.unfilled[0].message is not None
    assert "roster is too short" in done.unfilled[0].message
    b1 = use_cases.current_assignments(engine, AssignmentQuery(program=P, year=2026, base="b1"))
    assert b1.experts == ["e1", "e2", "e3", "e4"]
    roster = use_cases.check_roster(engine, RosterQuery(program=P, needed=4))
    assert (roster.size, roster.ok) == (3, False)


def test_removing_an_expert_not_on_the_roster_changes_nothing(engine: Engine) -> None:
    publish = Published(engine)
    done = use_cases.remove_expert(engine, RemoveExpert(program=P, expert="e9", by="a"), publish)
    assert (done.removed, done.reassigned, done.unfilled, publish.events) == (False, [], [], [])


def test_an_expert_is_told_the_reviews_it_holds_a_place_on_now(engine: Engine) -> None:
    publish = Published(engine)
    _open(engine, publish)  # b1: e1, e2
    _open(engine, publish, base="b2")  # b2: e3, e4
    use_cases.reassign_experts(
        engine,
        ReassignExperts(program=P, year=2026, base="b1", replace=["e1"], reason="silent", by="p"),
        publish,
    )
    mine = use_cases.expert_reviews(engine, ExpertReviewsQuery(program=P, expert="e2"))
    assert [(r.year, r.base, r.round, r.decided) for r in mine.reviews] == [(2026, "b1", 0, False)]
    replaced = use_cases.expert_reviews(engine, ExpertReviewsQuery(program=P, expert="e1"))
    assert replaced.reviews == []
    for expert in ("e2", "e3"):
        current = use_cases.current_assignments(
            engine, AssignmentQuery(program=P, year=2026, base="b1")
        )
        listed = use_cases.expert_reviews(engine, ExpertReviewsQuery(program=P, expert=expert))
        assert (expert in current.experts) == any(r.base == "b1" for r in listed.reviews)
