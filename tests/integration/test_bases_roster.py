"""The registry's guarded base status and the assessment roster, on a real nats-server with
migrated SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from services.assessment.tables import AssignmentRow, DecisionRow
from services.registry import store
from services.registry.tables import BaseStatusChangeRow
from shared.contracts.activities import BaseStatusRequest
from shared.contracts.assessment import (
    AddExpert,
    AssignmentQuery,
    Assignments,
    ExpertRemoved,
    OpenAssignments,
    ReassignExperts,
    RemoveExpert,
    RosterQuery,
    RosterStatus,
)
from shared.contracts.registry import BaseStatusChange, BaseStatusResult, Reinstate, Reinstated
from shared.db import session_scope
from shared.eventlog import read_events
from shared.events.envelope import CloudEvent, new_event
from shared.events.subjects import event_filter
from shared.events.types import EventType
from shared.publisher import EventPublisher
from shared.rpc import Empty, RpcError
from tests.conftest import DATABASES
from tests.helpers import demo_rules, until
from tests.integration.bases_roster import Services, add_base, add_program, running_services

P = "demo-fast"


@pytest.fixture(params=DATABASES)
async def svc(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    async with running_services(request.param, tmp_path) as services:
        yield services


async def _status(svc: Services, base: str, status: str, year: int | None) -> BaseStatusResult:
    return await svc.rpc.call(
        "registry",
        "bases.status",
        BaseStatusChange(program=P, base=base, status=status, reason=f"asked {status}", year=year),  # type: ignore[arg-type]
        BaseStatusResult,
    )


async def test_a_later_cycle_cannot_revive_a_delisted_base(svc: Services) -> None:
    add_program(svc.registry_db, demo_rules())
    add_base(svc.registry_db, P, "b1")

    failed = await _status(svc, "b1", "rectifying", 2026)
    assert (failed.status, failed.changed, failed.refused) == ("rectifying", True, None)
    again = await _status(svc, "b1", "rectifying", 2027)  # the next year's cycle fails too
    assert (again.status, again.changed, again.refused) == ("rectifying", False, None)
    delisted = await _status(svc, "b1", "delisted", 2026)
    assert (delisted.status, delisted.changed, delisted.delisted_in_year) == (
        "delisted",
        True,
        2026,
    )
    for asked in ("rectifying", "active"):
        later = await _status(svc, "b1", asked, 2027)
        assert later.status == "delisted" and not later.changed
        assert later.refused == "status_transition_refused" and later.delisted_in_year == 2026
        assert later.message and "已摘牌" in later.message
    same = await _status(svc, "b1", "delisted", 2027)
    assert (same.changed, same.refused, same.delisted_in_year) == (False, None, 2026)

    with session_scope(svc.registry_db) as session:
        history = [
            (c.change, c.from_status, c.to_status, c.by, c.year, c.reason)
            for c in store.status_history(session, program=P, base="b1")
        ]
        assert store.active_domains(session, program=P) == set()  # freed only now
    assert history == [
        (1, "active", "rectifying", f"cycle/{P}/2026/b1", 2026, "asked rectifying"),
        (2, "rectifying", "delisted", f"cycle/{P}/2026/b1", 2026, "asked delisted"),
    ]


async def test_the_workflows_request_as_it_is_today_still_gets_an_answer(svc: Services) -> None:
    add_program(svc.registry_db, demo_rules())
    add_base(svc.registry_db, P, "b2")
    old = BaseStatusRequest(program=P, base="b2", status="rectifying", reason="round 1")
    assert await svc.rpc.call("registry", "bases.status", old, Empty) == Empty()
    answered = await svc.rpc.call("registry", "bases.status", old, BaseStatusResult)
    assert (answered.status, answered.changed) == ("rectifying", False)
    with pytest.raises(RpcError) as missing:
        await _status(svc, "nobody", "active", 2026)
    assert (missing.value.code, missing.value.status) == ("base_not_found", 404)


async def test_reinstatement_waits_out_the_ban_and_keeps_one_base_per_domain(
    svc: Services,
) -> None:
    add_program(
        svc.registry_db,
        demo_rules(outcomes__reapplication_ban="P1Y", eligibility__one_base_per_domain=True),
    )
    add_base(svc.registry_db, P, "old", domain="生物医药")
    delisted_at = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)

    async def reinstate(at: datetime, base: str = "old") -> Reinstated:
        return await svc.rpc.call(
            "registry",
            "bases.reinstate",
            Reinstate(program=P, base=base, reason="复核后恢复", by="admin-wang", at=at),
            Reinstated,
        )

    with pytest.raises(RpcError) as active:
        await reinstate(delisted_at)
    assert (active.value.code, active.value.status) == ("not_delisted", 409)

    await svc.rpc.call(
        "registry",
        "bases.status",
        BaseStatusChange(program=P, base="old", status="delisted", year=2026, at=delisted_at),
        BaseStatusResult,
    )
    with pytest.raises(RpcError) as banned:
        await reinstate(delisted_at + timedelta(days=200))
    assert (banned.value.code, banned.value.status) == ("reapplication_ban_running", 409)
    assert "2028年1月20日" in banned.value.message

    add_base(svc.registry_db, P, "new", domain="生物医药")  # the freed domain, taken
    with pytest.raises(RpcError) as taken:
        await reinstate(delisted_at + timedelta(days=400))
    assert (taken.value.code, taken.value.status) == ("domain_taken", 409)
    await svc.rpc.call(
        "registry",
        "bases.status",
        BaseStatusChange(program=P, base="new", status="delisted", year=2028),
        BaseStatusResult,
    )

    done = await reinstate(delisted_at + timedelta(days=400))
    assert (done.status, done.by, done.delisted_in_year, done.change) == (
        "active",
        "admin-wang",
        2026,
        2,
    )
    assert done.delisted_at == delisted_at
    with session_scope(svc.registry_db) as session:
        last = session.exec(
            select(BaseStatusChangeRow)
            .where(BaseStatusChangeRow.base == "old")
            .order_by(BaseStatusChangeRow.change.desc())  # type: ignore[attr-defined]
        ).first()
        assert last is not None
        assert (last.from_status, last.to_status, last.by, last.reason) == (
            "delisted",
            "active",
            "admin-wang",
            "复核后恢复",
        )
    back = await _status(svc, "old", "rectifying", 2029)  # an ordinary base again
    assert back.changed


# The roster.


async def _add(svc: Services, *experts: str, program: str = "rp") -> None:
    for expert in experts:
        await svc.rpc.call(
            "assessment", "experts.add", AddExpert(program=program, expert=expert), Empty
        )


async def _open(svc: Services, base: str, needed: int, round_: int = 0) -> Assignments:
    return await svc.rpc.call(
        "assessment",
        "assignments.open",
        OpenAssignments(
            program="rp",
            year=2026,
            base=base,
            round=round_,
            needed=needed,
            due=datetime(2026, 12, 31, 16, tzinfo=UTC),
        ),
        Assignments,
    )


async def _review_opened(svc: Services, base: str, experts: int) -> None:
    """What the workflows published before assignments.open: round 0's review.opened."""
    opened = new_event(
        event_type=EventType.REVIEW_OPENED,
        program="rp",
        year=2026,
        base=base,
        time=datetime.now(UTC),
        stream_key=f"cycle/rp/2026/{base}",
        sequence=7,
        data={"round": 0, "experts_required": experts},
    )
    await EventPublisher(svc.nc.jetstream()).publish(opened)


