"""What each person of a program year does, and in which order: the one driver of simulated
people, used by the simulator, the integration tests, the fault tests and the e2e arrangements.

A base files its plan (again, when it is returned), the city and the province approve it, the
base reports, the experts assigned to its review score it, and a base that failed files its
rectification and is scored again. :class:`People` knows these acts and their order; a
:class:`Cast` says who plays each part; a channel carries the acts:

- :class:`TemporalChannel`: straight to the cycle's workflow, each document stored first (the
  integration tests); :class:`PatientTemporalChannel` also waits out a loaded server and names
  the refusals a person meets in a real year (the simulator, the benchmarks, the fault tests);
- :class:`HttpChannel`: through the gateway's HTTP API, each act by the user who plays its
  part, with an Idempotency-Key (the fault tests' gateway bases, the e2e arrangements).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from temporalio.client import (
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from shared.contracts.cycle import (
    Actor,
    CycleState,
    FilePlan,
    FileRectification,
    FileSelfEvaluation,
    ReviewPlan,
    SubmitScore,
    Target,
    Upload,
)
from shared.domain import errors
from shared.domain.chains import ChainStep
from shared.domain.rules import ProgramRules
from shared.objectstore import ObjectStore, sha256_hex
from shared.retrying import retrying
from workflows.cycle import AnnualCycleWorkflow

TARGETS = [Target(key="patents", name="新增发明专利", target=30, unit="件")]


def document(base: str, kind: str, text: str) -> bytes:
    """The PDF a base files: one of a kind (plan, self_evaluation, rectification) per text."""
    return f"%PDF-1.4\n% {kind} of {base}: {text}\n".encode()


def targets_form(targets: list[Target]) -> str:
    """Targets as the HTTP API takes them: a JSON list in a form field."""
    return json.dumps([t.model_dump(mode="json") for t in targets])


async def stored_pdf(
    objects: ObjectStore, prefix: str, kind: str, data: bytes, filed_by: str | None = None
) -> Upload:
    """``data`` stored as ``{prefix}/{kind}/{sha256}.pdf``, and the upload naming it."""
    stored = await objects.put(f"{prefix}/{kind}/{sha256_hex(data)}.pdf", data, "application/pdf")
    by = {"filed_by": filed_by} if filed_by else {}
    return Upload(
        key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        content_type="application/pdf",
        filename=f"{kind}.pdf",
        **by,
    )


def scores(rules: ProgramRules, value: float) -> dict[str, float]:
    """``value`` for every indicator of the program's rubric that experts score (not those
    scored from a target, ``from_target``)."""
    return {i.key: value for i in rules.rubric.indicators if i.from_target is None}


@dataclass(frozen=True)
class Cast:
    """Who plays each part: a base's staff, the officer of each verification step (the city
    officer covers ``region``), and the experts by name."""

    region: str = "410100"
    prefix: str = ""

    def staff(self, base: str) -> Actor:
        return Actor(name=f"{self.prefix}staff-{base}", role="base_user", base=base)

    def officer(self, step: str) -> Actor:
        if step == "city":
            return Actor(
                name=f"{self.prefix}city-{self.region}", role="city_officer", region=self.region
            )
        return Actor(name=f"{self.prefix}province-admin", role="province_admin")

    @staticmethod
    def expert(name: str) -> Actor:
        return Actor(name=name, role="expert")


class Channel(Protocol):
    """How the acts reach the cycle of ``base``; ``key`` names the act within the cycle (a
    channel that retries uses it so that one act is applied once)."""

    async def file_plan(
        self, base: str, actor: Actor, data: bytes, targets: list[Target], key: str
    ) -> Any: ...

    async def review_plan(
        self, base: str, actor: Actor, step: str, decision: str, comment: str, key: str
    ) -> Any: ...

    async def file_self_evaluation(
        self, base: str, actor: Actor, data: bytes, actuals: dict[str, float], key: str
    ) -> Any: ...

    async def submit_score(
        self,
        base: str,
        actor: Actor,
        scores: dict[str, float],
        vetoes: list[str],
        key: str,
    ) -> Any: ...

    async def file_rectification(self, base: str, actor: Actor, data: bytes, key: str) -> Any: ...

    async def experts(self, base: str) -> list[str]:
        """The experts assigned to the base's open review, as this channel can act for them."""
        ...


