"""The cycle's stage machine as data (issue 13): the table's own promises, and one table read by
the workflow, the reset command and the dashboard projection."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest

from services.dashboard.projection import CycleView, apply, stage_after
from shared.domain import stage_machine
from shared.domain.stage_machine import CYCLE, StageMachine, Transition
from shared.domain.stages import Stage
from shared.events.envelope import new_event
from shared.events.types import EventType
from tests.event_samples import required
from tests.helpers import HISTORIES
from workflows.replay import history_files, load_history_file
from workflows.reset import NoResetPoint, find_reset_point


def _reachable(machine: StageMachine) -> set[Stage]:
    seen, frontier = {machine.start}, [machine.start]
    while frontier:
        here = frontier.pop()
        for t in machine.transitions:
            if t.source == here and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    return seen


def test_every_stage_is_in_the_table_and_every_non_final_one_is_reachable_from_plan_filing() -> (
    None
):
    assert CYCLE.start == Stage.PLAN_FILING
    assert CYCLE.stages() == set(Stage)
    assert _reachable(CYCLE) == set(Stage)
    assert CYCLE.final == {Stage.CLOSED, Stage.DELISTED, Stage.EXCLUDED, Stage.ENDED}


def test_a_final_stage_has_no_way_out() -> None:
    for stage in CYCLE.final:
        assert [t for t in CYCLE.transitions if t.source == stage] == []
        assert all(stage_machine.next_stage(stage, e, {"held": True}) is None for e in EventType)
        assert not any(stage_machine.allowed(stage, s) for s in Stage)


def test_every_non_final_stage_can_still_reach_a_final_one() -> None:
    for stage in set(Stage) - CYCLE.final:
        within = StageMachine(
            start=stage,
            transitions=CYCLE.transitions,
            openings=CYCLE.openings,
            final=CYCLE.final,
            reset_targets=(),
        )
        assert _reachable(within) & CYCLE.final, stage


def test_every_stage_has_an_opening_event_that_leads_into_it_or_is_the_start() -> None:
    for stage in Stage:
        opening = stage_machine.opened_by(stage)
        assert opening is not None or stage == CYCLE.start, stage
        assert any(t.event == opening and t.target == stage for t in CYCLE.transitions), stage
    assert stage_machine.after(EventType.CYCLE_OPENED) == Stage.PLAN_FILING
    assert stage_machine.after(EventType.CYCLE_OPENED, {"held": True}) == Stage.HELD


def test_reset_targets_are_open_stages_with_an_opening_event() -> None:
    """A held cycle publishes cycle.opened twice, held first: the latest one opens plan filing."""
    for stage in stage_machine.reset_targets():
        assert not stage.is_final and stage_machine.opened_by(stage) is not None
        opening = stage_machine.opened_by(stage)
        shared = [s for s in Stage if stage_machine.opened_by(s) == opening]
        assert shared in ([stage], [Stage.PLAN_FILING, Stage.HELD]), shared


def test_next_stage_follows_the_rows_and_refuses_a_move_the_table_has_not() -> None:
    assert stage_machine.next_stage(Stage.PLAN_FILING, EventType.CYCLE_OPENED) == Stage.PLAN_FILING
    held = stage_machine.next_stage(Stage.PLAN_FILING, EventType.CYCLE_OPENED, {"held": True})
    assert held == Stage.HELD
    assert stage_machine.next_stage(Stage.HELD, EventType.CYCLE_OPENED) == Stage.PLAN_FILING
    assert stage_machine.next_stage(Stage.PLAN_REVIEW, EventType.PLAN_RETURNED) == Stage.PLAN_FILING
    assert stage_machine.next_stage(Stage.RECTIFYING, EventType.REVIEW_OPENED) == Stage.UNDER_REVIEW
    assert stage_machine.next_stage(Stage.GRADED, EventType.CYCLE_ENDED) == Stage.ENDED
    # Not a move: a plan is not filed while under review, a review does not open a filing window.
    assert stage_machine.next_stage(Stage.UNDER_REVIEW, EventType.PLAN_FILED) is None
    assert stage_machine.next_stage(Stage.IMPLEMENTING, EventType.PLAN_RETURNED) is None
    assert stage_machine.allowed(Stage.GRADED, Stage.RECTIFYING)
    assert not stage_machine.allowed(Stage.PLAN_FILING, Stage.UNDER_REVIEW)


def test_an_event_that_would_lead_to_two_stages_is_refused_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="leads to both"):
        CYCLE.extended([Transition(Stage.IMPLEMENTING, EventType.PLAN_FILED, Stage.GRADED)])


def test_the_projection_reads_the_stages_it_always_showed_from_the_table() -> None:
    """What the dashboard's own copy of the table said, before there was one table."""
    before = {
        EventType.CYCLE_OPENED: "plan_filing",
        EventType.PLAN_FILED: "plan_review",
        EventType.PLAN_RETURNED: "plan_filing",
        EventType.PLAN_ACCEPTED: "implementing",
        EventType.REVIEW_OPENED: "under_review",
        EventType.REVIEW_GRADED: "graded",
        EventType.RECTIFICATION_ORDERED: "rectifying",
        EventType.RECTIFICATION_FILED: "under_review",
        EventType.BASE_DELISTED: "delisted",
        EventType.CYCLE_EXCLUDED: "excluded",
        EventType.CYCLE_CLOSED: "closed",
        EventType.CYCLE_ENDED: "ended",
    }
    for event_type, stage in before.items():
        assert stage_after(_event(event_type, 1, {"stage": "whatever"})) == stage, event_type
    held = _event(EventType.CYCLE_OPENED, 1, {"held": True})
    assert stage_after(held) == "held"
    # An event that moves nothing keeps the stage the cycle says it is in.
    assert stage_after(_event(EventType.REMINDER_SENT, 1, {"stage": "implementing"})) == (
        "implementing"
    )


