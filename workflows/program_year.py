"""ProgramYearWorkflow: one program's year, from launch notice to final results.

launch notice ▶ one AnnualCycleWorkflow per active base, opened in batches ▶ every cycle graded
▶ relative grading if the rubric asks ▶ results published ▶ 公示 ▶ results finalised.

The history stays bounded at any number of bases: cycles open through one activity per batch of
500 (not one child event each, and never near the pending-children limit), grades arrive as small
signals with a continue-as-new when the history grows, and final grades reach the cycles through
an activity rather than thousands of signal commands. Each cycle knows this workflow's id as its
parent and reports its grade here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from shared.domain.grading import Grade, relative_grades
    from shared.events.envelope import new_event
    from shared.events.types import EventType
    from workflows import search_attributes as sa
    from workflows.activities import CycleActivities
    from workflows.models import (
        BaseInfo,
        CycleGraded,
        FinalizeCyclesRequest,
        ListBasesRequest,
        OpenCyclesRequest,
        ProgramYearInput,
        ProgramYearState,
        PublishRequest,
        RulesRequest,
        StoreResultsRequest,
    )
    from workflows.timing import resolve_spec

BATCH = 500
# Continue as new long before the 51,200-event cap while grades arrive as signals.
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
                bases=bases,
                search_attributes=workflow.info().typed_search_attributes.get(sa.PROGRAM)
                is not None,
            ),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
        )

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
        # Failing cycles are already in rectification; only passing ones wait for the result.
        passing = {b: g for b, g in final.items() if g != Grade.FAIL}
        await workflow.execute_activity_method(
            CycleActivities.finalize_cycles,
            FinalizeCyclesRequest(
                program=s.program, year=s.year, grades=passing, finalized_at=workflow.now()
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