Forward = Callable[[str, ChainStep], Awaitable[Any]]
"""How a base's region forwards its plan at an aggregation step (the program year's update)."""


class People:
    """The acts of a year's people, in their order, over a channel. ``chain``: the steps the
    cycles run when they are their kind's own (:func:`shared.domain.participants.kind_chain`),
    whose aggregation steps ``forward`` takes; None: the rules' verification."""

    def __init__(
        self,
        channel: Channel,
        rules: ProgramRules | None = None,
        cast: Cast | None = None,
        *,
        chain: list[ChainStep] | None = None,
        forward: Forward | None = None,
    ) -> None:
        self.channel, self._rules, self.cast = channel, rules, cast or Cast()
        self._chain, self._forward = chain, forward

    @property
    def steps(self) -> list[ChainStep]:
        if self._chain:
            return list(self._chain)
        return [ChainStep(level=step) for step in self.rules.verification]

    @property
    def rules(self) -> ProgramRules:
        """The program's rules, for the acts that follow its verification steps or rubric."""
        if self._rules is None:
            raise ValueError("these people act without the program's rules")
        return self._rules

    async def file_plan(
        self, base: str, text: str = "v1", key: str = "plan-1", data: bytes | None = None
    ) -> Any:
        data = document(base, "plan", text) if data is None else data
        return await self.channel.file_plan(base, self.cast.staff(base), data, TARGETS, key)

    async def review(
        self,
        base: str,
        step: str,
        decision: str = "approve",
        comment: str = "",
        key: str | None = None,
    ) -> Any:
        actor = self.cast.officer(step)
        key = key or f"{decision}-{step}"
        return await self.channel.review_plan(base, actor, step, decision, comment, key)

    async def approve(self, base: str) -> Any:
        """Every verification step approves the plan, in the chain's order (an aggregation
        step forwards it); the last answer."""
        answer = None
        for step in self.steps:
            if step.kind == "aggregate":
                await self.forward(base, step)
            else:
                answer = await self.review(base, step.level)
        return answer

    async def forward(self, base: str, step: ChainStep) -> Any:
        if self._forward is None:
            raise ValueError(
                "these people cannot forward a region's plans / 未配置汇总报送的操作人"
            )
        return await self._forward(base, step)

    async def plan(
        self, base: str, *, returned_once: bool = False, data: bytes | None = None
    ) -> Any:
        """The base files its plan and the officers approve it. A plan returned once (at the
        first step, for unquantified targets) is filed again before the approvals. The last
        filing's answer."""
        filed = await self.file_plan(base, data=data)
        verify = [i for i, step in enumerate(self.steps) if step.kind == "verify"]
        if returned_once and verify:
            for step in self.steps[: verify[0]]:
                await self.forward(base, step)
            level = self.steps[verify[0]].level
            await self.review(base, level, "return", "目标需量化", key="return-1")
            filed = await self.file_plan(base, "v2", "plan-2")
        await self.approve(base)
        return filed

    async def report(
        self, base: str, actual: float = 33, key: str = "report", data: bytes | None = None
    ) -> Any:
        data = document(base, "self_evaluation", "report") if data is None else data
        actuals = {TARGETS[0].key: actual}
        return await self.channel.file_self_evaluation(
            base, self.cast.staff(base), data, actuals, key
        )

    def scores(self, value: float) -> dict[str, float]:
        return scores(self.rules, value)

    async def score(self, base: str, value: float, *, veto: bool = False, round_: int = 0) -> None:
        """Each expert assigned to the review (as many as the rubric needs) gives ``value`` to
        every indicator, and with ``veto`` the rubric's first veto. An expert whose place went
        to the next on the roster meanwhile (``not_assigned``) leaves it to the newcomer."""
        rubric = self.rules.rubric
        vetoes = [rubric.vetoes[0]] if veto and rubric.vetoes else []
        scored: set[str] = set()
        for _ in range(REASSIGNMENTS):
            experts = (await self.channel.experts(base))[: rubric.experts_required]
            try:
                for expert in [e for e in experts if e not in scored]:
                    # Keyed by the expert: a place given to another expert is a new act.
                    key = f"score-{round_}-{expert}"
                    actor = self.cast.expert(expert)
                    await self.channel.submit_score(base, actor, self.scores(value), vetoes, key)
                    scored.add(expert)
                return
            except Refused as exc:
                # Too slow: the expert's window ran out and the place went to the next on the
                # roster. The review waits for the newcomers, so they are looked up and score.
                if exc.code != errors.NOT_ASSIGNED:
                    raise
        raise Refused(errors.NOT_ASSIGNED)

    async def file_rectification(self, base: str, n: int = 1, data: bytes | None = None) -> Any:
        data = document(base, "rectification", "fixed") if data is None else data
        return await self.channel.file_rectification(
            base, self.cast.staff(base), data, f"rectification-{n}"
        )

    async def rectify(self, base: str, value: float, n: int = 1) -> None:
        """The base files its ``n``-th rectification and the experts score it ``value``."""
        await self.file_rectification(base, n)
        await self.score(base, value, round_=n)


