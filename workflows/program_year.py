"""ProgramYearWorkflow: one program's year, from launch notice to final results.

launch notice ▶ one AnnualCycleWorkflow per active base, started in batches ▶ every cycle graded
▶ relative grading if the rubric asks ▶ results published ▶ 公示 ▶ results finalised.

The history stays bounded at any number of bases: children start in batches with a
continue-as-new between batches, grades arrive as small signals, and the final grades reach the
children through an activity rather than thousands of signal commands.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from shared.domain.grading import Grade, relative_grades
    from shared.events.envelope import new_event
    from shared.events.types import EventType
    from workflows import search_attributes as sa
    from workflows.activities import CycleActivities, cycle_id
    from workflows.cycle import AnnualCycleWorkflow
    from workflows.models import (
        CycleGraded,
        CycleInput,
        FinalizeCyclesRequest,
        ListBasesRequest,
        ProgramYearInput,
        ProgramYearState,
        PublishRequest,
        RulesRequest,
        StoreResultsRequest,
    )
    from workflows.timing import resolve_spec

BATCH = 500
# Continue as new well before the 2,000-pending-children and 51,200-event limits.
CHILDREN_PER_RUN = 1000
HISTORY_LIMIT = 10_000
INLINE_RESULTS = 200
ACTIVITY_TIMEOUT = timedelta(seconds=60)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@workflow.defn(name="ProgramYearWorkflow")
class ProgramYearWorkflow:
    @workflow.init
    def __init__(self, inp: ProgramYearInput) -> None:
        self._s = inp.model_copy(deep=True)
        self._phase = "launching"

    @workflow.run
    async def run(self, inp: ProgramYearInput) -> ProgramYearState:
        s = self._s
        if s.rules is None:
            pinned = await workflow.execute_activity_method(
                CycleActivities.load_rules,
                RulesRequest(program=s.program),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            s.rules, s.rules_version = pinned.rules, pinned.version
        if s.launched_at is None:
            s.launched_at = workflow.now()
            await self._emit(
                EventType.PROGRAM_LAUNCHED,
                {"rules_version": s.rules_version, "name": s.rules.name, "issuer": s.rules.issuer},
            )

        started_this_run = 0
        while not s.listing_done:
            if started_this_run >= CHILDREN_PER_RUN:
                self._continue_as_new()
            page = await workflow.execute_activity_method(
                CycleActivities.list_bases,
                ListBasesRequest(program=s.program, cursor=s.cursor, limit=BATCH),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
            for base in page.bases:
                await self._open_cycle(base)
                started_this_run += 1
            s.cursor, s.listing_done = page.next_cursor, page.next_cursor is None

        self._phase = "reviewing"
        while len(s.graded) < s.opened:
            await workflow.wait_condition(
                lambda: (
                    len(s.graded) >= s.opened
                    or workflow.info().get_current_history_length() > HISTORY_LIMIT
                )
            )
            if len(s.graded) < s.opened:
                self._continue_as_new()

        await self._publish_results()
        return self.state()

    async def _open_cycle(self, base: Any) -> None:
        s = self._s
        assert s.rules is not None and s.rules_version is not None and s.launched_at is not None
        tracked = workflow.info().typed_search_attributes.get(sa.PROGRAM) is not None
        attrs = (
            TypedSearchAttributes(
                [
                    SearchAttributePair(sa.PROGRAM, s.program),
                    SearchAttributePair(sa.YEAR, s.year),
                    SearchAttributePair(sa.BASE, base.id),
                    SearchAttributePair(sa.REGION, base.region),
                    SearchAttributePair(sa.STAGE, "plan_filing"),
                ]
            )
            if tracked
            else None
        )
        try:
            await workflow.start_child_workflow(
                AnnualCycleWorkflow.run,
                CycleInput(
                    program=s.program,
                    year=s.year,
                    base=base,
                    rules=s.rules,
                    rules_version=s.rules_version,
                    launched_at=s.launched_at,
                    parent_id=workflow.info().workflow_id,
                ),
                id=cycle_id(s.program, s.year, base.id),
                parent_close_policy=ParentClosePolicy.ABANDON,
                search_attributes=attrs,
            )
        except WorkflowAlreadyStartedError:
            pass  # launched before a continue-as-new or an earlier attempt: still one cycle
        s.opened += 1

    async def _publish_results(self) -> None:
        s = self._s
        assert s.rules is not None
        graded = {b: g for b, g in s.graded.items() if not g.excluded and g.grade is not None}
        final = relative_grades(
            s.rules.rubric.grades,
            {b: (g.total or 0.0, g.grade) for b, g in graded.items() if g.grade is not None},
        )
        entries = [
            {"base": b, "total": graded[b].total, "grade": grade.value, "grade_zh": grade.label_zh}
            for b, grade in sorted(final.items())
        ]
        self._phase = "publishing"
        stored = await workflow.execute_activity_method(
            CycleActivities.store_results,
            StoreResultsRequest(program=s.program, year=s.year, entries=entries),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        counts = {g.value: sum(1 for x in final.values() if x == g) for g in Grade}
        now = workflow.now()
        publication = await resolve_spec(
            s.rules.calendar, s.rules.calendar.publication_period, anchor=now, year=s.year
        )
        until = publication.until
        await self._emit(
            EventType.RESULTS_PUBLISHED,
            {
                "counts": counts,
                "excluded": sum(1 for g in s.graded.values() if g.excluded),
                "publication_until": until.isoformat(),
                "holidays_known": publication.holidays_known,
                "results": stored.model_dump(),
                "entries": entries if len(entries) <= INLINE_RESULTS else None,
            },
        )
        self._phase = "publication"
        await workflow.sleep(until - now)
        await self._emit(
            EventType.RESULTS_FINALIZED, {"counts": counts, "results": stored.model_dump()}
        )
        self._phase = "finalized"
        await workflow.execute_activity_method(
            CycleActivities.finalize_cycles,
            FinalizeCyclesRequest(
                program=s.program, year=s.year, grades=final, finalized_at=workflow.now()
            ),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )

    @workflow.signal
    def cycle_graded(self, graded: CycleGraded) -> None:
        # Keyed by base: a cycle that reports twice (a retry, a reset) is counted once.
        self._s.graded[graded.base] = graded

    @workflow.query
    def state(self) -> ProgramYearState:
        s = self._s
        return ProgramYearState(
            program=s.program,
            year=s.year,
            phase=self._phase,
            opened=s.opened,
            graded=sum(1 for g in s.graded.values() if not g.excluded),
            excluded=sum(1 for g in s.graded.values() if g.excluded),
            rules_version=s.rules_version,
        )

    async def _emit(self, event_type: EventType, data: dict[str, Any]) -> None:
        s = self._s
        s.sequence += 1
        event = new_event(
            event_type=event_type,
            program=s.program,
            year=s.year,
            base=None,
            time=workflow.now(),
            stream_key=workflow.info().workflow_id,
            sequence=s.sequence,
            data=data,
        )
        await workflow.execute_activity_method(
            CycleActivities.publish_event,
            PublishRequest(event=event),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    def _continue_as_new(self) -> None:
        workflow.continue_as_new(self._s.model_copy(deep=True))
