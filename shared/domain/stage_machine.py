"""The cycle's stage machine as data: which event moves a cycle from which stage to which.

One table, read by everyone who needs to know where a cycle stands:

- the cycle workflow moves its stage only along a row of the table (``next_stage``);
- ``navcycle reset --to <stage>`` finds the event that opened the stage (``opened_by``);
- the dashboard projection puts a cycle in the stage an event leaves it in (``after``).

Adding a stage is a new ``Stage`` member, its rows here and the workflow's move: the reset command
and the projection follow from the table. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.domain.stages import Stage
from shared.events.types import EventType


@dataclass(frozen=True)
class Transition:
    """``source`` ─ ``event`` ─▶ ``target``. ``when`` names a flag the event's data carries (true)
    for this row to apply rather than the same event's row without one."""

    source: Stage
    event: EventType
    target: Stage
    when: str | None = None


@dataclass(frozen=True)
class StageMachine:
    start: Stage
    transitions: tuple[Transition, ...]
    # The event each stage begins with, as the cycle publishes it (the start's too).
    openings: Mapping[Stage, EventType]
    final: frozenset[Stage]
    # Stages an operator may reset a cycle back to (the latest publication of the opening event).
    reset_targets: tuple[Stage, ...]
    _after: dict[tuple[EventType, str | None], Stage] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        after: dict[tuple[EventType, str | None], Stage] = {}
        for t in self.transitions:
            known = after.setdefault((t.event, t.when), t.target)
            if known != t.target:
                raise ValueError(f"{t.event} leads to both {known} and {t.target}")
        object.__setattr__(self, "_after", after)

    def next_stage(
        self, stage: Stage, event: EventType, data: Mapping[str, Any] | None = None
    ) -> Stage | None:
        """The stage ``event`` moves a cycle in ``stage`` to, or None: no such move."""
        return _pick([t for t in self.transitions if (t.source, t.event) == (stage, event)], data)

    def after(self, event: EventType, data: Mapping[str, Any] | None = None) -> Stage | None:
        """The stage a cycle is in once ``event`` has happened, from wherever it came; None
        for an event that leaves the stage as it was."""
        flagged = [w for (e, w) in self._after if e == event and w and (data or {}).get(w)]
        return self._after.get((event, flagged[0] if flagged else None))

    def allowed(self, source: Stage, target: Stage) -> bool:
        return any((t.source, t.target) == (source, target) for t in self.transitions)

    def opened_by(self, stage: Stage) -> EventType | None:
        return self.openings.get(stage)

    def stages(self) -> set[Stage]:
        return {self.start} | {s for t in self.transitions for s in (t.source, t.target)}

    def extended(
        self,
        transitions: Iterable[Transition],
        *,
        openings: Mapping[Stage, EventType] | None = None,
        final: Iterable[Stage] = (),
        reset_targets: Iterable[Stage] = (),
    ) -> StageMachine:
        """This machine with more rows (and stages): how a stage is added, here or in a test."""
        return StageMachine(
            start=self.start,
            transitions=(*self.transitions, *transitions),
            openings={**self.openings, **(openings or {})},
            final=self.final | frozenset(final),
            reset_targets=(*self.reset_targets, *reset_targets),
        )


def _pick(rows: list[Transition], data: Mapping[str, Any] | None) -> Stage | None:
    flagged = [t for t in rows if t.when and (data or {}).get(t.when)]
    plain = [t for t in rows if t.when is None]
    chosen = flagged or plain
    return chosen[0].target if chosen else None


S, E, T = Stage, EventType, Transition

_NOT_FINAL = [s for s in Stage if not s.is_final]