# ---------------------------------------------------------------------- straight to Temporal


class TemporalChannel:
    """The acts as updates of the cycle's workflow, each document stored first (at the key the
    gateway stores it under). One try each: a refusal is the update's own error."""

    def __init__(
        self,
        handle_of: Callable[[str], WorkflowHandle[Any, Any]],
        objects: ObjectStore | None = None,
    ) -> None:
        self.handle, self._objects = handle_of, objects

    async def state(self, base: str) -> CycleState:
        return await self.handle(base).query(AnnualCycleWorkflow.state)

    async def experts(self, base: str) -> list[str]:
        return list((await self.state(base)).experts)

    async def _update(self, base: str, update: Any, arg: Any, key: str) -> Any:
        return await self.handle(base).execute_update(update, arg)

    async def upload(self, base: str, kind: str, data: bytes) -> Upload:
        if self._objects is None:
            raise ValueError("this channel has no object store to file documents in")
        where = self.handle(base).id.removeprefix("cycle/")  # program/year/base
        return await stored_pdf(self._objects, f"documents/{where}", kind, data, filed_by=base)

    async def file_plan(
        self, base: str, actor: Actor, data: bytes, targets: list[Target], key: str
    ) -> Any:
        upload = await self.upload(base, "plan", data)
        command = FilePlan(upload=upload, targets=targets, actor=actor)
        return await self._update(base, AnnualCycleWorkflow.file_plan, command, key)

    async def review_plan(
        self, base: str, actor: Actor, step: str, decision: str, comment: str, key: str
    ) -> Any:
        command = ReviewPlan(
            step=step,  # type: ignore[arg-type]
            decision=decision,  # type: ignore[arg-type]
            comment=comment,
            actor=actor,
        )
        return await self._update(base, AnnualCycleWorkflow.review_plan, command, key)

    async def file_self_evaluation(
        self, base: str, actor: Actor, data: bytes, actuals: dict[str, float], key: str
    ) -> Any:
        upload = await self.upload(base, "self_evaluation", data)
        command = FileSelfEvaluation(upload=upload, actuals=actuals, actor=actor)
        return await self._update(base, AnnualCycleWorkflow.file_self_evaluation, command, key)

    async def submit_score(
        self,
        base: str,
        actor: Actor,
        scores: dict[str, float],
        vetoes: list[str],
        key: str,
    ) -> Any:
        command = SubmitScore(expert=actor.name, scores=scores, vetoes=vetoes, actor=actor)
        return await self._update(base, AnnualCycleWorkflow.submit_score, command, key)

    async def file_rectification(self, base: str, actor: Actor, data: bytes, key: str) -> Any:
        upload = await self.upload(base, "rectification", data)
        command = FileRectification(upload=upload, actor=actor)
        return await self._update(base, AnnualCycleWorkflow.file_rectification, command, key)


