"""AnnualCycleWorkflow: one base through one program year.

plan filing ▶ verification chain ▶ implementation ▶ self-evaluation ▶ review ▶ grade ▶ the
program year's final results (after 公示 and every objection) ▶ closed, or rectification rounds
▶ re-review ▶ closed or de-listed.

Every deadline is computed once from the pinned rules and kept in state, so a reset or a replay
never moves it; waits use ``wait_condition(..., timeout=due - now)``. Nothing waits on a person
forever: each wait has the outcome the rules name once its escalation has gone out. A base
de-listed in any year ends this cycle at once (``base_delisted``), in a stage of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.cycle_clock import DAY, CycleClock, CycleEnded

with workflow.unsafe.imports_passed_through():
    from shared.contracts import search_attributes as sa
    from shared.contracts import workflow_names as names
    from shared.contracts.activities import (
        BaseStatusRequest,
        EndLaterCyclesRequest,
        ExpertsRequest,
        PublishRequest,
        RecordFiling,
        SignalCyclesRequest,
    )
    from shared.contracts.calendars import CalendarApplied
    from shared.contracts.cycle import (
        Actor,
        AtAggregation,
        BaseDelisted,
        CycleConcluded,
        CycleGraded,
        CycleInput,
        CycleOutcome,
        CycleState,
        DeadlineInfo,
        DocumentRef,
        ExtendDeadline,
        FilePlan,
        FileRectification,
        FileSelfEvaluation,
        FinalGrade,
        HistoryStep,
        PlansForwarded,
        PriorCycleEnded,
        Receipt,
        ReopenReview,
        ReviewPlan,
        ScoreReceipt,
        SubmitScore,
        Upload,
    )
    from shared.contracts.filings import DocumentRecord
    from shared.contracts.registry import BaseStatusResult
    from shared.domain import errors
    from shared.domain.admission import FilingKind, filing_refusal
    from shared.domain.arrival import Admission, admission_time
    from shared.domain.chains import ChainStep
    from shared.domain.grading import (
        GRADING_METHOD,
        DecisionRecord,
        Grade,
        ScoreSheet,
        completion_rates,
        computed_sent,
        grade_sheets,
        score_errors,
    )
    from shared.domain.regions import region_at
    from shared.domain.stage_machine import next_stage
    from shared.domain.stages import Stage
    from shared.domain.target_scores import cycle_completions
    from shared.domain.timespec import parse_utc_offset
    from shared.events import payloads as ev
    from shared.events.envelope import CloudEvent, new_event
    from shared.events.types import EventType
    from workflows.activities import CycleActivities
    from workflows.authority import Act, actor_refusal
    from workflows.errors import rejected

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A filing's document registration and event in one local activity (issue 15: a filing costs the
# engine close to a bare update); cycles that filed before this replay their two activities.
FILING_IN_ONE_CALL = "filing-in-one-local-activity"
# A participant kind's own chain (issue 16): national steps and aggregation steps (汇总报送)
# run as the chain says; cycles before it ran the rules' verification only.
KIND_CHAINS = "kind-chains"
# Indicators scored from targets (issue 16): computed from the self-evaluation's actuals, not
# averaged from the experts' sheets; cycles graded before this keep their experts' scores.
TARGET_SCORES = "target-scores"
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Expert assignment: a short roster comes back to the cycle, which tells the province and
# asks again each day; anything else is retried like every activity.
ROSTER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["roster_too_short"],
)
_DOC_NS = uuid.UUID("1b7e0c52-3f4d-4a8e-9c61-8d2f5e7a9b10")


@workflow.defn(name=names.CYCLE_WORKFLOW)
class AnnualCycleWorkflow(CycleClock):
    @workflow.init
    def __init__(self, inp: CycleInput) -> None:
        self._inp = inp
        self._rules = inp.rules
        self._tz = parse_utc_offset(inp.rules.calendar.utc_offset)
        self._s = CycleState(
            program=inp.program,
            year=inp.year,
            base=inp.base.id,
            rules_version=inp.rules_version,
            stage=Stage.PLAN_FILING,
        )
        self._seq = 0
        self._plan_recorded = False
        self._decision: ReviewPlan | None = None
        self._decisions_taken = 0
        self._decisions_done = 0
        self._selfeval_filed = False
        self._rectification_recorded_round = 0
        self._sheets: list[ScoreSheet] = []
        self._vetoes: list[str] = []
        self._grade_reason = "scored"
        self._final: FinalGrade | None = None
        self._reopen: ReopenReview | None = None
        self._ended: BaseDelisted | None = None
        self._prior: PriorCycleEnded | None = None
        self._calendar: CalendarApplied | None = None
        self._calendar_seen = 0
        self._claims: list[BaseDelisted] = []
        self._forwarded: PlansForwarded | None = None

    # ---------------------------------------------------------------- the cycle

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleOutcome:
        try:
            await self._cycle(inp)
        except CycleEnded:
            await self._end()
        return self._outcome()

    async def _cycle(self, inp: CycleInput) -> None:
        anchor = inp.launched_at
        if inp.base.status == "rectifying" and self._rules.outcomes.rectifying_next_year == "hold":
            anchor = await self._hold()
        self._move(EventType.CYCLE_OPENED)
        await self._set_deadline("plan", "plan_window", anchor)
        await self._emit(
            ev.CycleOpened(
                deadlines=self._deadlines_json(), deadline_info=self._deadline_info_json()
            )
        )

        if await self._plan_phase():
            grade = await self._implementation_and_review()
        else:
            await self._emit(ev.PlanOverdue(**self._due("plan")))
            grade = await self._overdue_outcome("plan_overdue", self._rules.outcomes.plan_overdue)
        if grade is None:  # excluded from the year's assessment
            await self._concluded()
            return
        final = await self._await_final(grade)
        await self._conclude(final)

    async def _hold(self) -> datetime:
        """The base is still rectifying an earlier year: wait until that ends (a de-listing
        ends this cycle too); the plan window then counts from the release."""
        self._move(EventType.CYCLE_OPENED, held=True)
        await self._emit(ev.CycleOpened(held=True, reason="rectifying"))
        while True:
            await self._wait(lambda: self._prior is not None)
            # Released only when the registry agrees the rectification has ended.
            if (await self._base_status()).status != "rectifying":
                return workflow.now()
            self._prior = None

    async def _plan_phase(self) -> bool:
        """File, then pass each verification step; a return sends the base back to refile."""
        while True:
            self._upsert_stage()  # still filing: no move, but each pass has always upserted it
            filed: Callable[[], bool] = lambda: self._s.plan_filed  # noqa: E731
            if not await self._wait_deadline("plan", filed):
                if not await self._filing_grace("plan", filed):
                    return False
            await self._wait(lambda: self._plan_recorded)
            if await self._verification_chain():
                return True

    async def _verification_chain(self) -> bool:
        """Each step of the chain in order; False when a step returns the plan. Since
        KIND_CHAINS a cycle given its kind's chain (a national or an aggregation step) runs it;
        every other cycle runs the rules' ``verification``, as before."""
        chain = self._inp.chain
        if chain and workflow.patched(KIND_CHAINS):
            steps = list(chain)
        else:
            steps = [ChainStep(level=step) for step in self._rules.verification]
        for i, chain_step in enumerate(steps):
            if chain_step.kind == "aggregate":
                await self._aggregation_step(i, chain_step)
            elif not await self._verify_step(i, chain_step.level):
                return False
        self._s.verification_step = None
        self._s.deadlines.pop("plan_review", None)
        self._s.deadline_info.pop("plan_review", None)
        await self._emit(ev.PlanAccepted())
        await self._enter_implementation()
        self._ack_decisions()
        return True

    async def _verify_step(self, i: int, step: str) -> bool:
        """One verify step: a person's decision on this plan (the rules' outcome when silent).
        False when the plan is returned to be filed again."""
        self._s.verification_step = step  # type: ignore[assignment]
        self._s.step_taken_by = None
        self._move(EventType.PLAN_VERIFIED if i else EventType.PLAN_FILED)
        await self._set_deadline("plan_review", "plan_review_window")
        self._ack_decisions()  # the previous step's approval has now taken effect
        decided = await self._wait_deadline("plan_review", lambda: self._decision is not None)
        if not decided:
            await self._escalate("plan_review", step)
            await self._after_silent_step(step)
        decision, self._decision = self._decision, None
        self._decisions_taken += 1
        assert decision is not None
        verified = ev.PlanVerified(
            step=step,
            comment=decision.comment,
            reviewer=decision.reviewer,
            taken_over=decision.taken_over,
            reason=decision.reason,
        )
        if decision.decision == "approve":
            await self._emit(verified)
            return True
        self._s.deadlines["plan"] = max(
            self._s.deadlines["plan"], await self._resolve("plan_review_window")
        )
        self._s.verification_step = None
        self._s.deadlines.pop("plan_review", None)
        self._s.deadline_info.pop("plan_review", None)
        await self._emit(
            ev.PlanReturned(**verified.model_dump(exclude_unset=True), refile_by=self._iso("plan"))
        )
        self._s.plan_filed = self._plan_recorded = False
        self._move(EventType.PLAN_RETURNED)
        self._ack_decisions()
        return False

    async def _aggregation_step(self, i: int, step: ChainStep) -> None:
        """An aggregation step (汇总报送): the plan is not reviewed here. It waits, with its
        region's level, until the region forwards its units' plans as one filing (the program
        year's ``forward_plans``, signalled as ``plans_forwarded``), at the latest until the
        step's ``forward_by``. A region silent by then does not hold its units back: the
        province is told (an escalation) and the system forwards the plan itself, late, with a
        ``plan.step_taken_over`` event (how: ``system_forwarded``); the next step verifies it
        as any other plan."""
        assert step.forward_by is not None
        region = region_at(self._inp.base.region, step.level) or self._inp.base.region
        self._s.verification_step = step.level
        self._s.step_taken_by = None
        self._s.forwarding_region = region
        self._forwarded = None
        self._move(EventType.PLAN_VERIFIED if i else EventType.PLAN_FILED)
        launched = self._inp.launched_at
        resolved = await self._resolve_spec(step.forward_by, launched)
        self._store_deadline("forwarding", step.forward_by, resolved, launched)
        self._ack_decisions()  # the previous step's approval has now taken effect
        at_step = AtAggregation(
            base=self._s.base,
            region=region,
            level=step.level,
            due=self._s.deadlines["forwarding"],
            secret=self._inp.parent_secret,
        )
        await self._notify_parent(at_step, signal=names.AT_AGGREGATION)
        arrived: Callable[[], bool] = lambda: self._forwarded is not None  # noqa: E731
        if not await self._wait_deadline("forwarding", arrived):
            await self._escalate("forwarding", step.level)
            await self._emit(
                ev.PlanStepTakenOver(
                    step=step.level, how="system_forwarded", **self._due("forwarding")
                )
            )
            await self._notify_parent(
                at_step.model_copy(update={"waiting": False}), signal=names.AT_AGGREGATION
            )
        self._s.forwarding_region = None
        self._s.deadlines.pop("forwarding", None)
        self._s.deadline_info.pop("forwarding", None)

    async def _after_silent_step(self, step: str) -> None:
        """A verification step silent after its escalation: the rules' outcome, never a wait
        without an end in sight."""
        rule = self._rules.outcomes.plan_review_silence
        if rule == "consent":
            self._decision = ReviewPlan(
                step=step,  # type: ignore[arg-type]
                decision="approve",
                comment="逾期未核实，视为同意（备案） / not verified in time: taken as consent",
                reviewer="system",
                taken_over=True,
                reason="consent",
            )
            await self._emit(ev.PlanStepTakenOver(step=step, how="consent"))
            return
        if rule == "province" and step != "province":
            self._s.step_taken_by = "province"
            await self._set_deadline("plan_review", "plan_review_window")
            await self._emit(
                ev.PlanStepTakenOver(step=step, how="province", **self._due("plan_review"))
            )
            if await self._wait_deadline("plan_review", lambda: self._decision is not None):
                return
            await self._escalate("plan_review", "province")
        await self._daily_reminders("plan_review", lambda: self._decision is not None)

    def _ack_decisions(self) -> None:
        self._decisions_done = self._decisions_taken

    async def _enter_implementation(self) -> None:
        """The self-evaluation falls due as the rules say, but never before the plan's
        acceptance plus the rules' minimum: a base does not pay for an officer's delay."""
        self._move(EventType.PLAN_ACCEPTED)
        await self._set_deadline("self_evaluation", "self_evaluation_due", self._inp.launched_at)
        minimum = self._rules.outcomes.self_evaluation_min_after_acceptance
        if minimum is None:
            return
        accepted = workflow.now()
        floor = await self._resolve_spec(minimum, accepted)
        if floor.until > self._s.deadlines["self_evaluation"]:
            before = self._due("self_evaluation")
            self._store_deadline("self_evaluation", minimum, floor, accepted)
            await self._emit(
                ev.DeadlineMoved(
                    deadline="self_evaluation",
                    from_=before,
                    to=self._due("self_evaluation"),
                    reason="plan_accepted_late",
                    minimum=minimum,
                )
            )

    async def _implementation_and_review(self) -> Grade | None:
        # Filing early is allowed; the review still opens when the due time passes.
        await self._wait_deadline(
            "self_evaluation", lambda: False, remind=lambda: not self._selfeval_filed
        )
        await self._filing_grace("self_evaluation", lambda: self._selfeval_filed)
        if not self._selfeval_filed:
            await self._emit(ev.SelfevalOverdue(**self._due("self_evaluation")))
            return await self._overdue_outcome(
                "self_evaluation_overdue", self._rules.outcomes.self_evaluation_overdue
            )
        return await self._review(round_=0)

    async def _review(self, round_: int, objection: ReopenReview | None = None) -> Grade:
        self._s.round = round_
        self._sheets = []
        self._s.scores_received = 0
        await self._set_deadline("review", "review_window")
        needed = self._rules.rubric.experts_required
        self._s.experts = await self._assign_experts(round_, needed)
        # The stage opens with its event and no wait between: a score never precedes it.
        self._move(EventType.REVIEW_OPENED)
        opened = ev.ReviewOpened(
            round=round_, **self._due("review"), experts_required=needed, experts=self._s.experts
        )
        if objection is not None:
            opened = opened.model_copy(update={"objection_id": objection.objection_id})
        await self._emit(opened)
        # Grade once every needed sheet is recorded (its review.scored event published).
        enough: Callable[[], bool] = lambda: self._s.scores_received >= needed  # noqa: E731
        while not await self._wait_deadline("review", enough):
            await self._escalate("review", "experts")
            if self._rules.outcomes.review_silence != "reassign" or not await self._reassign():
                await self._daily_reminders("review", enough)
        completion = self._target_completion()
        averaged, total, vetoes, grade = grade_sheets(
            self._rules.rubric, self._sheets, completion=completion
        )
        return await self._record_grade(
            round_=round_,
            averaged=averaged,
            total=total,
            vetoes=vetoes,
            grade=grade,
            objection=objection,
            target_completion=completion,
        )

    def _target_completion(self) -> dict[str, float | None] | None:
        """The from_target indicators' completions (None: the rubric has none, or the cycle
        was graded before TARGET_SCORES, its experts scoring them)."""
        plan = {t.key: t.target for t in self._s.targets}
        completion = cycle_completions(self._rules, self._s.year, self._s.actuals, plan)
        return completion if completion is not None and workflow.patched(TARGET_SCORES) else None

    async def _assign_experts(self, round_: int, needed: int) -> list[str]:
        """A review never opens with fewer experts than the rubric requires: while the roster is
        short, the province is told (an escalation naming the shortfall) once a day."""
        while True:
            try:
                return await workflow.execute_activity_method(
                    CycleActivities.open_assignments,
                    self._experts_request(round_, needed),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ROSTER_RETRY,
                )
            except ActivityError as exc:
                cause = exc.cause
                if not isinstance(cause, ApplicationError) or cause.type != "roster_too_short":
                    raise
                await self._emit(
                    ev.ReminderSent(
                        deadline="review",
                        **self._due("review"),
                        escalation=True,
                        to="province",
                        reason="roster_too_short",
                        message=cause.message,
                    )
                )
                try:
                    await self._wait(lambda: False, within=DAY)
                except TimeoutError:
                    pass

    async def _reassign(self) -> bool:
        """Give the silent experts' places to the next experts on the roster, with a fresh
        window. False when the roster cannot fill them (then the cycle reminds daily)."""
        keep = [s.expert for s in self._sheets]
        try:
            experts = await workflow.execute_activity_method(
                CycleActivities.reassign_experts,
                self._experts_request(self._s.round, self._rules.rubric.experts_required, keep),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RetryPolicy(
                    maximum_attempts=5, non_retryable_error_types=["roster_too_short"]
                ),
            )
        except ActivityError:
            return False
        replaced = [e for e in self._s.experts if e not in experts]
        self._s.experts = experts
        await self._set_deadline("review", "review_window")
        await self._emit(
            ev.ExpertReassigned(
                round=self._s.round,
                replaced=replaced,
                experts=experts,
                reason="silent",
                **self._due("review"),
            )
        )
        return True

    def _experts_request(
        self, round_: int, needed: int, keep: list[str] | None = None
    ) -> ExpertsRequest:
        return ExpertsRequest(
            program=self._s.program,
            year=self._s.year,
            base=self._s.base,
            round=round_,
            needed=needed,
            due=self._s.deadlines.get("review"),
            keep=keep or [],
        )

    async def _overdue_outcome(self, reason: str, outcome: str) -> Grade | None:
        if outcome == "exclude":
            self._move(EventType.CYCLE_EXCLUDED)
            self._set_outcome("excluded", reason)
            await self._emit(ev.CycleExcluded(reason=reason))
            await self._notify_parent(self._graded(None, None, reason=reason, excluded=True))
            return None
        return await self._record_grade(
            round_=0, averaged={}, total=0.0, vetoes=[], grade=Grade.FAIL, reason=reason
        )

    async def _record_grade(
        self,
        *,
        round_: int,
        averaged: dict[str, float],
        total: float,
        vetoes: list[str],
        grade: Grade,
        reason: str = "scored",
        objection: ReopenReview | None = None,
        target_completion: dict[str, float | None] | None = None,
    ) -> Grade:
        record = DecisionRecord(
            program=self._s.program,
            year=self._s.year,
            base=self._s.base,
            round=round_,
            rubric=self._rules.rubric,
            sheets=list(self._sheets),
            vetoes=vetoes,
            evidence_sha256=[d.sha256 for d in self._s.documents],
            completion=completion_rates(
                {t.key: t.target for t in self._s.targets}, self._s.actuals
            ),
            target_completion=target_completion,
            averaged=averaged,
            total=total,
            grade=grade,
            reason=reason,
            workflow_run_id=workflow.info().run_id,
            method=GRADING_METHOD,
        )
        if round_ == 0:
            self._s.grade, self._s.total = grade, total
            self._vetoes, self._grade_reason = vetoes, reason
            self._upsert(sa.GRADE.value_set(grade.value))
        self._move(EventType.REVIEW_GRADED)
        graded = ev.ReviewGraded(**record.model_dump())
        if objection is not None:
            graded = graded.model_copy(update={"objection_id": objection.objection_id})
        await self._emit(graded)
        self._s.decisions.append(record)
        if round_ == 0:
            await self._notify_parent(
                self._graded(
                    total,
                    grade,
                    reason=reason,
                    vetoes=vetoes,
                    objection_id=objection.objection_id if objection else None,
                )
            )
        return grade

    async def _await_final(self, grade: Grade) -> Grade:
        """The grade becomes final with the program year's results: after 公示 and once every
        objection is decided. An upheld objection reopens the review meanwhile."""
        if self._inp.parent_id is None:
            return grade
        while True:
            await self._wait(lambda: self._final is not None or self._reopen is not None)
            if self._reopen is None:
                break
            reopen, self._reopen = self._reopen, None
            self._final = None
            await self._review(round_=0, objection=reopen)
        assert self._final is not None
        self._s.final_grade = self._final.grade
        self._upsert(sa.GRADE.value_set(self._final.grade.value))
        return self._final.grade

    async def _conclude(self, final: Grade) -> None:
        if final != Grade.FAIL:
            if not await self._designate(final):
                self._set_outcome("none", "")
            await self._close(ev.CycleClosed(grade=final.value))
        elif self._vetoes and self._rules.rubric.veto_outcome != "rectify":
            self._set_outcome("vetoed", "veto:" + ",".join(self._vetoes))
            if self._rules.rubric.veto_outcome == "delist":
                await self._delist("vetoed")
            else:
                await self._close(ev.CycleClosed(grade=Grade.FAIL.value, vetoes=self._vetoes))
        elif self._rules.calendar.rectification_rounds == 0:
            self._set_outcome("fail_final", self._grade_reason)
            await self._close(ev.CycleClosed(grade=Grade.FAIL.value))
        else:
            await self._rectification()
        await self._concluded()

    async def _designate(self, final: Grade) -> bool:
        """验收: a grade the rules name designates the base a provincial base, which then files
        a new plan within the rules' window from the approval."""
        designation = self._rules.designation
        if designation is None or final.value not in designation.grades:
            return False
        self._set_outcome("designated", final.value)
        approved = workflow.now()
        window = designation.plan_window
        self._s.plan_filed = self._plan_recorded = False
        self._store_deadline("plan", window, await self._resolve_spec(window, approved), approved)
        self._move(EventType.BASE_DESIGNATED)
        await self._emit(ev.BaseDesignated(grade=final.value, **self._due("plan")))
        filed: Callable[[], bool] = lambda: self._s.plan_filed  # noqa: E731
        if await self._wait_deadline("plan", filed) or await self._filing_grace("plan", filed):
            await self._wait(lambda: self._plan_recorded)
        else:
            await self._emit(ev.PlanOverdue(**self._due("plan"), designation=True))
        return True

    async def _rectification(self) -> None:
        for round_ in range(1, self._rules.calendar.rectification_rounds + 1):
            self._move(EventType.RECTIFICATION_ORDERED)
            self._s.round = round_
            await self._set_deadline("rectification", "rectification_period")
            self._set_outcome("rectification_ordered", self._grade_reason)
            await self._emit(ev.RectificationOrdered(round=round_, **self._due("rectification")))
            await self._set_base_status("rectifying", f"rectification round {round_}")
            filed = await self._wait_deadline(
                "rectification", self._rectification_filed
            ) or await self._filing_grace("rectification", self._rectification_filed)
            if filed:
                await self._wait(lambda: self._rectification_recorded_round >= self._s.round)
                if await self._review(round_=round_) != Grade.FAIL:
                    await self._emit(ev.RectificationPassed(round=round_))
                    await self._set_base_status("active", "rectified")
                    self._set_outcome("rectified", "")
                    await self._close(ev.CycleClosed(grade=Grade.FAIL.value, rectified=True))
                    return
            reason = "failed" if filed else "lapsed"
            await self._emit(ev.RectificationFailed(round=round_, reason=reason))
        await self._delist("not rectified")

    async def _delist(self, reason: str) -> None:
        await self._set_base_status("delisted", reason)
        self._move(EventType.BASE_DELISTED)
        self._set_outcome("delisted", reason)
        await self._emit(ev.BaseDelisted(reason=reason))
        await workflow.execute_activity_method(
            CycleActivities.end_later_cycles,
            EndLaterCyclesRequest(
                program=self._s.program, base=self._s.base, year=self._s.year, reason=reason
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _close(self, closed: ev.CycleClosed) -> None:
        self._move(EventType.CYCLE_CLOSED)
        await self._emit(closed.model_copy(update={"outcome": self._s.outcome}))

    async def _concluded(self) -> None:
        """Tell the program year how the cycle ended, and release a next-year cycle held for it."""
        await self._notify_parent(
            CycleConcluded(
                secret=self._inp.parent_secret,
                base=self._s.base,
                stage=self._s.stage,
                outcome=self._s.outcome or "none",
                reason_zh=self._s.outcome_reason_zh,
                reason_en=self._s.outcome_reason_en,
            ),
            signal="cycle_concluded",
        )
        if self._s.stage == Stage.DELISTED:
            return  # end_later_cycles has ended them
        outcome = "rectified" if self._s.outcome == "rectified" else "closed"
        await workflow.execute_activity_method(
            CycleActivities.signal_cycles,
            SignalCyclesRequest(
                program=self._s.program,
                year=self._s.year + 1,
                bases=[self._s.base],
                signal="prior_cycle_ended",
                payload=PriorCycleEnded(year=self._s.year, outcome=outcome).model_dump(),
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _end(self) -> None:
        """The base was de-listed: end here, in a stage of its own, with the reason."""
        assert self._ended is not None
        self._move(EventType.CYCLE_ENDED)
        self._set_outcome("ended", f"delisted in {self._ended.year}: {self._ended.reason}")
        await self._emit(
            ev.CycleEnded(reason=self._ended.reason, delisted_in_year=self._ended.year)
        )
        if self._s.grade is None:
            await self._notify_parent(self._graded(None, None, reason="ended", excluded=True))
        await self._notify_parent(
            CycleConcluded(
                secret=self._inp.parent_secret,
                base=self._s.base,
                stage=Stage.ENDED,
                outcome="ended",
                reason_zh=self._s.outcome_reason_zh,
                reason_en=self._s.outcome_reason_en,
            ),
            signal="cycle_concluded",
        )

    # ---------------------------------------------------------------- human input (updates)

    @workflow.update(name=names.FILE_PLAN)
    async def file_plan(self, req: FilePlan) -> Receipt:
        self._s.plan_filed = True
        self._s.targets = list(req.targets)
        doc = await self._record_filing(
            "plan",
            req,
            lambda doc: ev.PlanFiled(
                document=doc.model_dump(mode="json"),
                targets=[t.model_dump() for t in req.targets],
            ),
        )
        self._plan_recorded = True
        # Answer once the plan has moved on to verification, so the next step can act at once.
        await workflow.wait_condition(lambda: self._s.stage != Stage.PLAN_FILING)
        return _receipt(doc)

    @file_plan.validator
    def _validate_file_plan(self, req: FilePlan) -> None:
        self._authorize(req.actor, "file")
        self._admit("plan", req.upload.sha256, req.received_at)

    @workflow.update(name=names.REVIEW_PLAN)
    async def review_plan(self, req: ReviewPlan) -> Stage:
        # Answer only once the cycle has acted on the decision, so the caller sees the new stage.
        done = self._decisions_done
        self._decision = req
        await workflow.wait_condition(lambda: self._decisions_done > done)
        return self._s.stage

    @review_plan.validator
    def _validate_review_plan(self, req: ReviewPlan) -> None:
        self._require_stage(Stage.PLAN_REVIEW, "a plan review")
        if self._s.forwarding_region is not None:
            raise rejected(
                errors.WRONG_STAGE,
                f"the plan waits for {self._s.forwarding_region} to forward it; it is not reviewed"
                f" at this step / 该计划待{self._s.forwarding_region}汇总报送，本环节不逐一核实",
                stage=self._s.stage.value,
            )
        if req.step != self._s.verification_step:
            raise rejected(
                errors.WRONG_STAGE,
                f"the plan awaits the {self._s.verification_step} step, not {req.step}",
            )
        if self._decision is not None:
            raise rejected(errors.DUPLICATE_FILING, "this step has already decided")
        act: Act = "take_over" if req.taken_over else ("verify_" + req.step)  # type: ignore[assignment]
        self._authorize(req.actor, act)
        if self._s.step_taken_by is not None and not req.taken_over:
            raise rejected(
                errors.STEP_TAKEN_OVER,
                f"the {req.step} step has passed to the {self._s.step_taken_by} after its"
                f" window / 该环节逾期未核实，已由上级代为核实",
            )
        if req.taken_over:
            if not req.reason.strip():
                raise rejected(
                    errors.INVALID_INPUT, "taking over a step needs a reason / 代为核实须说明理由"
                )
            silent = self._s.step_taken_by is not None or workflow.now() >= self._s.deadlines.get(
                "plan_review", workflow.now()
            )
            if not silent:
                raise rejected(
                    errors.STEP_NOT_SILENT,
                    f"the {req.step} step is still within its window / 该环节尚在核实期限内",
                )

    @workflow.update(name=names.FILE_SELF_EVALUATION)
    async def file_self_evaluation(self, req: FileSelfEvaluation) -> Receipt:
        self._s.actuals = dict(req.actuals)
        doc = await self._record_filing(
            "self_evaluation",
            req,
            lambda doc: ev.SelfevalFiled(document=doc.model_dump(mode="json"), actuals=req.actuals),
        )
        self._selfeval_filed = True
        return _receipt(doc)

    @file_self_evaluation.validator
    def _validate_self_evaluation(self, req: FileSelfEvaluation) -> None:
        self._authorize(req.actor, "file")
        self._admit("self_evaluation", req.upload.sha256, req.received_at)

    @workflow.update(name=names.SUBMIT_SCORE)
    async def submit_score(self, req: SubmitScore) -> ScoreReceipt:
        if req.expert not in self._s.experts:
            # Reassigned since the review opened (by the province, or a revocation): ask the
            # assessment service, which keeps the assignments, before anything is recorded.
            self._s.experts = await workflow.execute_activity_method(
                CycleActivities.current_experts,
                self._experts_request(self._s.round, self._rules.rubric.experts_required),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            if req.expert not in self._s.experts:
                raise rejected(
                    errors.NOT_ASSIGNED,
                    f"{req.expert} is not assigned to this review / 非本轮评审专家",
                )
        self._sheets.append(
            ScoreSheet(expert=req.expert, scores=req.scores, vetoes=req.vetoes, comment=req.comment)
        )
        decided = len(self._s.decisions)
        await self._emit(
            ev.ReviewScored(
                round=self._s.round, expert=req.expert, scores=req.scores, vetoes=req.vetoes
            )
        )
        self._s.scores_received += 1
        if len(self._sheets) < self._rules.rubric.experts_required:
            return ScoreReceipt(graded=False)
        # Answer with the grade once the cycle has recorded it.
        await workflow.wait_condition(lambda: len(self._s.decisions) > decided)
        return ScoreReceipt(graded=True, decision=self._s.decisions[-1])

    @submit_score.validator
    def _validate_score(self, req: SubmitScore) -> None:
        self._require_stage(Stage.UNDER_REVIEW, "a score")
        self._authorize(req.actor, "score")
        assert req.actor is not None
        if req.actor.name != req.expert:
            raise rejected(errors.NOT_YOUR_ROLE, f"{req.actor.name} may not score as {req.expert}")
        if len(self._sheets) >= self._rules.rubric.experts_required:
            raise rejected(errors.ALREADY_SCORED, "every required expert has scored")
        if any(s.expert == req.expert for s in self._sheets):
            raise rejected(errors.ALREADY_SCORED, f"{req.expert} has already scored")
        problems = score_errors(self._rules.rubric, req.scores, req.vetoes)
        if problems and computed_sent(self._rules.rubric, req.scores):
            raise rejected(errors.COMPUTED_INDICATOR, "; ".join(problems), problems=problems)
        if problems:
            raise rejected(errors.INVALID_SCORES, "; ".join(problems), problems=problems)

    @workflow.update(name=names.FILE_RECTIFICATION)
    async def file_rectification(self, req: FileRectification) -> Receipt:
        round_ = self._s.round
        self._s.rectification_filed_round = round_
        doc = await self._record_filing(
            "rectification",
            req,
            lambda doc: ev.RectificationFiled(round=round_, document=doc.model_dump(mode="json")),
        )
        self._rectification_recorded_round = round_
        # Answer once the re-review is open, so experts can score at once.
        await workflow.wait_condition(
            lambda: self._s.stage != Stage.RECTIFYING or self._s.round != round_
        )
        return _receipt(doc)

    @file_rectification.validator
    def _validate_rectification(self, req: FileRectification) -> None:
        self._authorize(req.actor, "file")
        self._admit("rectification", req.upload.sha256, req.received_at)

    @workflow.update(name=names.EXTEND_DEADLINE)
    async def extend_deadline(self, req: ExtendDeadline) -> datetime:
        previous = self._s.deadlines[req.deadline]
        self._s.deadlines[req.deadline] = req.until
        info = self._s.deadline_info.get(req.deadline)
        if info is not None:
            # An extension names an instant: its last day is the day before it ends.
            self._s.deadline_info[req.deadline] = DeadlineInfo(spec=f"extended:{info.spec}")
        await self._emit(
            ev.DeadlineExtended(
                deadline=req.deadline,
                from_=previous.isoformat(),
                until=req.until.isoformat(),
                reason=req.reason,
                by=req.by,
            )
        )
        return req.until

    @extend_deadline.validator
    def _validate_extension(self, req: ExtendDeadline) -> None:
        self._authorize(req.actor, "extend")
        current = self._s.deadlines.get(req.deadline)
        if current is None or self._s.stage.is_final:
            raise rejected(errors.INVALID_EXTENSION, f"no open deadline {req.deadline!r}")
        if req.until.tzinfo is None:
            raise rejected(errors.INVALID_EXTENSION, "the new deadline needs a time zone")
        if req.until <= current or req.until <= workflow.now():
            raise rejected(
                errors.INVALID_EXTENSION,
                f"the new deadline must be later than {current.isoformat()} and in the future",
            )

    @workflow.signal(name=names.FINALIZE)
    def finalize(self, result: FinalGrade) -> None:
        """The program year's final grade; one from anywhere else is ignored."""
        if self._from_parent(result.secret, "finalize"):
            self._final = result

    @workflow.signal(name=names.REOPEN_REVIEW)
    def reopen_review(self, req: ReopenReview) -> None:
        """An objection upheld during 公示: the yearly review is held again."""
        if self._from_parent(req.secret, "reopen_review"):
            self._reopen = req

    @workflow.signal(name=names.BASE_DELISTED)
    def base_delisted(self, req: BaseDelisted) -> None:
        """Another year's cycle de-listed the base: checked with the registry before it ends
        this cycle (a signal proves nothing of who sent it)."""
        if req.year != self._s.year and not self._s.stage.is_final:
            self._claims.append(req)

    @workflow.signal(name=names.PRIOR_CYCLE_ENDED)
    def prior_cycle_ended(self, req: PriorCycleEnded) -> None:
        self._prior = req

    @workflow.signal(name=names.PLANS_FORWARDED)
    def plans_forwarded(self, req: PlansForwarded) -> None:
        """The region's forwarding, from this cycle's program year; ignored unless the plan
        waits at that region's aggregation step (it may have moved on by the silence rule)."""
        if not self._from_parent(req.secret, "plans_forwarded"):
            return
        if self._s.forwarding_region is not None and req.region == self._s.forwarding_region:
            self._forwarded = req

    @workflow.signal(name=names.CALENDAR_APPLIED)
    def calendar_applied(self, req: CalendarApplied) -> None:
        """New holiday data: provisional deadlines are counted again (see _recompute)."""
        self._calendar = req

    @workflow.query(name=names.STATE)
    def state(self) -> CycleState:
        return self._s

    def _rectification_filed(self) -> bool:
        return self._s.rectification_filed_round >= self._s.round

    # ---------------------------------------------------------------- helpers

    def _authorize(self, actor: Actor | None, act: Act) -> None:
        refusal = actor_refusal(
            actor, act, self._s, self._inp.base.region, program_region=self._rules.region
        )
        if refusal is not None:
            raise rejected(*refusal)

    def _from_parent(self, secret: str, what: str) -> bool:
        if secret == self._inp.parent_secret:
            return True
        workflow.logger.warning("%s ignored: not from this cycle's program year", what)
        return False

    async def _base_status(self) -> BaseStatusResult:
        """The base's status as the registry keeps it (asking to stay where it is changes
        nothing)."""
        return await workflow.execute_activity_method(
            CycleActivities.base_status,
            BaseStatusRequest(program=self._s.program, base=self._s.base, status="active"),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _verify_claims(self) -> None:
        """A claimed de-listing ends the cycle only if the registry has the base de-listed."""
        while self._claims:
            claim = self._claims.pop(0)
            if (await self._base_status()).status == "delisted":
                self._ended = claim
                return
            workflow.logger.warning("a de-listing claim the registry does not confirm: ignored")

    def _require_stage(self, stage: Stage, what: str) -> None:
        if self._s.stage != stage:
            raise rejected(
                errors.WRONG_STAGE,
                f"{what} is not accepted now: the cycle is in stage {self._s.stage.value}",
                stage=self._s.stage.value,
            )

    def _admit(self, kind: FilingKind, sha256: str, received_at: datetime | None) -> None:
        """Judge a filing by when it arrived at the gateway, not when the worker got to it."""
        at = self._admission(received_at)
        if at.refusal is not None:
            raise rejected(*at.refusal, stage=self._s.stage.value)
        refusal = filing_refusal(self._s, kind, at.at, sha256)
        if refusal is not None:
            raise rejected(*refusal, stage=self._s.stage.value)

    def _admission(self, received_at: datetime | None) -> Admission:
        skew = self._inp.arrival_max_skew_s
        if skew <= 0:
            return Admission(at=workflow.now(), basis="now")
        return admission_time(received_at, workflow.now(), timedelta(seconds=skew))

    def _document(
        self, kind: Any, upload: Upload, received_at: datetime | None = None
    ) -> DocumentRef:
        """The filed document, in the cycle's state (before any await)."""
        version = 1 + sum(1 for d in self._s.documents if d.kind == kind)
        wf_id = workflow.info().workflow_id
        doc = DocumentRef(
            document_id=str(uuid.uuid5(_DOC_NS, f"{wf_id}/{kind}/{version}")),
            kind=kind,
            version=version,
            key=upload.key,
            sha256=upload.sha256,
            size=upload.size,
            content_type=upload.content_type,
            filename=upload.filename,
            filed_by=upload.filed_by,
            filed_at=self._admission(received_at).at,
        )
        self._s.documents.append(doc)
        return doc

    def _document_record(self, doc: DocumentRef) -> DocumentRecord:
        return DocumentRecord(
            program=self._s.program, year=self._s.year, base=self._s.base, document=doc
        )

    async def _record_filing(
        self,
        kind: Any,
        req: FilePlan | FileSelfEvaluation | FileRectification,
        payload: Callable[[DocumentRef], ev.EventPayload],
    ) -> DocumentRef:
        """A filing recorded: its document registered with the filings service and its event
        published. Since FILING_IN_ONE_CALL, in one local activity inside the update's first
        workflow task; before it (histories recorded earlier), two activities."""
        doc = self._document(kind, req.upload, req.received_at)
        if workflow.patched(FILING_IN_ONE_CALL):
            event = self._event(payload(doc))
            await workflow.execute_local_activity_method(
                CycleActivities.record_filing,
                RecordFiling(document=self._document_record(doc), event=event),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            return doc
        await workflow.execute_activity_method(
            CycleActivities.register_document,
            self._document_record(doc),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        await self._emit(payload(doc))
        return doc

    async def _emit(self, payload: ev.EventPayload) -> None:
        event = self._event(payload)
        await workflow.execute_activity_method(
            CycleActivities.publish_event,
            PublishRequest(event=event),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    def _event(self, payload: ev.EventPayload) -> CloudEvent:
        """The step's event, numbered and in the cycle's timeline (before any await)."""
        # The sequence is taken before any await, so concurrent handlers never share a number.
        self._seq += 1
        seq, now = self._seq, workflow.now()
        # The timeline keeps what the step itself said; the event adds the names beside the ids.
        detail = payload.model_dump(mode="json", by_alias=True, exclude_unset=True)
        event = new_event(
            program=self._s.program,
            year=self._s.year,
            base=self._s.base,
            time=now,
            # The run id keeps ids unique after an operator's reset re-runs a step; a retried
            # activity within one run still repeats its id and is dropped as a duplicate.
            stream_key=f"{workflow.info().workflow_id}@{workflow.info().run_id}",
            sequence=seq,
            # Names beside the ids, so every reader (notices, dashboards) can say who.
            payload=payload.model_copy(
                update={
                    "stage": self._s.stage.value,
                    "region": self._inp.base.region,
                    "base_name": self._inp.base.name,
                    "program_name": self._rules.name,
                }
            ),
        )
        self._s.history.append(
            HistoryStep(at=now, event=payload.event_type.value, sequence=seq, detail=detail)
        )
        return event

    async def _set_base_status(self, status: Any, reason: str) -> None:
        """The registry guards the base's status: a later cycle can never bring a de-listed base
        back. When it refuses because the base is de-listed, this cycle ends."""
        result = await workflow.execute_activity_method(
            CycleActivities.set_base_status,
            BaseStatusRequest(
                program=self._s.program,
                base=self._s.base,
                status=status,
                reason=reason,
                year=self._s.year,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        if not result.changed and result.status == "delisted" and status != "delisted":
            self._ended = BaseDelisted(
                year=result.delisted_in_year or self._s.year, reason=result.refused or "delisted"
            )
            raise CycleEnded()

    def _graded(self, total: float | None, grade: Grade | None, **report: Any) -> CycleGraded:
        """The cycle's grade as the program year's 公示 needs it."""
        return CycleGraded(
            base=self._s.base,
            total=total,
            grade=grade,
            name=self._inp.base.name,
            region=self._inp.base.region,
            secret=self._inp.parent_secret,
            **report,
        )

    async def _notify_parent(self, message: Any, signal: str = "cycle_graded") -> None:
        if self._inp.parent_id:
            parent = workflow.get_external_workflow_handle(self._inp.parent_id)
            try:
                await parent.signal(signal, message)
            except ApplicationError:
                # A program year that has already ended (finished, or reset) needs no word.
                workflow.logger.info("parent gone: %s", self._inp.parent_id)

    def _move(self, by: EventType, **flags: Any) -> None:
        """Into the stage the stage machine names for ``by`` (the event that moves the cycle, with
        the flags its data carries); a move the table does not have is a bug here, not input."""
        stage = next_stage(self._s.stage, by, flags)
        if stage is None:
            raise ApplicationError(
                f"the stage machine has no move from {self._s.stage.value} on {by.value}"
                " / 阶段表中没有这一转换",
                type="stage_move_refused",
                non_retryable=True,
            )
        self._s.stage = stage
        self._upsert_stage()

    def _upsert_stage(self) -> None:
        self._upsert(sa.STAGE.value_set(self._s.stage.value))

    def _set_outcome(self, outcome: str, reason: str) -> None:
        self._s.outcome = outcome
        self._s.outcome_reason_en = reason
        self._s.outcome_reason_zh = reason

    def _upsert(self, update: SearchAttributeUpdate[Any]) -> None:
        # Only cycles started with search attributes keep them current (the time-skipping
        # test server has none).
        if workflow.info().typed_search_attributes.get(sa.PROGRAM) is not None:
            workflow.upsert_search_attributes([update])

    def _outcome(self) -> CycleOutcome:
        return CycleOutcome(
            stage=self._s.stage,
            grade=self._s.grade,
            total=self._s.total,
            final_grade=self._s.final_grade,
        )


def _receipt(doc: DocumentRef) -> Receipt:
    return Receipt(
        document_id=doc.document_id,
        sha256=doc.sha256,
        version=doc.version,
        size=doc.size,
        received_at=doc.filed_at,
    )