async def _current(svc: Services, base: str) -> Assignments:
    query = AssignmentQuery(program="rp", year=2026, base=base)
    return await svc.rpc.call("assessment", "assignments.current", query, Assignments)


async def _events(svc: Services, event_type: str, count: int) -> list[CloudEvent]:
    """The program's ``event_type`` events once there are at least ``count``."""

    async def read() -> list[CloudEvent]:
        filter_ = event_filter("rp", None, None, event_type)
        return [e for _, e in await read_events(svc.nc.jetstream(), filter_)]

    found: list[CloudEvent] = await until(
        read, lambda found: len(found) >= count, f"{count} {event_type} events"
    )
    return found


async def test_a_review_never_opens_with_a_short_roster(svc: Services) -> None:
    await _add(svc, "e1", "e2")
    check = await svc.rpc.call(
        "assessment", "roster.check", RosterQuery(program="rp", needed=3), RosterStatus
    )
    assert (check.size, check.needed, check.ok) == (2, 3, False)
    assert check.message and "需要 3 名" in check.message and "has 2" in check.message

    with pytest.raises(RpcError) as short:
        await _open(svc, "b1", 3)
    assert (short.value.code, short.value.status) == ("roster_too_short", 409)
    assert short.value.details == {"needed": 3, "available": 2}
    assert "需要 3 名专家" in short.value.message and "needs 3 experts" in short.value.message
    assert (await _events(svc, "expert.assigned", 0)) == []

    await _add(svc, "e3")
    opened = await _open(svc, "b1", 3)
    assert opened.experts == ["e1", "e2", "e3"] and opened.round == 0
    assert opened.due == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert (await _open(svc, "b1", 3)).experts == opened.experts  # idempotent
    assigned = await _events(svc, "expert.assigned", 3)
    assert sorted(e.data["expert"] for e in assigned) == ["e1", "e2", "e3"]  # once each
    assert assigned[0].data["due"] == "2026-12-31T16:00:00+00:00"
    assert {(e.program, e.year, e.base, e.data["round"]) for e in assigned} == {
        ("rp", 2026, "b1", 0)
    }

    # The review.opened consumer of the same round changes nothing. A marker behind it: the
    # consumer takes one event at a time, in stream order, so once the marker's review (of
    # another base) has its expert, the event before it has been handled.
    await _review_opened(svc, "b1", 3)
    await _review_opened(svc, "b-marker", 1)
    await until(lambda: _current(svc, "b-marker"), lambda a: a.experts, "the marker's review")
    assert (await _current(svc, "b1")).experts == ["e1", "e2", "e3"]
    assigned = await _events(svc, "expert.assigned", 4)
    assert len([e for e in assigned if e.base == "b1"]) == 3