class Refused(Exception):
    """The cycle turned a person's input down (too late, or no longer the stage for it): in
    real time, as in life, that happens; the person's part in the year ends there."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# Refusals a person meets in a real year (or after a retry whose first try landed after all).
REFUSED_LATE = {
    errors.DEADLINE_PASSED,
    errors.WRONG_STAGE,
    errors.DUPLICATE_FILING,
    errors.ALREADY_SCORED,
    errors.NOT_ASSIGNED,  # an expert too slow: the place went to the next on the roster
}
REASSIGNMENTS = 10  # looked up again after at most this many of an expert's places were given away
ATTEMPTS = 30  # about two minutes of a server too busy to answer


class PatientTemporalChannel(TemporalChannel):
    """Updates with stable ids (``{prefix}/{base}/{key}``), asked again when a loaded server
    times out (the server applies one update id once, so a retry never files twice), a few at
    a time; a refusal of :data:`REFUSED_LATE` is :class:`Refused`."""

    def __init__(
        self,
        handle_of: Callable[[str], WorkflowHandle[Any, Any]],
        objects: ObjectStore,
        prefix: str = "sim",
        in_flight: int = 16,
    ) -> None:
        super().__init__(handle_of, objects)
        self._prefix = prefix
        # Enough concurrency to keep the worker busy without starving its workflow tasks.
        self._gate = asyncio.Semaphore(in_flight)
        # Queries a few at a time too: thousands at once (every expert looking up their review
        # when the deadline fires) exhaust the server's concurrent-request limit for minutes.
        self._asking = asyncio.Semaphore(in_flight)
        self.updates = 0

    async def state(self, base: str) -> CycleState:
        """The cycle's state, asked again when a loaded server times out."""
        return await retrying(on=RPCError, attempts=ATTEMPTS)(self._ask, base)

    async def _ask(self, base: str) -> CycleState:
        async with self._asking:
            return await super().state(base)

    async def _update(self, base: str, update: Any, arg: Any, key: str) -> Any:
        update_id = f"{self._prefix}/{base}/{key}"
        async with self._gate:
            self.updates += 1
            attempt_id = update_id
            # A loaded server times out: the same id again is applied at most once. A server
            # that lost the update ("not found") needs a new id; if the first did land after
            # all, the cycle refuses the second as a duplicate.
            tries = retrying(
                on=(WorkflowUpdateRPCTimeoutOrCancelledError, RPCError), attempts=ATTEMPTS
            )
            async for attempt in tries:
                with attempt:
                    try:
                        return await self.handle(base).execute_update(update, arg, id=attempt_id)
                    except WorkflowUpdateFailedError as exc:
                        cause = exc.cause
                        if isinstance(cause, ApplicationError) and cause.type in REFUSED_LATE:
                            raise Refused(cause.type) from exc
                        raise
                    except RPCError as exc:
                        if "already completed" in str(exc):
                            raise Refused("cycle_closed") from exc
                        if "not found" in str(exc):
                            attempt_id = f"{update_id}~{attempt.retry_state.attempt_number}"
                        raise
            raise AssertionError("unreachable: the last try's failure is raised")


# ---------------------------------------------------------------------- through the gateway


class Speaker(Protocol):
    """One user of the HTTP API: the answer's JSON when its status is ``expect``."""

    async def call(self, method: str, path: str, *, expect: int, **kwargs: Any) -> Any: ...


class UnexpectedAnswer(Exception):
    def __init__(self, method: str, path: str, resp: httpx.Response) -> None:
        super().__init__(f"{method} {path}: {resp.status_code} {resp.text[:500]}")
        self.status = resp.status_code


class StillActing(UnexpectedAnswer):
    """A keyed request answered 202: accepted, still being acted on."""


