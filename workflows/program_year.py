"""ProgramYearWorkflow: one program's year, from launch notice to final results.

launch notice ▶ one AnnualCycleWorkflow per active base, opened in batches ▶ every cycle graded
▶ relative grading if the rubric asks ▶ results published (公示) ▶ objections lodged and
decided, corrections published ▶ results final once 公示 has ended on known holiday data and
every objection is decided ▶ each cycle told its final grade (rectification follows it) ▶ a
supplementary notice (补充公示) with every cycle's outcome once all have ended.

The history stays bounded at any number of bases: cycles open through one activity per batch of
500 (not one child event each, and never near the pending-children limit), grades and outcomes
arrive as small signals with a continue-as-new when the history grows, and final grades reach
the cycles through an activity rather than thousands of signal commands. Each cycle knows this
workflow's id as its parent and reports to it.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from shared.contracts import search_attributes as sa
    from shared.contracts import workflow_names as names
    from shared.contracts.activities import (
        DecideOutcomesRequest,
        FinalizeCyclesRequest,
        OpenCyclesRequest,
        PublishRequest,
        SignalCyclesRequest,
        StoredResults,
        StoreResultsRequest,
    )
    from shared.contracts.calendars import CalendarApplied
    from shared.contracts.cycle import (
        AtAggregation,
        BaseInfo,
        CycleConcluded,
        CycleGraded,
        PlansForwarded,
        ReopenReview,
    )
    from shared.contracts.forwardings import ForwardingRecord, ForwardPlans
    from shared.contracts.objections import (
        DecideObjection,
        LodgeObjection,
        Objection,
        ObjectionList,
        ObjectionPage,
        ObjectionPageRequest,
    )
    from shared.contracts.program_year import ProgramYearInput, ProgramYearState
    from shared.contracts.registry import GetProgram, ListBasesRequest
    from shared.contracts.results import ObjectionSummary, ResultEntry, ResultsNotice
    from shared.contracts.targets import (
        ReadTargetActuals,
        ReportTargetActuals,
        StoreTargetActuals,
        TargetProgressView,
    )
    from shared.contracts.year_ledger import (
        INLINE_RESULTS,
        GradeCountsRequest,
        LedgerBatch,
        PublishedEntryLookup,
        PublishResultsRequest,
    )
    from shared.domain import errors
    from shared.domain.chains import forwarding_levels, forwarding_region_problem
    from shared.domain.participants import kinds, participant_rules
    from shared.domain.regions import is_within, region_level
    from shared.domain.target_reports import ReportError, measure, parse_report, program_targets
    from shared.events import payloads as ev
    from shared.events.envelope import new_event
    from workflows.activities import CycleActivities
    from workflows.errors import rejected
    from workflows.results import build_entries, fill_notice, final_grades, grade_counts
    from workflows.timing import resolve_spec

BATCH = 500
# Continue as new long before the 51,200-event cap while grades arrive as signals.
HISTORY_LIMIT = 10_000
ACTIVITY_TIMEOUT = timedelta(seconds=60)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Outcome rules (tiers, promotion, exit) decided once the results are final: years that finalized
# before this change have no marker and decide none.
OUTCOME_DECISIONS = "outcome-decisions"
# Program-level target reports (an update) and, in a multi-year program's checkpoint years, the
# targets measured when the year closes (program.evaluated in its mid-term and final years).
TARGET_REPORTS = "target-reports"
PROGRAM_EVALUATION = "program-evaluation"
# The cycles' reports kept in the year ledger (object store), not in this workflow's state: a
# year that started before this change keeps them in its state as it always did.
YEAR_LEDGER = "year-ledger"
# Reports wait in the state until this many have come, every remaining one may be in, or the
# oldest has waited FLUSH_DELAY; then one activity keeps them as the ledger's next batch.
FLUSH_SIZE = 500
FLUSH_DELAY = timedelta(seconds=5)


@workflow.defn(name=names.PROGRAM_YEAR_WORKFLOW)
class ProgramYearWorkflow:
    @workflow.init
    def __init__(self, inp: ProgramYearInput) -> None:
        self._s = inp.model_copy(deep=True)
        self._calendar: CalendarApplied | None = None
        self._reporting = asyncio.Lock()

    @workflow.run
    async def run(self, inp: ProgramYearInput) -> ProgramYearState:
        s = self._s
        if not s.ledger and not s.graded and not s.concluded:
            s.ledger = workflow.patched(YEAR_LEDGER)
        if s.phase == "launching":
            await self._launch()
            s.phase = "reviewing"
        if s.phase == "reviewing":
            await self._until(
                lambda: self._graded_count() >= s.opened,
                lambda: s.tally.graded + len(s.pending_graded) >= s.opened,
            )
            await self._publish(kind="original")
            s.phase = "publication"
        if s.phase == "publication":
            await self._publication()
            await self._finalize()
            s.phase = "concluding"
        if s.phase == "concluding":
            await self._until(
                lambda: self._concluded_count() >= self._graded_count(),
                lambda: s.tally.concluded + len(s.pending_concluded) >= s.tally.graded,
            )
            corrected = list(dict.fromkeys(s.regraded))
            s.regraded = []
            if self._outcomes_changed() or corrected:
                await self._publish(kind="supplementary", corrected=corrected)
            if self._checkpoint() and workflow.patched(PROGRAM_EVALUATION):
                await self._evaluate()
            s.phase = "done"
        return self.state()

    # ---------------------------------------------------------------- phases

    async def _launch(self) -> None:
        s = self._s
        if s.rules is None:
            pinned = await workflow.execute_activity_method(
                CycleActivities.load_rules,
                GetProgram(program=s.program),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            s.rules, s.rules_version = pinned.rules, pinned.version
        if not s.secret:
            # Shared with this year's cycles only: their grades and outcomes carry it, and
            # they take a final grade or a reopened review only with it.
            s.secret = str(workflow.uuid4())
        if s.launched_at is None:
            s.launched_at = workflow.now()
            await self._emit(
                ev.ProgramLaunched(
                    rules_version=s.rules_version, name=s.rules.name, issuer=s.rules.issuer
                )
            )
        while not s.listing_done:
            page = await workflow.execute_activity_method(
                CycleActivities.list_bases,
                ListBasesRequest(program=s.program, cursor=s.cursor, limit=BATCH),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            if page.bases:
                await self._open_cycles(page.bases)
            s.cursor, s.listing_done = page.next_cursor, page.next_cursor is None
            s.opened += len(page.bases)

    async def _until(self, done: Any, could_finish: Any) -> None:
        """Wait for signals from the cycles, continuing as new before the history grows large;
        new holiday data is passed on to the cycles meanwhile. Their reports go to the ledger in
        batches (:meth:`_flush`); ``could_finish`` says the waiting ones may complete ``done``."""
        while True:
            if self._pending() and (self._pending() >= FLUSH_SIZE or could_finish()):
                await self._flush()
            if done():
                return
            waiting = self._pending()  # the first report to wait starts the delay
            try:
                await workflow.wait_condition(
                    functools.partial(self._until_woken, done, could_finish, waiting),
                    timeout=FLUSH_DELAY if waiting else None,
                )
            except TimeoutError:
                await self._flush()
                continue
            if self._calendar is not None:
                await self._recompute_publication()
            elif self._history_full() and not done():
                await self._flush()
                if not done():
                    workflow.continue_as_new(self._s.model_copy(deep=True))

    def _until_woken(self, done: Any, could_finish: Any, waiting: int) -> bool:
        return (
            done()
            or self._calendar is not None
            or self._history_full()
            or self._pending() >= FLUSH_SIZE
            or (self._pending() > 0 and (waiting == 0 or could_finish()))
        )

    # ---------------------------------------------------------------- the year ledger

    def _history_full(self) -> bool:
        limit = self._s.history_limit or HISTORY_LIMIT
        return workflow.info().get_current_history_length() > limit

    def _pending(self) -> int:
        return len(self._s.pending_graded) + len(self._s.pending_concluded)

    def _graded_count(self) -> int:
        s = self._s
        return s.tally.graded if s.ledger else len(s.graded)

    def _concluded_count(self) -> int:
        s = self._s
        return s.tally.concluded if s.ledger else len(s.concluded)

    async def _flush(self) -> None:
        """The waiting reports kept as the ledger's next batches; the year's counts come back,
        and a changed grade after publication is marked for a correction, never silently."""
        s = self._s
        while s.pending_graded or s.pending_concluded:
            graded = s.pending_graded[:FLUSH_SIZE]
            concluded = s.pending_concluded[:FLUSH_SIZE]
            tally = await workflow.execute_activity_method(
                CycleActivities.record_ledger,
                LedgerBatch(
                    program=s.program,
                    year=s.year,
                    batch=s.ledger_batch + 1,
                    graded=graded,
                    concluded=concluded,
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            del s.pending_graded[: len(graded)]
            del s.pending_concluded[: len(concluded)]
            s.ledger_batch = tally.batch
            s.tally = tally.model_copy(update={"changed": []})
            for base in tally.changed:
                if s.published_at is not None and base not in s.regraded:
                    s.regraded.append(base)
                    s.regrades_received += 1

    async def _publication(self) -> None:
        """公示: wait until its end has passed on known holiday data and every objection is
        decided; an upheld objection's re-review is published as a correction meanwhile."""
        s = self._s
        while True:
            await self._publish_corrections()
            now = workflow.now()
            until = s.publication_until
            assert until is not None
            # A simulation is never the record: it may end on a provisional 公示 end.
            provisional = s.publication_provisional and not (s.rules and s.rules.simulation)
            settled = not self._open_objections() and not s.regrading and not self._pending()
            if now >= until and not provisional and settled:
                return
            timeout = until - now if now < until else None
            try:
                await workflow.wait_condition(
                    functools.partial(self._woken, self._changes()), timeout=timeout
                )
            except TimeoutError:
                pass
            if self._calendar is not None:
                await self._recompute_publication()

    def _woken(self, changes: tuple[int, int, int]) -> bool:
        return self._changes() != changes or self._calendar is not None or self._pending() > 0

    def _changes(self) -> tuple[int, int, int]:
        s = self._s
        decided = sum(1 for o in s.objections.values() if o.status != "lodged")
        return (len(s.objections), decided, s.regrades_received)

    def _open_objections(self) -> bool:
        return any(o.status == "lodged" for o in self._s.objections.values())

    async def _publish_corrections(self) -> None:
        """A supplementary notice for every re-graded base: an upheld objection's once its
        re-review is graded, any other change after publication at once."""
        s = self._s
        await self._flush()
        if not s.regraded:
            return
        done = list(dict.fromkeys(s.regraded))
        for base in done:
            if base in s.regrading:
                s.regrading.remove(base)
        s.regraded = []
        await self._publish(kind="supplementary", corrected=done)

    async def _recompute_publication(self) -> None:
        s = self._s
        applied, self._calendar = self._calendar, None
        assert applied is not None and s.rules is not None
        if s.publication_provisional and s.published_at is not None:
            before = self._publication_due()
            fresh = await resolve_spec(
                s.rules.calendar,
                s.rules.calendar.publication_period,
                anchor=s.published_at,
                year=s.year,
            )
            s.publication_until = fresh.until
            s.publication_last_day = fresh.last_day
            s.publication_provisional = fresh.provisional
            await self._emit(
                ev.DeadlineRecomputed(
                    deadline="publication",
                    from_=before,
                    to=self._publication_due(),
                    calendar=applied.calendar,
                    calendar_version=applied.version,
                )
            )
        # Every open cycle counts its own provisional deadlines again (an empty list: all the
        # program's bases, listed by the activity, as this history keeps no list of them).
        await self._signal_cycles([], "calendar_applied", applied.model_dump())

    async def _finalize(self) -> None:
        s = self._s
        counts = await self._final_counts()
        await self._emit(
            ev.ResultsFinalized(counts=counts, results=s.stored_results, notices=s.notices)
        )
        s.finalized_at = workflow.now()
        await workflow.execute_activity_method(
            CycleActivities.finalize_cycles,
            FinalizeCyclesRequest(
                program=s.program,
                year=s.year,
                finalized_at=s.finalized_at,
                secret=s.secret,
                **self._grades_or_ledger(),
            ),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        if self._has_outcome_rules() and workflow.patched(OUTCOME_DECISIONS):
            await self._decide_outcomes()

    def _has_outcome_rules(self) -> bool:
        outcomes = self._s.rules.outcomes if self._s.rules else None
        return outcomes is not None and bool(outcomes.tiers or outcomes.promotion or outcomes.exit)

    async def _decide_outcomes(self) -> None:
        """One ``outcome.decided`` event per base and decision, published by one activity that
        reads the earlier years' final grades (the history stays bounded at any number of bases);
        the events take the next numbers of this year's stream."""
        s = self._s
        assert s.rules is not None and s.finalized_at is not None
        published = await workflow.execute_activity_method(
            CycleActivities.decide_outcomes,
            DecideOutcomesRequest(
                program=s.program,
                year=s.year,
                decided_at=s.finalized_at,
                **self._grades_or_ledger(),
                stream_key=workflow.info().workflow_id,
                first_sequence=s.sequence + 1,
            ),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        s.sequence += published

    # ---------------------------------------------------------------- targets

    def _checkpoint(self) -> bool:
        rules = self._s.rules
        return (
            rules is not None
            and rules.span is not None
            and rules.span.is_checkpoint(self._s.year)
            and bool(program_targets(rules.targets))
        )

    def _years_read(self) -> list[int]:
        """The years a measurement in this year reads: the span's up to this year; without a
        span, from the first program-level target's start."""
        s = self._s
        assert s.rules is not None
        if s.rules.span is not None:
            return s.rules.span.years_read(s.year)
        starts = [t.start_year for t in program_targets(s.rules.targets).values()]
        return list(range(min(starts, default=s.year), s.year + 1))

    def _progress(
        self, by_year: dict[int, dict[str, Any]], evaluation: str | None, revision: int
    ) -> TargetProgressView:
        s = self._s
        assert s.rules is not None
        return TargetProgressView(
            year=s.year,
            revision=revision,
            actuals=by_year.get(s.year, {}),
            years_read=self._years_read(),
            evaluation=evaluation,
            targets=measure(s.rules.targets, by_year, s.year),
        )

    @workflow.update(name=names.REPORT_TARGET_ACTUALS)
    async def report_target_actuals(self, req: ReportTargetActuals) -> TargetProgressView:
        """The province's report of the year's actuals: kept (a later report replaces it; the
        same actuals again change nothing), measured with the earlier years' reports, and
        published as ``targets.reported``."""
        s = self._s
        assert s.rules is not None
        actuals = dict(parse_report(s.rules.targets, req.actuals))
        async with self._reporting:
            current = s.targets
            if current is not None and current.revision > 0 and current.actuals == actuals:
                return current
            workflow.patched(TARGET_REPORTS)
            years = self._years_read()
            earlier = await workflow.execute_activity_method(
                CycleActivities.store_target_actuals,
                StoreTargetActuals(
                    program=s.program,
                    year=s.year,
                    actuals=actuals,
                    earlier=[y for y in years if y != s.year],
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            view = self._progress(
                {**earlier.years, s.year: actuals},
                current.evaluation if current else None,
                (current.revision if current else 0) + 1,
            )
            s.targets = view
            await self._emit(
                ev.TargetsReported(
                    actuals=actuals,
                    revision=view.revision,
                    by=req.by,
                    years_read=view.years_read,
                    targets=[line.model_dump(mode="json") for line in view.targets],
                )
            )
            return view

    @report_target_actuals.validator
    def _validate_report(self, req: ReportTargetActuals) -> None:
        rules = self._s.rules
        if rules is None:
            raise rejected(
                errors.WRONG_STAGE,
                "该项目年度尚在启动中 / the program year is still launching",
                phase=self._s.phase,
            )
        try:
            parse_report(rules.targets, req.actuals)
        except ReportError as exc:
            # invalid_input (a 422 the API has words for), the reason's stable code beside it
            raise rejected(errors.INVALID_INPUT, str(exc), reason=exc.code, keys=exc.keys) from None

    @workflow.query(name=names.TARGET_PROGRESS)
    def target_progress(self) -> TargetProgressView | None:
        return self._s.targets

    # ---------------------------------------------------------------- forwardings (汇总报送)

    @workflow.update(name=names.FORWARD_PLANS)
    async def forward_plans(self, req: ForwardPlans) -> ForwardingRecord:
        """A region at an aggregation step forwards, as one filing of its own, the plans of its
        units that wait there: recorded, published as ``plans.forwarded`` and signalled to
        those cycles (one activity for all of them), which move on to the next step."""
        s = self._s
        assert req.actor is not None
        units = sorted(s.awaiting.pop(req.region, []))
        if not units:  # another forwarding took them between the validator and now
            self._refuse_nothing_waiting(req.region)
        now = workflow.now()
        due = s.forward_due.get(req.region)
        record = ForwardingRecord(
            region=req.region,
            level=region_level(req.region),
            units=units,
            forwarded_at=now,
            by=req.actor.name,
            document_id=req.document_id,
            filing=1 + sum(1 for f in s.forwardings if f.region == req.region),
            due=due,
            late=due is not None and now > due,
        )
        s.forwardings.append(record)
        await self._emit(
            ev.PlansForwarded(
                region=record.region,
                level=record.level,
                units=units,
                by=record.by,
                document_id=record.document_id,
                filing=record.filing,
                forward_by=due.isoformat() if due else None,
                late=record.late,
            )
        )
        signal = PlansForwarded(
            region=record.region,
            forwarded_at=now,
            by=record.by,
            document_id=record.document_id,
            secret=s.secret,
        )
        await self._signal_cycles(units, names.PLANS_FORWARDED, signal.model_dump(mode="json"))
        return record

    @forward_plans.validator
    def _validate_forward(self, req: ForwardPlans) -> None:
        s = self._s
        if s.rules is None:
            raise rejected(
                errors.WRONG_STAGE,
                "该项目年度尚在启动中 / the program year is still launching",
                phase=s.phase,
            )
        actor = req.actor
        if actor is None:
            raise rejected(errors.ACTOR_REQUIRED, "the input does not say who acts / 未注明操作人")
        officer = (
            actor.role == "city_officer"
            and actor.region is not None
            and is_within(req.region, actor.region)
        )
        if actor.role != "province_admin" and not officer:
            raise rejected(
                errors.NOT_YOUR_ROLE,
                f"{actor.name} ({actor.role}) may not forward {req.region}'s plans: only the"
                f" program's admin or an officer of that region"
                " / 仅项目管理员或该地区主管部门可报送",
            )
        chains = [participant_rules(s.rules, kind).chain for kind in kinds(s.rules)]
        problem = forwarding_region_problem(req.region, forwarding_levels(chains), s.rules.region)
        if problem is not None:
            raise rejected(errors.NOT_A_FORWARDING_REGION, problem, region=req.region)
        if not s.awaiting.get(req.region):
            self._refuse_nothing_waiting(req.region)

    def _refuse_nothing_waiting(self, region: str) -> None:
        done = [f for f in self._s.forwardings if f.region == region]
        if done:
            at = done[-1].forwarded_at.isoformat()
            raise rejected(
                errors.ALREADY_FORWARDED,
                f"{region} forwarded its units' plans at {at} and no other plan waits"
                f" / {region}已于{at}汇总报送，暂无待报送的计划",
                region=region,
            )
        raise rejected(
            errors.NOTHING_TO_FORWARD,
            f"no plan of {region}'s units waits to be forwarded / {region}暂无待汇总报送的计划",
            region=region,
        )

    @workflow.signal(name=names.AT_AGGREGATION)
    def at_aggregation(self, req: AtAggregation) -> None:
        """A cycle's plan waits at (or has left) its region's aggregation step."""
        s = self._s
        if req.secret != s.secret:
            workflow.logger.warning("an aggregation report not from this year's cycles: ignored")
            return
        units = s.awaiting.setdefault(req.region, [])
        if req.waiting and req.base not in units:
            units.append(req.base)
            if req.due is not None:
                s.forward_due[req.region] = req.due
        elif not req.waiting and req.base in units:
            units.remove(req.base)
        if not units:
            s.awaiting.pop(req.region, None)

    async def _evaluate(self) -> None:
        """A checkpoint: the program-level targets measured on every year's reported actuals up
        to this one; in the mid-term and final years published as ``program.evaluated``."""
        s = self._s
        assert s.rules is not None and s.rules.span is not None
        async with self._reporting:
            read = await workflow.execute_activity_method(
                CycleActivities.read_target_actuals,
                ReadTargetActuals(
                    program=s.program, years=[y for y in self._years_read() if y != s.year]
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            by_year = dict(read.years)
            if s.targets is not None and s.targets.revision > 0:
                by_year[s.year] = s.targets.actuals
            kind = s.rules.span.evaluation(s.year)
            view = self._progress(by_year, kind, s.targets.revision if s.targets else 0)
            s.targets = view
            if kind is not None:
                await self._emit(
                    ev.ProgramEvaluated(
                        kind=kind,
                        years_read=view.years_read,
                        years_reported=sorted(by_year),
                        targets=[line.model_dump(mode="json") for line in view.targets],
                        counts=dict(Counter(line.progress.status for line in view.targets)),
                    )
                )

    # ---------------------------------------------------------------- notices

    def _grades_or_ledger(self) -> dict[str, Any]:
        """The final grades for an activity: the ledger snapshot it reads them from, or (a year
        that keeps its reports in its state) the grades themselves."""
        s = self._s
        if s.ledger:
            return {"rules": s.rules, "ledger_batch": s.ledger_batch}
        return {"rules": s.rules, "grades": final_grades(self._entries())}

    async def _final_counts(self) -> dict[str, int]:
        s = self._s
        if not s.ledger:
            return grade_counts(self._entries())
        await self._flush()
        assert s.rules is not None
        return await workflow.execute_activity_method(
            CycleActivities.count_grades,
            GradeCountsRequest(program=s.program, year=s.year, batch=s.ledger_batch, rules=s.rules),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    def _objection_summaries(self) -> dict[str, list[ObjectionSummary]]:
        objections: dict[str, list[ObjectionSummary]] = {}
        for o in self._s.objections.values():
            objections.setdefault(o.base, []).append(
                ObjectionSummary(
                    objection_id=o.objection_id,
                    status=o.status,
                    received_at=o.received_at,
                    decided_at=o.decided_at,
                    decision_reason=o.decision_reason or "",
                )
            )
        return objections

    def _entries(self, corrected: list[str] | None = None) -> dict[str, ResultEntry]:
        """A year that keeps its reports in its state: the entries built here."""
        s = self._s
        assert s.rules is not None
        return build_entries(
            s.rules,
            s.graded,
            s.concluded,
            objections=self._objection_summaries(),
            corrected=set(corrected or []),
        )

    async def _publish(self, *, kind: str, corrected: list[str] | None = None) -> None:
        s = self._s
        assert s.rules is not None
        await self._flush()
        s.notices += 1
        now = workflow.now()
        if kind == "original":
            publication = await resolve_spec(
                s.rules.calendar, s.rules.calendar.publication_period, anchor=now, year=s.year
            )
            s.published_at = now
            s.publication_until = publication.until
            s.publication_last_day = publication.last_day
            s.publication_provisional = publication.provisional
        # After the final results a notice reports outcomes only: no period, no objections.
        open_period = s.finalized_at is None
        header = ResultsNotice(
            program=s.program,
            year=s.year,
            program_name=s.rules.name,
            program_name_en=s.rules.name_en or "",
            issuer=s.rules.issuer,
            kind=kind,  # type: ignore[arg-type]
            number=s.notices,
            published_at=now,
            publication_until=s.publication_until if open_period else None,
            publication_last_day=s.publication_last_day if open_period else None,
            publication_period=s.rules.calendar.publication_period if open_period else "",
            provisional=s.publication_provisional and open_period,
            utc_offset=s.rules.calendar.utc_offset,
        )
        if s.ledger:
            stored, counts, excluded, inline = await self._store_from_ledger(header, corrected)
        else:
            stored, counts, excluded, inline = await self._store_from_state(header, corrected)
        s.stored_results = stored.model_dump()
        published = ev.ResultsPublished(
            notice=s.notices,
            kind=kind,
            counts=counts,
            excluded=excluded,
            publication_until=s.publication_until.isoformat() if s.publication_until else None,
            publication_last_day=(
                s.publication_last_day.isoformat() if s.publication_last_day else None
            ),
            holidays_known=not s.publication_provisional,
            provisional=s.publication_provisional,
            results=s.stored_results,
            entries=inline,
        )
        if kind == "original":
            await self._emit(published)
        else:
            await self._emit(
                ev.ResultsCorrected(
                    **published.model_dump(exclude_unset=True), corrected=corrected or []
                )
            )

    async def _store_from_ledger(
        self, header: ResultsNotice, corrected: list[str] | None
    ) -> tuple[StoredResults, dict[str, int], int, list[dict[str, Any]] | None]:
        """The notice built and stored by an activity from the ledger's latest snapshot."""
        s = self._s
        assert s.rules is not None
        done = await workflow.execute_activity_method(
            CycleActivities.publish_results,
            PublishResultsRequest(
                program=s.program,
                year=s.year,
                batch=s.ledger_batch,
                rules=s.rules,
                notice=header,
                objections=self._objection_summaries(),
                corrected=corrected or [],
            ),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
        )
        stored = StoredResults(key=done.key, sha256=done.sha256, size=done.size)
        return stored, done.counts, done.excluded, done.entries

    async def _store_from_state(
        self, header: ResultsNotice, corrected: list[str] | None
    ) -> tuple[StoredResults, dict[str, int], int, list[dict[str, Any]] | None]:
        """A year that keeps its reports in its state: the notice built here."""
        s = self._s
        entries = self._entries(corrected)
        notice = fill_notice(header, entries, corrected or [])
        stored = await workflow.execute_activity_method(
            CycleActivities.store_results,
            StoreResultsRequest(program=s.program, year=s.year, notice=notice),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        inline = [e.model_dump(mode="json") for e in notice.entries]
        excluded = sum(1 for g in s.graded.values() if g.excluded)
        counts = grade_counts(entries)
        return stored, counts, excluded, inline if len(inline) <= INLINE_RESULTS else None

    def _publication_due(self) -> dict[str, Any]:
        s = self._s
        return {
            "due": s.publication_until.isoformat() if s.publication_until else None,
            "last_day": s.publication_last_day.isoformat() if s.publication_last_day else None,
            "provisional": s.publication_provisional,
        }

    def _outcomes_changed(self) -> bool:
        """Whether any cycle ended other than 'graded, nothing follows': rectification results,
        de-listings and ended cycles are published as a supplementary notice."""
        if self._s.ledger:
            return self._s.tally.outcomes_changed
        return any(c.outcome not in ("none",) for c in self._s.concluded.values())

    # ---------------------------------------------------------------- objections (updates)

    @workflow.update(name=names.LODGE_OBJECTION)
    async def lodge_objection(self, req: LodgeObjection) -> Objection:
        s = self._s
        if req.objection_id in s.objections:
            return s.objections[req.objection_id]  # a retry lodges once
        if s.ledger:
            key = s.stored_results.get("key")
            known = key is not None and await workflow.execute_activity_method(
                CycleActivities.has_published_result,
                PublishedEntryLookup(key=key, base=req.base),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            if req.objection_id in s.objections:  # the same objection, lodged meanwhile
                return s.objections[req.objection_id]
            if not known:
                raise self._no_result(req.base)
        objection = Objection(
            objection_id=req.objection_id,
            base=req.base,
            grounds=req.grounds,
            by=req.by,
            role=req.role,
            contact=req.contact,
            received_at=req.received_at,
        )
        s.objections[req.objection_id] = objection
        await self._emit(
            ev.ObjectionLodged(
                objection_id=req.objection_id,
                base=req.base,
                role=req.role,
                grounds=req.grounds,
                received_at=req.received_at.isoformat(),
            ),
            base=req.base,
        )
        return objection

    @lodge_objection.validator
    def _validate_lodge(self, req: LodgeObjection) -> None:
        s = self._s
        if req.objection_id in s.objections:
            return
        if s.phase != "publication" or s.publication_until is None:
            raise rejected(
                errors.NOT_IN_PUBLICATION,
                "results are not in 公示 now / 当前不在公示期内，不受理异议",
                phase=s.phase,
            )
        received = max(req.received_at, s.published_at or req.received_at)
        if received >= s.publication_until:
            raise rejected(
                errors.NOT_IN_PUBLICATION,
                "公示期已结束，不再受理异议 / the 公示 period has ended",
            )
        if s.ledger:
            return  # the handler looks the base up in the published notice
        entry = s.graded.get(req.base)
        if entry is None or entry.excluded:
            raise self._no_result(req.base)

    @staticmethod
    def _no_result(base: str) -> ApplicationError:
        return rejected(errors.UNKNOWN_BASE, f"{base} has no published result / 公示名单中无此基地")

    @workflow.update(name=names.DECIDE_OBJECTION)
    async def decide_objection(self, req: DecideObjection) -> Objection:
        s = self._s
        current = s.objections[req.objection_id]
        decided = current.model_copy(
            update={
                "status": "upheld" if req.decision == "uphold" else "dismissed",
                "decision_reason": req.reason,
                "decided_by": req.by,
                "decided_at": workflow.now(),
            }
        )
        s.objections[req.objection_id] = decided
        if req.decision == "uphold" and decided.base not in s.regrading:
            s.regrading.append(decided.base)
        await self._emit(
            ev.ObjectionDecided(
                objection_id=req.objection_id,
                base=decided.base,
                decision=decided.status,
                reason=req.reason,
                by=req.by,
            ),
            base=decided.base,
        )
        if req.decision == "uphold":
            await self._signal_cycles(
                [decided.base],
                "reopen_review",
                ReopenReview(
                    objection_id=req.objection_id, reason=req.reason, secret=s.secret
                ).model_dump(),
            )
        return decided

    @decide_objection.validator
    def _validate_decide(self, req: DecideObjection) -> None:
        current = self._s.objections.get(req.objection_id)
        if current is None:
            raise rejected(errors.UNKNOWN_OBJECTION, f"no objection {req.objection_id}")
        if current.status != "lodged":
            raise rejected(
                errors.ALREADY_DECIDED,
                f"objection {req.objection_id} was already {current.status} / 该异议已处理",
            )

    @workflow.query(name=names.OBJECTIONS)
    def objections(self) -> ObjectionList:
        return ObjectionList(objections=list(self._s.objections.values()))

    @workflow.query(name=names.OBJECTION_PAGE)
    def objection_page(self, req: ObjectionPageRequest) -> ObjectionPage:
        """A page in the order they were lodged, so the answer stays bounded at any number."""
        listed = [o for o in self._s.objections.values() if req.base in (None, o.base)]
        start = 0
        if req.after is not None:
            ids = [o.objection_id for o in listed]
            if req.after not in ids:
                return ObjectionPage(after_known=False)
            start = ids.index(req.after) + 1
        shown = listed[start : start + req.limit]
        return ObjectionPage(objections=shown, more=len(listed) > start + req.limit)

    # ---------------------------------------------------------------- signals from cycles

    @workflow.signal(name=names.CYCLE_GRADED)
    def cycle_graded(self, graded: CycleGraded) -> None:
        # Keyed by base: a cycle that reports twice (a retry, a reset) is counted once.
        s = self._s
        if graded.secret != s.secret:
            workflow.logger.warning("a grade not from this year's cycles: ignored")
            return
        if s.ledger:
            # Kept in the ledger by the main loop; a change of grade is found there.
            s.pending_graded.append(graded.model_copy(update={"secret": ""}))
            if graded.objection_id is not None and graded.base in s.regrading:
                s.regraded.append(graded.base)
                s.regrades_received += 1
            return
        before = s.graded.get(graded.base)
        s.graded[graded.base] = graded
        if graded.objection_id is not None and graded.base in s.regrading:
            s.regraded.append(graded.base)
            s.regrades_received += 1
        elif (
            s.published_at is not None
            and before is not None
            and (before.total, before.grade) != (graded.total, graded.grade)
            and graded.base not in s.regraded
        ):
            # A change after publication that no objection asked for (an operator's reset and
            # re-score): published as a correction too, never silently.
            s.regraded.append(graded.base)
            s.regrades_received += 1

    @workflow.signal(name=names.CYCLE_CONCLUDED)
    def cycle_concluded(self, concluded: CycleConcluded) -> None:
        if concluded.secret != self._s.secret:
            workflow.logger.warning("an outcome not from this year's cycles: ignored")
            return
        if self._s.ledger:
            self._s.pending_concluded.append(concluded.model_copy(update={"secret": ""}))
            return
        self._s.concluded[concluded.base] = concluded

    @workflow.signal(name=names.CALENDAR_APPLIED)
    def calendar_applied(self, applied: CalendarApplied) -> None:
        self._calendar = applied

    @workflow.query(name=names.STATE)
    def state(self) -> ProgramYearState:
        s = self._s
        excluded = s.tally.excluded if s.ledger else sum(1 for g in s.graded.values() if g.excluded)
        return ProgramYearState(
            program=s.program,
            year=s.year,
            phase=s.phase,
            opened=s.opened,
            graded=self._graded_count() - excluded,
            excluded=excluded,
            rules_version=s.rules_version,
            notices=s.notices,
            publication_until=s.publication_until,
            publication_provisional=s.publication_provisional,
            objections=len(s.objections),
            concluded=self._concluded_count(),
            targets=s.targets,
            awaiting={region: sorted(units) for region, units in sorted(s.awaiting.items())},
            forwardings=list(s.forwardings),
        )

    # ---------------------------------------------------------------- helpers

    async def _open_cycles(self, bases: list[BaseInfo]) -> None:
        s = self._s
        assert s.rules is not None and s.rules_version is not None and s.launched_at is not None
        await workflow.execute_activity_method(
            CycleActivities.open_cycles,
            OpenCyclesRequest(
                program=s.program,
                year=s.year,
                rules=s.rules,
                rules_version=s.rules_version,
                launched_at=s.launched_at,
                parent_id=workflow.info().workflow_id,
                parent_secret=s.secret,
                bases=bases,
                search_attributes=workflow.info().typed_search_attributes.get(sa.PROGRAM)
                is not None,
            ),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
        )

    async def _signal_cycles(self, bases: list[str], signal: str, payload: dict[str, Any]) -> None:
        await workflow.execute_activity_method(
            CycleActivities.signal_cycles,
            SignalCyclesRequest(
                program=self._s.program,
                year=self._s.year,
                bases=bases,
                signal=signal,
                payload=payload,
            ),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )

    async def _emit(self, payload: ev.EventPayload, base: str | None = None) -> None:
        s = self._s
        s.sequence += 1
        event = new_event(
            payload=payload,
            program=s.program,
            year=s.year,
            base=base,
            time=workflow.now(),
            stream_key=workflow.info().workflow_id,
            sequence=s.sequence,
        )
        await workflow.execute_activity_method(
            CycleActivities.publish_event,
            PublishRequest(event=event),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