CYCLE = StageMachine(
    start=S.PLAN_FILING,
    transitions=(
        # Opening: a base still rectifying an earlier year's cycle waits for it to end.
        T(S.PLAN_FILING, E.CYCLE_OPENED, S.HELD, when="held"),
        T(S.PLAN_FILING, E.CYCLE_OPENED, S.PLAN_FILING),
        T(S.HELD, E.CYCLE_OPENED, S.PLAN_FILING),
        # The plan and its verification chain (step after step, or none at all).
        T(S.PLAN_FILING, E.PLAN_FILED, S.PLAN_REVIEW),
        T(S.PLAN_REVIEW, E.PLAN_VERIFIED, S.PLAN_REVIEW),
        T(S.PLAN_REVIEW, E.PLAN_RETURNED, S.PLAN_FILING),
        T(S.PLAN_REVIEW, E.PLAN_ACCEPTED, S.IMPLEMENTING),
        T(S.PLAN_FILING, E.PLAN_ACCEPTED, S.IMPLEMENTING),
        # Review and grade; an overdue filing is graded fail or excluded, as the rules say.
        T(S.IMPLEMENTING, E.REVIEW_OPENED, S.UNDER_REVIEW),
        T(S.UNDER_REVIEW, E.REVIEW_GRADED, S.GRADED),
        T(S.PLAN_FILING, E.REVIEW_GRADED, S.GRADED),
        T(S.IMPLEMENTING, E.REVIEW_GRADED, S.GRADED),
        T(S.PLAN_FILING, E.CYCLE_EXCLUDED, S.EXCLUDED),
        T(S.IMPLEMENTING, E.CYCLE_EXCLUDED, S.EXCLUDED),
        # An objection upheld during 公示 opens the review again.
        T(S.GRADED, E.REVIEW_OPENED, S.UNDER_REVIEW),
        # The final grade: closed (a designated base files its new plan first) ...
        T(S.GRADED, E.CYCLE_CLOSED, S.CLOSED),
        T(S.GRADED, E.BASE_DESIGNATED, S.PLAN_FILING),
        T(S.PLAN_FILING, E.CYCLE_CLOSED, S.CLOSED),
        # ... or rectification rounds, each re-reviewed; a lapsed round goes to the next.
        T(S.GRADED, E.RECTIFICATION_ORDERED, S.RECTIFYING),
        T(S.RECTIFYING, E.RECTIFICATION_ORDERED, S.RECTIFYING),
        # A filed rectification is under re-review from then on (the review opens with experts).
        T(S.RECTIFYING, E.RECTIFICATION_FILED, S.UNDER_REVIEW),
        T(S.RECTIFYING, E.REVIEW_OPENED, S.UNDER_REVIEW),
        # ... or de-listed (a veto, or rectification that never passed).
        T(S.GRADED, E.BASE_DELISTED, S.DELISTED),
        T(S.RECTIFYING, E.BASE_DELISTED, S.DELISTED),
        # A base de-listed in another year's cycle ends this one wherever it stands.
        *(T(s, E.CYCLE_ENDED, S.ENDED) for s in _NOT_FINAL),
    ),
    openings={
        S.PLAN_FILING: E.CYCLE_OPENED,
        S.HELD: E.CYCLE_OPENED,
        S.PLAN_REVIEW: E.PLAN_FILED,
        S.IMPLEMENTING: E.PLAN_ACCEPTED,
        S.UNDER_REVIEW: E.REVIEW_OPENED,
        S.GRADED: E.REVIEW_GRADED,
        S.RECTIFYING: E.RECTIFICATION_ORDERED,
        S.CLOSED: E.CYCLE_CLOSED,
        S.DELISTED: E.BASE_DELISTED,
        S.EXCLUDED: E.CYCLE_EXCLUDED,
        S.ENDED: E.CYCLE_ENDED,
    },
    final=frozenset(s for s in Stage if s.is_final),
    reset_targets=(S.PLAN_FILING, S.PLAN_REVIEW, S.IMPLEMENTING, S.UNDER_REVIEW, S.RECTIFYING),
)


# The machine's users call these, so a machine with a stage added (``CYCLE.extended``) is seen by
# all of them at once.
def next_stage(
    stage: Stage, event: EventType, data: Mapping[str, Any] | None = None
) -> Stage | None:
    return CYCLE.next_stage(stage, event, data)


def after(event: EventType, data: Mapping[str, Any] | None = None) -> Stage | None:
    return CYCLE.after(event, data)


def allowed(source: Stage, target: Stage) -> bool:
    return CYCLE.allowed(source, target)


def opened_by(stage: Stage) -> EventType | None:
    return CYCLE.opened_by(stage)


def reset_targets() -> tuple[Stage, ...]:
    return CYCLE.reset_targets