class HttpUser:
    """A user of the HTTP API who asks once; a keyed request answered 202 (accepted, still
    being acted on) is asked again with the same Idempotency-Key until it has its answer."""

    def __init__(
        self, http: httpx.AsyncClient, headers: dict[str, str], patience_s: float = 120.0
    ) -> None:
        self._http, self.headers, self._patience_s = http, headers, patience_s

    async def call(self, method: str, path: str, *, expect: int, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        keyed = "Idempotency-Key" in headers

        async def ask() -> Any:
            resp = await self._http.request(method, path, headers=headers, **kwargs)
            if resp.status_code == expect:
                return resp.json()
            if resp.status_code == 202 and keyed:
                raise StillActing(method, path, resp)
            raise UnexpectedAnswer(method, path, resp)

        patience = retrying(on=StillActing, seconds=self._patience_s, step=0.5, growing=False)
        return await patience(ask)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    expect: int
    kwargs: dict[str, Any]


class HttpChannel:
    """The acts as requests to the gateway, each by the user ``speaker_of`` gives for its actor
    and with an Idempotency-Key (``{base}-{key}``), so that a retry acts once. The experts it
    can act for are ``experts``."""

    def __init__(
        self,
        cycle_path: Callable[[str], str],
        speaker_of: Callable[[Actor], Speaker],
        experts: list[str] | None = None,
    ) -> None:
        self._path, self._speaker_of, self._experts = cycle_path, speaker_of, experts or []

    @staticmethod
    def idempotency_key(base: str, key: str) -> str:
        return f"{base}-{key}"

    def _filing(
        self, base: str, tail: str, name: str, data: bytes, form: dict[str, str], key: str
    ) -> Request:
        return Request(
            "POST",
            self._path(base) + tail,
            201,
            {
                "headers": {"Idempotency-Key": self.idempotency_key(base, key)},
                "files": {"file": (f"{name}.pdf", data, "application/pdf")},
                "data": form,
            },
        )

    def _posted(self, base: str, tail: str, expect: int, body: Any, key: str) -> Request:
        headers = {"Idempotency-Key": self.idempotency_key(base, key)}
        return Request("POST", self._path(base) + tail, expect, {"json": body, "headers": headers})

    def plan_request(self, base: str, data: bytes, targets: list[Target], key: str) -> Request:
        form = {"targets": targets_form(targets)}
        return self._filing(base, "/plan", "plan", data, form, key)

    async def _send(self, actor: Actor, request: Request) -> Any:
        speaker = self._speaker_of(actor)
        return await speaker.call(
            request.method, request.path, expect=request.expect, **request.kwargs
        )

    async def experts(self, base: str) -> list[str]:
        return list(self._experts)

    async def file_plan(
        self, base: str, actor: Actor, data: bytes, targets: list[Target], key: str
    ) -> Any:
        return await self._send(actor, self.plan_request(base, data, targets, key))

    async def review_plan(
        self, base: str, actor: Actor, step: str, decision: str, comment: str, key: str
    ) -> Any:
        body = {"decision": decision, **({"comment": comment} if comment else {})}
        return await self._send(actor, self._posted(base, "/plan/review", 200, body, key))

    async def file_self_evaluation(
        self, base: str, actor: Actor, data: bytes, actuals: dict[str, float], key: str
    ) -> Any:
        form = {"actuals": json.dumps(actuals)}
        request = self._filing(base, "/self-evaluation", "report", data, form, key)
        return await self._send(actor, request)

    async def submit_score(
        self,
        base: str,
        actor: Actor,
        scores: dict[str, float],
        vetoes: list[str],
        key: str,
    ) -> Any:
        body: dict[str, Any] = {"scores": scores, **({"vetoes": vetoes} if vetoes else {})}
        return await self._send(actor, self._posted(base, "/scores", 201, body, key))

    async def file_rectification(self, base: str, actor: Actor, data: bytes, key: str) -> Any:
        request = self._filing(base, "/rectification", "rectification", data, {}, key)
        return await self._send(actor, request)
