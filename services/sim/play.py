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

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from services.sim.actors import BaseScript, scripts
from shared.contracts.cycle import (
    Actor,
    FilePlan,
    FileRectification,
    FileSelfEvaluation,
    ReviewPlan,
    SubmitScore,
    Target,
    Upload,
)
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.domain import errors
from shared.domain.grading import DecisionRecord, recompute
from shared.domain.rules import ProgramRules
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.objectstore import ObjectStore, sha256_hex
from shared.retrying import polled, retrying
from shared.stream import EVENTS_STREAM
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow

Progress = Callable[[str, int, int], None]
CITIES = ["410100", "410200", "410300", "410400", "410500", "410700", "410800", "411000"]
TARGETS = [Target(key="patents", name="新增发明专利", target=30, unit="件")]


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


class Refused(Exception):
    """The cycle turned a person's input down (too late, or no longer the stage for it): in
    real time, as in life, that happens; the person's part in the year ends there."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Actors:
    """Plays the bases, the city and province officers and the experts."""

    def __init__(
        self,
        client: Client,
        objects: ObjectStore,
        rules: ProgramRules,
        year: int,
        clock: Clock,
    ) -> None:
        self._client, self._objects, self._rules, self._year = client, objects, rules, year
        self._clock = clock
        # Enough concurrency to keep the worker busy without starving its workflow tasks.
        self._gate = asyncio.Semaphore(16)
        self.updates = 0
        self.late_refused = 0
        self.refused: Counter[str] = Counter()

    def handle(self, base: str) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle_for(
            AnnualCycleWorkflow.run, cycle_id(self._rules.id, self._year, base)
        )

    async def stage(self, base: str) -> str:
        return (await self.state(base)).stage.value

    async def deadline(self, base: str, name: str) -> datetime | None:
        return (await self.state(base)).deadlines.get(name)

    async def state(self, base: str) -> Any:
        """The cycle's state, asked again when a loaded server times out."""
        return await retrying(on=RPCError, attempts=_ATTEMPTS)(
            self.handle(base).query, AnnualCycleWorkflow.state
        )

    async def _think(self, share: float, deadline: str, base: str) -> None:
        if share <= 0:
            return
        due = await self.deadline(base, deadline)
        if due is not None:
            await self._clock.think(share * (due - await self._clock.now()).total_seconds())

    async def _upload(self, base: str, kind: str, text: str) -> Upload:
        data = f"%PDF-1.4\n% {kind} of {base}: {text}\n".encode()
        key = f"documents/{self._rules.id}/{self._year}/{base}/{kind}/{sha256_hex(data)}.pdf"
        stored = await self._objects.put(key, data, "application/pdf")
        return Upload(
            key=key,
            sha256=stored.sha256,
            size=stored.size,
            content_type="application/pdf",
            filename=f"{kind}.pdf",
            filed_by=base,
        )

    async def _update(self, base: str, update: Any, arg: Any, key: str) -> Any:
        """An update with a stable id, retried when the server times out under load: the
        server applies one update id once, so a retry never files twice."""
        update_id = f"sim/{base}/{key}"
        async with self._gate:
            self.updates += 1
            attempt_id = update_id
            # A loaded server times out: the same id again is applied at most once. A server
            # that lost the update ("not found") needs a new id; if the first did land after
            # all, the cycle refuses the second as a duplicate.
            tries = retrying(
                on=(WorkflowUpdateRPCTimeoutOrCancelledError, RPCError), attempts=_ATTEMPTS
            )
            async for attempt in tries:
                with attempt:
                    try:
                        return await self.handle(base).execute_update(update, arg, id=attempt_id)
                    except WorkflowUpdateFailedError as exc:
                        cause = exc.cause
                        if isinstance(cause, ApplicationError) and cause.type in _REFUSED_LATE:
                            raise Refused(cause.type) from exc
                        raise
                    except RPCError as exc:
                        if "already completed" in str(exc):
                            raise Refused("cycle_closed") from exc
                        if "not found" in str(exc):
                            attempt_id = f"{update_id}~{attempt.retry_state.attempt_number}"
                        raise
            raise AssertionError("unreachable: the last try's failure is raised")

    async def plan(self, s: BaseScript) -> None:
        await self._think(s.plan_delay, "plan", s.base)
        upload = await self._upload(s.base, "plan", "v1")
        await self._update(
            s.base,
            AnnualCycleWorkflow.file_plan,
            FilePlan(upload=upload, targets=TARGETS, actor=self._staff(s.base)),
            "plan-1",
        )
        steps = list(self._rules.verification)
        if s.returned_once and steps:
            await self._update(
                s.base,
                AnnualCycleWorkflow.review_plan,
                ReviewPlan(
                    step=steps[0],
                    decision="return",
                    comment="目标需量化",
                    actor=self._officer(steps[0]),
                ),
                "return-1",
            )
            upload = await self._upload(s.base, "plan", "v2")
            await self._update(
                s.base,
                AnnualCycleWorkflow.file_plan,
                FilePlan(upload=upload, targets=TARGETS, actor=self._staff(s.base)),
                "plan-2",
            )
        for step in steps:
            await self._update(
                s.base,
                AnnualCycleWorkflow.review_plan,
                ReviewPlan(step=step, decision="approve", actor=self._officer(step)),
                f"approve-{step}",
            )

    async def late_plan(self, s: BaseScript) -> None:
        """A base that files after the deadline, and is refused."""
        due = await self.deadline(s.base, "plan")
        if due is None:
            return
        await self._clock.pass_until(due + timedelta(seconds=1))
        upload = await self._upload(s.base, "plan", "late")
        try:
            await self._update(
                s.base,
                AnnualCycleWorkflow.file_plan,
                FilePlan(upload=upload, targets=TARGETS, actor=self._staff(s.base)),
                "plan-late",
            )
        except Refused:
            self.late_refused += 1

    async def report(self, s: BaseScript) -> None:
        await self._think(s.report_delay, "self_evaluation", s.base)
        upload = await self._upload(s.base, "self_evaluation", "report")
        actual = round(30 * s.score / 80, 1)
        await self._update(
            s.base,
            AnnualCycleWorkflow.file_self_evaluation,
            FileSelfEvaluation(
                upload=upload, actuals={"patents": actual}, actor=self._staff(s.base)
            ),
            "report",
        )

    async def score(self, s: BaseScript, value: float, veto: bool, round_: int = 0) -> None:
        vetoes = [self._rules.rubric.vetoes[0]] if veto and self._rules.rubric.vetoes else []
        # The experts the review was assigned (the cycle accepts no one else's sheet).
        experts = (await self.state(s.base)).experts
        for n, expert in enumerate(experts[: self._rules.rubric.experts_required]):
            scores = dict.fromkeys(self._rules.rubric.keys, value)
            await self._update(
                s.base,
                AnnualCycleWorkflow.submit_score,
                SubmitScore(
                    expert=expert,
                    scores=scores,
                    vetoes=vetoes,
                    actor=Actor(name=expert, role="expert"),
                ),
                f"score-{round_}-{n}",
            )

    async def rectify(self, s: BaseScript) -> None:
        upload = await self._upload(s.base, "rectification", "fixed")
        await self._update(
            s.base,
            AnnualCycleWorkflow.file_rectification,
            FileRectification(upload=upload, actor=self._staff(s.base)),
            "rectification-1",
        )
        await self.score(s, max(70.0, s.score), veto=False, round_=1)

    @staticmethod
    def _staff(base: str) -> Actor:
        return Actor(name=f"sim-staff-{base}", role="base_user", base=base)

    def _officer(self, step: str) -> Actor:
        # A simulated city officer covers the program's whole region.
        if step == "city":
            return Actor(name="sim-city", role="city_officer", region=self._rules.region)
        return Actor(name="sim-province", role="province_admin")

    async def settled_stage(self, base: str, leaving: str, attempts: int = 50) -> str:
        """The stage once the cycle has moved on from ``leaving`` (grading takes a moment)."""
        stage = await self.stage(base)
        for _ in range(attempts):
            if stage != leaving:
                break
            await asyncio.sleep(0.2)
            stage = await self.stage(base)
        return stage


# Refusals a person meets in a real year (or after a retry whose first try landed after all).
_REFUSED_LATE = {
    errors.DEADLINE_PASSED,
    errors.WRONG_STAGE,
    errors.DUPLICATE_FILING,
    errors.ALREADY_SCORED,
}
_ATTEMPTS = 30  # about two minutes of a server too busy to answer


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
    program_year = client.get_workflow_handle_for(
        ProgramYearWorkflow.run, program_year_id(rules.id, year)
    )
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
    # A review opens once its experts are assigned, a moment after the due time.
    reviewing = [
        s for s in plays if (await actors.settled_stage(s.base, "implementing")) == "under_review"
    ]
    await each(reviewing, lambda s: actors.score(s, s.score, s.veto), "scores", progress, tolerated)
    # Rectification is ordered once the year's results are final, after 公示.
    until = await publication_end(program_year)
    await clock.pass_until(until + timedelta(seconds=1))
    rectifying = [
        s
        for s in plays
        if s.rectifies and (await actors.settled_stage(s.base, "graded")) == "rectifying"
    ]
    await each(rectifying, actors.rectify, "rectifications", progress, tolerated)

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
