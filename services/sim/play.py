"""Playing every person's part in a program year: bases, city and province officers, experts.

The same play runs in virtual time (the time-skipping server, for ``demo --virtual`` and the
benchmarks) and in real time on a running stack (``demo``); a :class:`Clock` is the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from services.sim.actors import BaseScript, scripts
from services.sim.people import Cast, PatientTemporalChannel, People, Refused
from shared.contracts.cycle import CycleState
from shared.contracts.forwardings import ForwardPlans
from shared.contracts.program_year import ProgramYearState
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.domain import errors
from shared.domain.chains import ChainStep
from shared.domain.grading import DecisionRecord, recompute
from shared.domain.participants import kind_chain, pinned_rules
from shared.domain.rules import ProgramRules
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.objectstore import ObjectStore
from shared.retrying import polled
from shared.stream import EVENTS_STREAM
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow

Progress = Callable[[str, int, int], None]
CITIES = ["410100", "410200", "410300", "410400", "410500", "410700", "410800", "411000"]
# Seconds a cycle may take, per base of the year, to move on after a deadline that fires in
# every cycle at once (a floor of 5 cycles a second; 60 s more for a small year).
BURST_S_PER_BASE = 0.2


def program_year_handle(
    client: Client, program: str, year: int
) -> WorkflowHandle[ProgramYearWorkflow, ProgramYearState]:
    """The program year's handle, typed (mypy 2 cannot bind ``get_workflow_handle_for`` here)."""
    return client.get_workflow_handle(program_year_id(program, year), result_type=ProgramYearState)