# ---------------------------------------------------------------- a stage added: one table


class NewStage(StrEnum):
    """A stage the code does not have: the self-evaluation filed, waiting for its review."""

    SELF_EVALUATED = "self_evaluated"


def _with_self_evaluated() -> StageMachine:
    new = NewStage.SELF_EVALUATED
    return CYCLE.extended(
        [
            Transition(Stage.IMPLEMENTING, EventType.SELFEVAL_FILED, new),  # type: ignore[arg-type]
            Transition(new, EventType.REVIEW_OPENED, Stage.UNDER_REVIEW),  # type: ignore[arg-type]
            Transition(new, EventType.CYCLE_ENDED, Stage.ENDED),  # type: ignore[arg-type]
        ],
        openings={new: EventType.SELFEVAL_FILED},  # type: ignore[dict-item]
        reset_targets=[new],  # type: ignore[list-item]
    )


def _event(event_type: EventType, sequence: int, data: dict):  # type: ignore[no-untyped-def,type-arg]
    return new_event(
        event_type=event_type,
        program="p",
        year=2026,
        base="b1",
        time=datetime(2026, 3, 1, tzinfo=UTC),
        stream_key="cycle/p/2026/b1@r",
        sequence=sequence,
        data={**required(event_type), **data},
    )


def _recorded(name: str):  # type: ignore[no-untyped-def]
    [path] = [p for p in history_files([HISTORIES]) if p.name.startswith(name + "@")]
    return load_history_file(path)


def test_a_stage_added_to_the_table_is_shown_by_the_projection_and_reachable_by_reset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the table changes; the projection and the reset command follow it."""
    accepted = _event(EventType.PLAN_ACCEPTED, 1, {"stage": "plan_review"})
    filed = _event(EventType.SELFEVAL_FILED, 2, {"stage": "implementing"})
    history = _recorded("cycle-happy-path")

    assert apply(apply(CycleView("p", 2026, "b1"), accepted), filed).stage == "implementing"
    with pytest.raises(NoResetPoint, match="self_evaluated"):
        find_reset_point(history, "self_evaluated")

    monkeypatch.setattr(stage_machine, "CYCLE", _with_self_evaluated())

    assert apply(apply(CycleView("p", 2026, "b1"), accepted), filed).stage == "self_evaluated"
    at = {
        s: find_reset_point(history, s).workflow_task_completed_id
        for s in ("implementing", "self_evaluated", "under_review")
    }
    assert at["implementing"] < at["self_evaluated"] < at["under_review"], at
    assert (
        stage_machine.next_stage(Stage.IMPLEMENTING, EventType.SELFEVAL_FILED) == "self_evaluated"
    )


def test_reset_names_the_stages_it_can_reset_to_in_both_languages() -> None:
    with pytest.raises(NoResetPoint) as refused:
        find_reset_point(_recorded("cycle-happy-path"), "graded")
    assert "plan_filing, plan_review, implementing, under_review, rectifying" in str(refused.value)
    assert "不能退回到该阶段" in str(refused.value)
    with pytest.raises(NoResetPoint, match="never reached rectifying"):
        find_reset_point(_recorded("cycle-happy-path"), "rectifying")
