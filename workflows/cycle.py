"""AnnualCycleWorkflow: one base through one program year.

plan filing ▶ verification chain ▶ implementation ▶ self-evaluation ▶ review ▶ grade
▶ closed after 公示, or rectification rounds ▶ re-review ▶ closed or de-listed.

Every deadline is computed once from the pinned rules and kept in state, so a reset or a replay
never moves it; waits use ``wait_condition(..., timeout=due - now)``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from shared.domain.grading import (
        DecisionRecord,
        Grade,
        ScoreSheet,
        completion_rates,
        grade_sheets,
        score_errors,
    )
    from shared.domain.stages import Stage
    from shared.domain.timespec import (
        parse_utc_offset,
        reminder_times,
    )
    from shared.events.envelope import new_event
    from shared.events.types import EventType
    from workflows import errors
    from workflows import search_attributes as sa
    from workflows.activities import CycleActivities
    from workflows.admission import FilingKind, filing_refusal
    from workflows.models import (
        BaseStatusRequest,
        CycleGraded,
        CycleInput,
        CycleOutcome,
        CycleState,
        DocumentRecord,
        DocumentRef,
        ExtendDeadline,
        FilePlan,
        FileRectification,
        FileSelfEvaluation,
        FinalGrade,
        HistoryStep,
        PublishRequest,
        Receipt,
        ReviewPlan,
        ScoreReceipt,
        SubmitScore,
        Upload,
    )
    from workflows.timing import resolve_spec

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# The shortest timer armed: a wake-up already due (by the workflow clock) still waits a tick.
MIN_TIMER = timedelta(milliseconds=1)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
_DOC_NS = uuid.UUID("1b7e0c52-3f4d-4a8e-9c61-8d2f5e7a9b10")


@workflow.defn(name="AnnualCycleWorkflow")
class AnnualCycleWorkflow:
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
        self._final: FinalGrade | None = None

    # ---------------------------------------------------------------- the cycle

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleOutcome:
        self._set_stage(Stage.PLAN_FILING)
        self._s.deadlines["plan"] = await self._resolve("plan_window", inp.launched_at)
        await self._emit(EventType.CYCLE_OPENED, {"deadlines": self._deadlines_json()})

        if await self._plan_phase():
            grade = await self._implementation_and_review()
        else:
            await self._emit(EventType.PLAN_OVERDUE, {"due": self._iso("plan")})
            grade = await self._overdue_outcome("plan_overdue", self._rules.outcomes.plan_overdue)

        if grade is None:
            return self._outcome()
        if grade == Grade.FAIL:
            await self._rectification()
        else:
            await self._await_publication()
            await self._close({"grade": (self._s.final_grade or grade).value})
        return self._outcome()

    async def _plan_phase(self) -> bool:
        """File, then pass each verification step; a return sends the base back to refile."""
        while True:
            self._set_stage(Stage.PLAN_FILING)
            if not await self._wait_deadline("plan", lambda: self._s.plan_filed):
                return False
            await workflow.wait_condition(lambda: self._plan_recorded)
            if await self._verification_chain():
                return True

    async def _verification_chain(self) -> bool:
        for step in self._rules.verification:
            self._s.verification_step = step
            self._set_stage(Stage.PLAN_REVIEW)
            self._s.deadlines["plan_review"] = await self._resolve("plan_review_window")
            self._ack_decisions()  # the previous step's approval has now taken effect
            decided = await self._wait_deadline("plan_review", lambda: self._decision is not None)
            if not decided:
                await self._escalate("plan_review", step)
                await workflow.wait_condition(lambda: self._decision is not None)
            decision, self._decision = self._decision, None
            self._decisions_taken += 1
            assert decision is not None
            detail = {"step": step, "comment": decision.comment, "reviewer": decision.reviewer}
            if decision.decision == "approve":
                await self._emit(EventType.PLAN_VERIFIED, detail)
                continue
            refile_by = max(self._s.deadlines["plan"], await self._resolve("plan_review_window"))
            self._s.deadlines["plan"] = refile_by
            self._s.verification_step = None
            self._s.deadlines.pop("plan_review", None)
            await self._emit(
                EventType.PLAN_RETURNED, {**detail, "refile_by": refile_by.isoformat()}
            )
            self._s.plan_filed = self._plan_recorded = False
            self._set_stage(Stage.PLAN_FILING)
            self._ack_decisions()
            return False
        self._s.verification_step = None
        self._s.deadlines.pop("plan_review", None)
        await self._emit(EventType.PLAN_ACCEPTED, {})
        await self._enter_implementation()
        self._ack_decisions()
        return True

    def _ack_decisions(self) -> None:
        self._decisions_done = self._decisions_taken

    async def _enter_implementation(self) -> None:
        self._set_stage(Stage.IMPLEMENTING)
        self._s.deadlines["self_evaluation"] = await self._resolve(
            "self_evaluation_due", self._inp.launched_at
        )

    async def _implementation_and_review(self) -> Grade | None:
        # Filing early is allowed; the review still opens when the due time passes.
        await self._wait_deadline(
            "self_evaluation", lambda: False, remind=lambda: not self._selfeval_filed
        )
        if not self._selfeval_filed:
            await self._emit(EventType.SELFEVAL_OVERDUE, {"due": self._iso("self_evaluation")})
            return await self._overdue_outcome(
                "self_evaluation_overdue", self._rules.outcomes.self_evaluation_overdue
            )
        return await self._review(round_=0)

    async def _review(self, round_: int) -> Grade:
        self._s.round = round_
        self._sheets = []
        self._s.scores_received = 0
        self._set_stage(Stage.UNDER_REVIEW)
        self._s.deadlines["review"] = await self._resolve("review_window")
        await self._emit(
            EventType.REVIEW_OPENED,
            {
                "round": round_,
                "due": self._iso("review"),
                "experts_required": self._rules.rubric.experts_required,
            },
        )
        needed = self._rules.rubric.experts_required
        # Grade once every needed sheet is recorded (its review.scored event published).
        if not await self._wait_deadline("review", lambda: self._s.scores_received >= needed):
            await self._escalate("review", "experts")
            await workflow.wait_condition(lambda: self._s.scores_received >= needed)
        averaged, total, vetoes, grade = grade_sheets(self._rules.rubric, self._sheets)
        return await self._record_grade(
            round_=round_, averaged=averaged, total=total, vetoes=vetoes, grade=grade
        )

    async def _overdue_outcome(self, reason: str, outcome: str) -> Grade | None:
        if outcome == "exclude":
            self._set_stage(Stage.EXCLUDED)
            await self._emit(EventType.CYCLE_EXCLUDED, {"reason": reason})
            await self._notify_parent(
                CycleGraded(base=self._s.base, total=None, grade=None, excluded=True)
            )
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
            averaged=averaged,
            total=total,
            grade=grade,
            reason=reason,
            workflow_run_id=workflow.info().run_id,
        )
        if round_ == 0:
            self._s.grade, self._s.total = grade, total
            self._upsert(sa.GRADE.value_set(grade.value))
        self._set_stage(Stage.GRADED)
        await self._emit(EventType.REVIEW_GRADED, record.model_dump(mode="json"))
        self._s.decisions.append(record)
        if round_ == 0:
            await self._notify_parent(CycleGraded(base=self._s.base, total=total, grade=grade))
        return grade

    async def _rectification(self) -> None:
        for round_ in range(1, self._rules.calendar.rectification_rounds + 1):
            self._set_stage(Stage.RECTIFYING)
            self._s.round = round_
            self._s.deadlines["rectification"] = await self._resolve("rectification_period")
            await self._emit(
                EventType.RECTIFICATION_ORDERED,
                {"round": round_, "due": self._iso("rectification")},
            )
            await self._set_base_status("rectifying", f"rectification round {round_}")
            filed = await self._wait_deadline("rectification", self._rectification_filed)
            if filed:
                await workflow.wait_condition(
                    lambda: self._rectification_recorded_round >= self._s.round
                )
                if await self._review(round_=round_) != Grade.FAIL:
                    await self._emit(EventType.RECTIFICATION_PASSED, {"round": round_})
                    await self._set_base_status("active", "rectified")
                    await self._close({"grade": Grade.FAIL.value, "rectified": True})
                    return
            reason = "failed" if filed else "lapsed"
            await self._emit(EventType.RECTIFICATION_FAILED, {"round": round_, "reason": reason})
        await self._set_base_status("delisted", "not rectified")
        self._set_stage(Stage.DELISTED)
        await self._emit(EventType.BASE_DELISTED, {"reason": "not rectified"})

    async def _await_publication(self) -> None:
        """A passing cycle closes when the program year finalises its results after 公示."""
        if self._inp.parent_id is None:
            return
        await workflow.wait_condition(lambda: self._final is not None)
        assert self._final is not None
        self._s.final_grade = self._final.grade
        self._upsert(sa.GRADE.value_set(self._final.grade.value))

    async def _close(self, detail: dict[str, Any]) -> None:
        self._set_stage(Stage.CLOSED)
        await self._emit(EventType.CYCLE_CLOSED, detail)

    # ---------------------------------------------------------------- human input (updates)

    @workflow.update
    async def file_plan(self, req: FilePlan) -> Receipt:
        self._s.plan_filed = True
        self._s.targets = list(req.targets)
        doc = await self._store_document("plan", req.upload)
        await self._emit(
            EventType.PLAN_FILED,
            {
                "document": doc.model_dump(mode="json"),
                "targets": [t.model_dump() for t in req.targets],
            },
        )
        self._plan_recorded = True
        # Answer once the plan has moved on to verification, so the next step can act at once.
        await workflow.wait_condition(lambda: self._s.stage != Stage.PLAN_FILING)
        return _receipt(doc)

    @file_plan.validator
    def _validate_file_plan(self, req: FilePlan) -> None:
        self._admit("plan", req.upload.sha256)

    @workflow.update
    async def review_plan(self, req: ReviewPlan) -> Stage:
        # Answer only once the cycle has acted on the decision, so the caller sees the new stage.
        done = self._decisions_done
        self._decision = req
        await workflow.wait_condition(lambda: self._decisions_done > done)
        return self._s.stage

    @review_plan.validator
    def _validate_review_plan(self, req: ReviewPlan) -> None:
        self._require_stage(Stage.PLAN_REVIEW, "a plan review")
        if req.step != self._s.verification_step:
            raise errors.rejected(
                errors.WRONG_STAGE,
                f"the plan awaits the {self._s.verification_step} step, not {req.step}",
            )
        if self._decision is not None:
            raise errors.rejected(errors.DUPLICATE_FILING, "this step has already decided")

    @workflow.update
    async def file_self_evaluation(self, req: FileSelfEvaluation) -> Receipt:
        self._s.actuals = dict(req.actuals)
        doc = await self._store_document("self_evaluation", req.upload)
        await self._emit(
            EventType.SELFEVAL_FILED,
            {"document": doc.model_dump(mode="json"), "actuals": req.actuals},
        )
        self._selfeval_filed = True
        return _receipt(doc)

    @file_self_evaluation.validator
    def _validate_self_evaluation(self, req: FileSelfEvaluation) -> None:
        self._admit("self_evaluation", req.upload.sha256)

    @workflow.update
    async def submit_score(self, req: SubmitScore) -> ScoreReceipt:
        self._sheets.append(
            ScoreSheet(expert=req.expert, scores=req.scores, vetoes=req.vetoes, comment=req.comment)
        )
        decided = len(self._s.decisions)
        await self._emit(
            EventType.REVIEW_SCORED,
            {
                "round": self._s.round,
                "expert": req.expert,
                "scores": req.scores,
                "vetoes": req.vetoes,
            },
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
        if len(self._sheets) >= self._rules.rubric.experts_required:
            raise errors.rejected(errors.ALREADY_SCORED, "every required expert has scored")
        if any(s.expert == req.expert for s in self._sheets):
            raise errors.rejected(errors.ALREADY_SCORED, f"{req.expert} has already scored")
        problems = score_errors(self._rules.rubric, req.scores, req.vetoes)
        if problems:
            raise errors.rejected(errors.INVALID_SCORES, "; ".join(problems), problems=problems)

    @workflow.update
    async def file_rectification(self, req: FileRectification) -> Receipt:
        round_ = self._s.round
        self._s.rectification_filed_round = round_
        doc = await self._store_document("rectification", req.upload)
        await self._emit(
            EventType.RECTIFICATION_FILED,
            {"round": round_, "document": doc.model_dump(mode="json")},
        )
        self._rectification_recorded_round = round_
        # Answer once the re-review is open, so experts can score at once.
        await workflow.wait_condition(
            lambda: self._s.stage != Stage.RECTIFYING or self._s.round != round_
        )
        return _receipt(doc)

    @file_rectification.validator
    def _validate_rectification(self, req: FileRectification) -> None:
        self._admit("rectification", req.upload.sha256)

    @workflow.update
    async def extend_deadline(self, req: ExtendDeadline) -> datetime:
        previous = self._s.deadlines[req.deadline]
        self._s.deadlines[req.deadline] = req.until
        await self._emit(
            EventType.DEADLINE_EXTENDED,
            {
                "deadline": req.deadline,
                "from": previous.isoformat(),
                "until": req.until.isoformat(),
                "reason": req.reason,
                "by": req.by,
            },
        )
        return req.until

    @extend_deadline.validator
    def _validate_extension(self, req: ExtendDeadline) -> None:
        current = self._s.deadlines.get(req.deadline)
        if current is None or self._s.stage.is_final:
            raise errors.rejected(errors.INVALID_EXTENSION, f"no open deadline {req.deadline!r}")
        if req.until.tzinfo is None:
            raise errors.rejected(errors.INVALID_EXTENSION, "the new deadline needs a time zone")
        if req.until <= current or req.until <= workflow.now():
            raise errors.rejected(
                errors.INVALID_EXTENSION,
                f"the new deadline must be later than {current.isoformat()} and in the future",
            )

    @workflow.signal
    def finalize(self, result: FinalGrade) -> None:
        self._final = result

    @workflow.query
    def state(self) -> CycleState:
        return self._s

    # ---------------------------------------------------------------- helpers

    async def _wait_deadline(
        self, name: str, done: Callable[[], bool], remind: Callable[[], bool] | None = None
    ) -> bool:
        """Wait until ``done`` or the named deadline passes, sending reminders before it.

        Re-reads the deadline on each wake-up, so an extension takes effect at once. A timer that
        fired for ``wake`` means the cycle has reached ``wake``, whatever ``workflow.now()`` says:
        a worker once handled a task with the time of the task before (see
        tests/faults/test_recorded_histories.py), and re-armed the reminder it had just sent.
        """
        remind = remind or (lambda: not done())
        reached = workflow.now()
        while not done():
            due = self._s.deadlines[name]
            now = max(workflow.now(), reached)
            if now >= due:
                return done()
            upcoming = [
                t
                for t in reminder_times(due, self._rules.calendar.reminder_offsets, self._tz)
                if t > now
            ]
            wake = min([*upcoming, due])
            try:
                await workflow.wait_condition(
                    functools.partial(self._done_or_moved, done, name, due),
                    timeout=max(wake - workflow.now(), MIN_TIMER),
                )
            except TimeoutError:
                reached = max(reached, wake)
                if wake < due and remind():
                    await self._emit(
                        EventType.REMINDER_SENT,
                        {"deadline": name, "due": due.isoformat(), "stage": self._s.stage.value},
                    )
        return True

    def _done_or_moved(self, done: Callable[[], bool], name: str, due: datetime) -> bool:
        return done() or self._s.deadlines[name] != due

    def _rectification_filed(self) -> bool:
        return self._s.rectification_filed_round >= self._s.round

    async def _escalate(self, deadline: str, to: str) -> None:
        await self._emit(
            EventType.REMINDER_SENT,
            {"deadline": deadline, "due": self._iso(deadline), "escalation": True, "to": to},
        )

    async def _resolve(self, spec_name: str, anchor: datetime | None = None) -> datetime:
        calendar = self._rules.calendar
        resolved = await resolve_spec(
            calendar,
            getattr(calendar, spec_name),
            anchor=anchor or workflow.now(),
            year=self._s.year,
        )
        return resolved.until

    def _require_stage(self, stage: Stage, what: str) -> None:
        if self._s.stage != stage:
            raise errors.rejected(
                errors.WRONG_STAGE,
                f"{what} is not accepted now: the cycle is in stage {self._s.stage.value}",
                stage=self._s.stage.value,
            )

    def _admit(self, kind: FilingKind, sha256: str) -> None:
        refusal = filing_refusal(self._s, kind, workflow.now(), sha256)
        if refusal is not None:
            raise errors.rejected(*refusal, stage=self._s.stage.value)

    async def _store_document(self, kind: Any, upload: Upload) -> DocumentRef:
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
            filed_at=workflow.now(),
        )
        self._s.documents.append(doc)
        await workflow.execute_activity_method(
            CycleActivities.register_document,
            DocumentRecord(
                program=self._s.program, year=self._s.year, base=self._s.base, document=doc
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        return doc

    async def _emit(self, event_type: EventType, data: dict[str, Any]) -> None:
        # The sequence is taken before any await, so concurrent handlers never share a number.
        self._seq += 1
        seq, now = self._seq, workflow.now()
        event = new_event(
            event_type=event_type,
            program=self._s.program,
            year=self._s.year,
            base=self._s.base,
            time=now,
            # The run id keeps ids unique after an operator's reset re-runs a step; a retried
            # activity within one run still repeats its id and is dropped as a duplicate.
            stream_key=f"{workflow.info().workflow_id}@{workflow.info().run_id}",
            sequence=seq,
            data={**data, "stage": self._s.stage.value, "region": self._inp.base.region},
        )
        self._s.history.append(
            HistoryStep(at=now, event=event_type.value, sequence=seq, detail=data)
        )
        await workflow.execute_activity_method(
            CycleActivities.publish_event,
            PublishRequest(event=event),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _set_base_status(self, status: Any, reason: str) -> None:
        await workflow.execute_activity_method(
            CycleActivities.set_base_status,
            BaseStatusRequest(
                program=self._s.program, base=self._s.base, status=status, reason=reason
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _notify_parent(self, graded: CycleGraded) -> None:
        if self._inp.parent_id:
            parent = workflow.get_external_workflow_handle(self._inp.parent_id)
            await parent.signal("cycle_graded", graded)

    def _set_stage(self, stage: Stage) -> None:
        self._s.stage = stage
        self._upsert(sa.STAGE.value_set(stage.value))

    def _upsert(self, update: SearchAttributeUpdate[Any]) -> None:
        # Only cycles started with search attributes keep them current (the time-skipping
        # test server has none).
        if workflow.info().typed_search_attributes.get(sa.PROGRAM) is not None:
            workflow.upsert_search_attributes([update])

    def _iso(self, deadline: str) -> str:
        return self._s.deadlines[deadline].isoformat()

    def _deadlines_json(self) -> dict[str, str]:
        return {k: v.isoformat() for k, v in self._s.deadlines.items()}

    def _outcome(self) -> CycleOutcome:
        return CycleOutcome(
            stage=self._s.stage,
            grade=self._s.grade,
            total=self._s.total,
            final_grade=self._s.final_grade,
        )


def _receipt(doc: DocumentRef) -> Receipt:
    return Receipt(
        document_id=doc.document_id, sha256=doc.sha256, version=doc.version, size=doc.size
    )