class Clock(Protocol):
    """Virtual or real time, as the people in the simulation see it."""

    async def now(self) -> datetime: ...

    async def think(self, seconds: float) -> None:
        """A person taking their time before acting."""

    async def pass_until(self, when: datetime) -> None:
        """Let time pass until a deadline."""

    def waiting(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Around waiting for workflow results."""


class RealClock:
    async def now(self) -> datetime:
        return datetime.now(UTC)

    async def think(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def pass_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))

    def waiting(self) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()


@dataclass
class YearSummary:
    program: str
    year: int
    bases: int
    elapsed_s: float
    virtual_days: float
    grades: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    overdue_by_city: Counter[str] = field(default_factory=Counter)
    recomputed: int = 0
    recompute_mismatches: list[str] = field(default_factory=list)
    updates: int = 0
    late_refused: int = 0
    refused: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "year": self.year,
            "bases": self.bases,
            "elapsed_s": round(self.elapsed_s, 2),
            "virtual_days": round(self.virtual_days, 2),
            "grades": dict(self.grades),
            "outcomes": dict(self.outcomes),
            "overdue_by_city": dict(self.overdue_by_city),
            "recomputed": self.recomputed,
            "recompute_mismatches": self.recompute_mismatches,
            "updates": self.updates,
            "late_refused": self.late_refused,
            "refused": dict(self.refused),
        }


class Actors:
    """Plays the bases, the city and province officers and the experts of a year's scripts:
    each person takes their time, then acts as :class:`People` do, patiently (see
    :class:`PatientTemporalChannel`)."""

    def __init__(
        self,
        client: Client,
        objects: ObjectStore,
        rules: ProgramRules,
        year: int,
        clock: Clock,
    ) -> None:
        def handle(base: str) -> WorkflowHandle[Any, Any]:
            return client.get_workflow_handle_for(
                AnnualCycleWorkflow.run, cycle_id(rules.id, year, base)
            )

        self.channel = PatientTemporalChannel(handle, objects)
        self._program_year = program_year_handle(client, rules.id, year)
        # A simulated city officer covers the program's whole region. Synthetic bases are of the
        # program's first kind, so they act under the rules its cycles pin (its rubric) and
        # pass its chain (an aggregation step: the province admin forwards the region's plans).
        cast = Cast(region=rules.region, prefix="sim-")
        self.people = People(
            self.channel,
            pinned_rules(rules),
            cast,
            chain=kind_chain(rules),
            forward=self.forward,
        )
        self._clock = clock
        self.late_refused = 0
        self.refused: Counter[str] = Counter()

    @property
    def updates(self) -> int:
        return self.channel.updates

    def handle(self, base: str) -> WorkflowHandle[Any, Any]:
        return self.channel.handle(base)

    async def stage(self, base: str) -> str:
        return (await self.state(base)).stage.value

    async def deadline(self, base: str, name: str) -> datetime | None:
        return (await self.state(base)).deadlines.get(name)

    async def state(self, base: str) -> CycleState:
        """The cycle's state, asked again when a loaded server times out."""
        return await self.channel.state(base)

    async def _think(self, share: float, deadline: str, base: str) -> None:
        if share <= 0:
            return
        due = await self.deadline(base, deadline)
        if due is not None:
            await self._clock.think(share * (due - await self._clock.now()).total_seconds())

    async def plan(self, s: BaseScript) -> None:
        await self._think(s.plan_delay, "plan", s.base)
        await self.people.plan(s.base, returned_once=s.returned_once)

    async def late_plan(self, s: BaseScript) -> None:
        """A base that files after the deadline, and is refused."""
        due = await self.deadline(s.base, "plan")
        if due is None:
            return
        await self._clock.pass_until(due + timedelta(seconds=1))
        try:
            await self.people.file_plan(s.base, "late", "plan-late")
        except Refused:
            self.late_refused += 1

    async def report(self, s: BaseScript) -> None:
        await self._think(s.report_delay, "self_evaluation", s.base)
        await self.people.report(s.base, round(30 * s.score / 80, 1))

    async def score(self, s: BaseScript, value: float, veto: bool) -> None:
        await self.people.score(s.base, value, veto=veto)

    async def rectify(self, s: BaseScript) -> None:
        await self.people.rectify(s.base, max(70.0, s.score))

    async def forward(self, base: str, step: ChainStep) -> None:
        """The base's region forwards the plans waiting at its aggregation step once the program
        year knows this one waits (another base's forwarding may have taken it: then that one
        did); done when the cycle has moved on."""
        region = (await self.state(base)).forwarding_region
        if region is None:
            return

        async def known() -> bool:
            state = await self._program_year.query(ProgramYearWorkflow.state)
            return (
                base in state.awaiting.get(region, [])
                or (await self.state(base)).forwarding_region is None
            )

        await polled(
            known, what=f"{base} waiting at {region}", every=0.2, seconds=60, ignoring=RPCError
        )
        try:
            _ = await self._program_year.execute_update(
                ProgramYearWorkflow.forward_plans,
                ForwardPlans(region=region, actor=self.people.cast.officer(step.level)),
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            taken = (errors.NOTHING_TO_FORWARD, errors.ALREADY_FORWARDED)
            if not isinstance(cause, ApplicationError) or cause.type not in taken:
                raise

        async def moved_on() -> bool:
            return (await self.state(base)).forwarding_region is None

        await polled(moved_on, what=f"{base} forwarded", every=0.2, seconds=60, ignoring=RPCError)

    async def settled_stage(self, base: str, leaving: str, seconds: float = 60) -> str:
        """The stage once the cycle has moved on from ``leaving`` (grading takes a moment; a
        loaded machine may take many): ``TimeoutError`` if it never does within ``seconds``."""

        async def moved_on() -> str | None:
            stage = await self.stage(base)
            return None if stage == leaving else stage

        return await polled(moved_on, what=f"{base} leaving {leaving}", every=0.2, seconds=seconds)


async def each(
    items: list[Any],
    act: Callable[[Any], Awaitable[None]],
    phase: str,
    progress: Progress | None,
    refused: Counter[str] | None = None,
) -> None:
    done = 0

    async def one(item: Any) -> None:
        nonlocal done
        try:
            await act(item)
        except Refused as exc:
            if refused is None:
                raise
            refused[f"{phase}: {exc.code}"] += 1
        done += 1
        if progress:
            progress(phase, done, len(items))

    if progress and not items:
        progress(phase, 0, 0)
    await asyncio.gather(*(one(i) for i in items))


async def publication_end(program_year: Any) -> datetime:
    """When the year's 公示 ends, once its results are published."""

    async def published() -> datetime | None:
        state = await program_year.query(ProgramYearWorkflow.state)
        return state.publication_until  # type: ignore[no-any-return]

    # A loaded server times out a query: ask again.
    return await polled(
        published, what="the year's publication", every=0.1, attempts=6000, ignoring=RPCError
    )


async def play_year(
    *,
    client: Client,
    js: Any,
    objects: ObjectStore,
    rules: ProgramRules,
    names: list[str],
    city_of: dict[str, str],
    year: int,
    seed: int,
    clock: Clock,
    progress: Progress | None,
    started: float,
    real_time: bool = False,
) -> YearSummary:
    """Play a launched year to its end; the program-year workflow must be running."""
    program_year = program_year_handle(client, rules.id, year)
    t0 = await clock.now()

    async def all_opened() -> bool:
        return bool((await program_year.query(ProgramYearWorkflow.state)).opened >= len(names))

    # Polling a query: there is nothing to wait on but the workflow (wait_opened below is
    # the bound).
    with contextlib.suppress(TimeoutError):
        await polled(all_opened, what="every cycle", every=0.1, attempts=6000, ignoring=RPCError)
    actors = Actors(client, objects, rules, year, clock)
    # A person can miss a deadline (in virtual time only when the server skipped ahead under
    # load): the refusal is counted and reported, and that person's part ends there.
    tolerated = actors.refused
    await wait_opened(js, rules.id, year, len(names))
    if progress:
        progress("opened", len(names), len(names))
    plays = scripts(names, seed)
    if not real_time:
        plays = [replace_delays(s) for s in plays]
    late = [s for s in plays if not s.files_plan] if real_time else []
    await asyncio.gather(
        each([s for s in plays if s.files_plan], actors.plan, "plans", progress, tolerated),
        each(late, actors.late_plan, "late plans", progress),
    )
    await each(
        [s for s in plays if s.files_plan and s.files_report],
        actors.report,
        "reports",
        progress,
        tolerated,
    )
    due = await actors.deadline(names[0], "self_evaluation")
    if due is not None:
        await clock.pass_until(due + timedelta(seconds=1))
    # A review opens once its experts are assigned, a moment after the due time. The deadline
    # fires in every cycle at once; the worker drains that burst at its own pace, so the wait for
    # a cycle to move on grows with the year (10,000 bases drained at 8-11 a second here).
    burst_s = 60 + BURST_S_PER_BASE * len(names)

    async def review(s: BaseScript) -> None:
        """The experts score as soon as the review opens (its window starts then)."""
        if await actors.settled_stage(s.base, "implementing", burst_s) == "under_review":
            await actors.score(s, s.score, s.veto)

    reported = [s for s in plays if s.files_plan and s.files_report]
    await each(reported, review, "scores", progress, tolerated)
    # Rectification is ordered once the year's results are final, after 公示.
    until = await publication_end(program_year)
    await clock.pass_until(until + timedelta(seconds=1))

    async def rectify(s: BaseScript) -> None:
        if await actors.settled_stage(s.base, "graded", burst_s) == "rectifying":
            await actors.rectify(s)

    await each([s for s in plays if s.rectifies], rectify, "rectifications", progress, tolerated)

    async with clock.waiting():
        await program_year.result()
        outcomes = await asyncio.gather(*(actors.handle(b).result() for b in names))
    summary = YearSummary(
        program=rules.id,
        year=year,
        bases=len(names),
        elapsed_s=time.monotonic() - started,
        virtual_days=(await clock.now() - t0).total_seconds() / 86400,
        updates=actors.updates,
        late_refused=actors.late_refused,
        refused=actors.refused,
    )
    for outcome in outcomes:
        summary.outcomes[outcome.stage.value] += 1
        grade = outcome.final_grade or outcome.grade
        summary.grades[grade.value if grade else "excluded"] += 1
    overdue = await read_events(js, event_filter(rules.id, year, event_type="plan.overdue"))
    overdue += await read_events(js, event_filter(rules.id, year, event_type="selfeval.overdue"))
    for _, event in overdue:
        summary.overdue_by_city[city_of.get(event.base, "?")] += 1
    for _, event in await read_events(js, event_filter(rules.id, year, event_type="review.graded")):
        record = DecisionRecord.model_validate(event.data)
        summary.recomputed += 1
        if recompute(record) != (record.total, record.grade):
            summary.recompute_mismatches.append(f"{record.base} round {record.round}")
    return summary


def replace_delays(s: BaseScript) -> BaseScript:
    """In virtual time people act at once: months pass between the phases anyway."""
    return replace(s, plan_delay=0.0, report_delay=0.0)


async def wait_opened(js: Any, program: str, year: int, count: int) -> None:
    """Let the opening storm settle: people act once every cycle has published cycle.opened."""
    subject = event_filter(program, year, event_type="cycle.opened")

    async def opened() -> bool:
        info = await js.stream_info(EVENTS_STREAM, subjects_filter=subject)
        return bool(sum((info.state.subjects or {}).values()) >= count)

    await polled(
        opened, what=f"cycle.opened of every cycle of {program}/{year}", every=0.25, attempts=1200
    )