async def test_silent_experts_places_go_to_the_next_on_the_roster(svc: Services) -> None:
    await _add(svc, "e1", "e2", "e3", "e4")
    assert (await _open(svc, "b1", 2)).experts == ["e1", "e2"]
    kept = await svc.rpc.call(
        "assessment",
        "assignments.reassign",
        ReassignExperts(
            program="rp", year=2026, base="b1", round=0, keep=["e1"], reason="逾期未评", by="wf"
        ),
        Assignments,
    )
    assert (kept.experts, kept.replaced) == (["e1", "e3"], ["e2"])
    [moved] = await _events(svc, "expert.reassigned", 1)
    assert moved.data | {} == {
        "program": "rp",
        "year": 2026,
        "base": "b1",
        "round": 0,
        "replaced": "e2",
        "expert": "e3",
        "by": "wf",
        "reason": "逾期未评",
    }
    assert "e3" in [e.data["expert"] for e in await _events(svc, "expert.assigned", 3)]

    replaced = await svc.rpc.call(
        "assessment",
        "assignments.reassign",
        ReassignExperts(
            program="rp", year=2026, base="b1", replace=["e3"], reason="回避", by="admin"
        ),
        Assignments,
    )
    assert (replaced.experts, replaced.replaced) == (["e1", "e4"], ["e2", "e3"])

    with pytest.raises(RpcError) as short:  # e2 and e3 were on this review already
        await svc.rpc.call(
            "assessment",
            "assignments.reassign",
            ReassignExperts(program="rp", year=2026, base="b1", keep=[], reason="r", by="admin"),
            Assignments,
        )
    assert (short.value.code, short.value.details) == (
        "roster_too_short",
        {"needed": 2, "available": 0},
    )
    with pytest.raises(RpcError) as unknown:
        await svc.rpc.call(
            "assessment",
            "assignments.reassign",
            ReassignExperts(
                program="rp", year=2026, base="b1", replace=["e2"], reason="r", by="admin"
            ),
            Assignments,
        )
    assert (unknown.value.code, unknown.value.status) == ("not_assigned", 422)


async def test_removing_an_expert_reassigns_only_undecided_reviews(svc: Services) -> None:
    await _add(svc, "e1", "e2", "e3")
    assert (await _open(svc, "open", 2)).experts == ["e1", "e2"]
    assert (await _open(svc, "graded", 2)).experts == ["e1", "e3"]
    with session_scope(svc.assessment_db) as session:
        session.add(
            DecisionRow(
                program="rp", year=2026, base="graded", round=0, total=80, grade="pass", record={}
            )
        )
    removed = await svc.rpc.call(
        "assessment",
        "experts.remove",
        RemoveExpert(program="rp", expert="e1", by="ops@host"),
        ExpertRemoved,
    )
    assert removed.removed and [r.base for r in removed.reassigned] == ["open"]
    assert removed.unfilled == []
    check = await svc.rpc.call(
        "assessment", "roster.check", RosterQuery(program="rp", needed=3), RosterStatus
    )
    assert check.size == 2
    with session_scope(svc.assessment_db) as session:
        rows = {
            (r.base, r.expert): r.replaced_by
            for r in session.exec(select(AssignmentRow).where(AssignmentRow.program == "rp"))
        }
    assert rows == {
        ("open", "e1"): "e3",
        ("open", "e2"): None,
        ("open", "e3"): None,
        ("graded", "e1"): None,  # graded: its record stays as it was
        ("graded", "e3"): None,
    }

    await _open(svc, "third", 2)  # e2 and e3
    removed = await svc.rpc.call(
        "assessment",
        "experts.remove",
        RemoveExpert(program="rp", expert="e2", by="ops@host"),
        ExpertRemoved,
    )
    assert sorted(r.base for r in removed.unfilled) == ["open", "third"]
    assert removed.unfilled[0].message and "roster_too_short" not in removed.unfilled[0].message
    assert "专家库人数不足" in removed.unfilled[0].message
