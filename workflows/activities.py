"""Activities: thin adapters from workflows to NATS, services, object storage and Temporal.

They hold injected clients (built by the worker's composition root) and are idempotent, because
Temporal retries them and a reset re-runs them.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from shared.bases_listing import all_bases
from shared.contracts import search_attributes as sa
from shared.contracts.activities import (
    BaseStatusRequest,
    DecideOutcomesRequest,
    EndLaterCyclesRequest,
    ExpertsRequest,
    FinalizeCyclesRequest,
    OpenCyclesRequest,
    PublishRequest,
    RecordFiling,
    ResolvedDeadline,
    ResolveDeadlineRequest,
    SignalCyclesRequest,
    StoredResults,
    StoreResultsRequest,
)
from shared.contracts.assessment import (
    AssignmentQuery,
    Assignments,
    OpenAssignments,
    ReassignExperts,
)
from shared.contracts.calendars import CalendarVersionPublic, GetCalendar
from shared.contracts.cycle import BaseDelisted, BaseInfo, CycleInput, FinalGrade
from shared.contracts.filings import DocumentRecord
from shared.contracts.program_year import LaunchRequest, LaunchResult
from shared.contracts.registry import (
    BasePublic,
    BasesPage,
    BaseStatusChange,
    BaseStatusResult,
    GetBase,
    GetProgram,
    ListBasesRequest,
    PinnedRules,
)
from shared.contracts.results import ResultsNotice, dump_results, results_key
from shared.contracts.targets import ActualsByYear, ReadTargetActuals, StoreTargetActuals
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.contracts.year_ledger import (
    INLINE_RESULTS,
    GradeCountsRequest,
    LedgerBatch,
    LedgerTally,
    PublishedEntryLookup,
    PublishedResults,
    PublishResultsRequest,
)
from shared.domain.errors import PROGRAM_TOO_LARGE
from shared.domain.grading import Grade
from shared.domain.holidays import HolidayCalendar, parse_holiday_table
from shared.domain.participants import UnknownKind, kind_chain, pinned_rules, standing_kind
from shared.domain.periods import resolve_period
from shared.domain.rules import ProgramRules
from shared.domain.timespec import Duration, parse_timespec, parse_utc_offset
from shared.domain.year_size import too_large
from shared.objectstore import ObjectStore
from shared.publisher import EventPublisher
from shared.rpc import Empty, RpcClient, RpcError
from shared.starters import start_program_year
from workflows.outcome_decisions import decided_events
from workflows.results import fill_notice, grade_counts
from workflows.target_actuals import read_actuals, store_actuals
from workflows.year_ledger import keep_batch, read_snapshot


def _pinned(rules: ProgramRules, base: BaseInfo) -> ProgramRules:
    """The rules a base's cycle pins: its kind's (:func:`pinned_rules`). A kind the program
    no longer declares opens the cycle under the program's first kind, said in the log."""
    try:
        return pinned_rules(rules, base.kind or None)
    except UnknownKind as exc:
        activity.logger.warning("%s: base %s opens under the first kind", exc, base.id)
        return pinned_rules(rules)


class CycleActivities:
    def __init__(
        self,
        publisher: EventPublisher,
        rpc: RpcClient,
        objects: ObjectStore,
        temporal: Client | None = None,
        arrival_max_skew_s: int = 300,
        max_bases_per_year: int | None = None,
    ) -> None:
        self._arrival_max_skew_s = arrival_max_skew_s
        self._max_bases_per_year = max_bases_per_year
        self._publisher = publisher
        self._rpc = rpc
        self._objects = objects
        self._temporal = temporal

    @activity.defn
    async def publish_event(self, req: PublishRequest) -> int:
        published = await self._publisher.publish(req.event)
        return published.stream_seq

    @activity.defn
    async def register_document(self, req: DocumentRecord) -> None:
        await self._rpc.call("filings", "documents.register", req, Empty)

    @activity.defn
    async def record_filing(self, req: RecordFiling) -> int:
        """A filing's two calls in one (a local activity inside the filing's update, so the
        filing costs the engine no activity task): the document registered with the filings
        service, then the event published. Both are idempotent (the document id and the event
        id are fixed by the workflow), so a retry repeats neither."""
        await self._rpc.call("filings", "documents.register", req.document, Empty)
        published = await self._publisher.publish(req.event)
        return published.stream_seq

    @activity.defn
    async def load_rules(self, req: GetProgram) -> PinnedRules:
        return await self._rpc.call("registry", "rules.current", req, PinnedRules)

    @activity.defn
    async def list_bases(self, req: ListBasesRequest) -> BasesPage:
        return await self._rpc.call("registry", "bases.active", req, BasesPage)

    @activity.defn
    async def set_base_status(self, req: BaseStatusRequest) -> BaseStatusResult:
        """Ask the registry to move the base's status; it answers (never fails) when the change
        is refused, e.g. a later cycle asking to bring a de-listed base back."""
        return await self._rpc.call(
            "registry",
            "bases.status",
            BaseStatusChange(
                program=req.program,
                base=req.base,
                status=req.status,
                reason=req.reason,
                year=req.year,
                at=activity.info().current_attempt_scheduled_time,
            ),
            BaseStatusResult,
        )

    @activity.defn
    async def resolve_deadline(self, req: ResolveDeadlineRequest) -> ResolvedDeadline:
        """A deadline counted as the Civil Code counts it, on the bureau's holiday table as it
        stands now. Run as a local activity: its answer is recorded, so a later table never
        changes a replay; a provisional answer is counted again when the table arrives."""
        spec = parse_timespec(req.spec)
        version = None
        days = HolidayCalendar()
        if not (isinstance(spec, Duration) and not (spec.years or spec.months or spec.days)):
            stored = await self._calendar(req.calendar)
            if stored is not None:
                days = HolidayCalendar(parse_holiday_table(stored.document))
                version = stored.version
        end = resolve_period(
            spec, anchor=req.anchor, year=req.year, tz=parse_utc_offset(req.utc_offset), days=days
        )
        if end.provisional:
            # Expected, and marked in the cycle's state and events; counted again on new data.
            activity.logger.info("deadline provisional (no holiday data): %s", req)
        return ResolvedDeadline(
            until=end.until,
            last_day=end.last_day,
            provisional=end.provisional,
            rolled_from=end.rolled_from,
            calendar_version=version,
        )

    async def _calendar(self, calendar: str) -> CalendarVersionPublic | None:
        try:
            return await self._rpc.call(
                "registry", "calendars.get", GetCalendar(calendar=calendar), CalendarVersionPublic
            )
        except RpcError as exc:
            if exc.status == 404:
                return None  # no table of that id: the package's years, then provisional
            raise

    @activity.defn
    async def open_assignments(self, req: ExpertsRequest) -> list[str]:
        """Assign the review's experts before it opens; refused with ``roster_too_short`` while
        the roster is shorter than the rubric requires, for the cycle to tell the province."""
        try:
            assigned = await self._rpc.call(
                "assessment",
                "assignments.open",
                OpenAssignments(
                    program=req.program,
                    year=req.year,
                    base=req.base,
                    round=req.round,
                    needed=req.needed,
                    due=req.due,
                ),
                Assignments,
            )
        except RpcError as exc:
            if exc.code == "roster_too_short":
                raise ApplicationError(exc.message, type=exc.code, non_retryable=True) from exc
            raise
        return assigned.experts

    @activity.defn
    async def reassign_experts(self, req: ExpertsRequest) -> list[str]:
        """Give the silent experts' places to the next on the roster. ``keep`` is everyone who
        scored; the places kept are theirs among the experts assigned now (a revocation or the
        province may have changed who is on the review since the cycle last asked)."""
        current = await self._rpc.call(
            "assessment",
            "assignments.current",
            AssignmentQuery(program=req.program, year=req.year, base=req.base),
            Assignments,
        )
        try:
            assigned = await self._rpc.call(
                "assessment",
                "assignments.reassign",
                ReassignExperts(
                    program=req.program,
                    year=req.year,
                    base=req.base,
                    round=req.round,
                    keep=[e for e in req.keep if e in current.experts],
                    reason="silent after the review's escalation / 逾期未评分",
                    by="system",
                    due=req.due,
                ),
                Assignments,
            )
        except RpcError as exc:
            raise ApplicationError(str(exc), type=exc.code, non_retryable=True) from exc
        return assigned.experts

    @activity.defn
    async def current_experts(self, req: ExpertsRequest) -> list[str]:
        """The experts on the review now, as the assessment service keeps them."""
        current = await self._rpc.call(
            "assessment",
            "assignments.current",
            AssignmentQuery(program=req.program, year=req.year, base=req.base),
            Assignments,
        )
        return current.experts if current.round == req.round else []

    @activity.defn
    async def base_status(self, req: BaseStatusRequest) -> BaseStatusResult:
        """The base's status as the registry keeps it, changing nothing."""
        base = await self._rpc.call(
            "registry", "bases.get", GetBase(program=req.program, base=req.base), BasePublic
        )
        return BaseStatusResult(status=base.status, changed=False)

    @activity.defn
    async def end_later_cycles(self, req: EndLaterCyclesRequest) -> int:
        """A de-listed base's later cycles end at once (the next two program years may be open)."""
        payload = BaseDelisted(year=req.year, reason=req.reason).model_dump(mode="json")
        ended = 0
        for year in (req.year + 1, req.year + 2):
            ended += await self._signal_each(
                SignalCyclesRequest(
                    program=req.program,
                    year=year,
                    bases=[req.base],
                    signal="base_delisted",
                    payload=payload,
                )
            )
        return ended

    @activity.defn
    async def signal_cycles(self, req: SignalCyclesRequest) -> int:
        return await self._signal_each(req)

    async def _signal_each(self, req: SignalCyclesRequest) -> int:
        """Signal each cycle (no bases: every base of the program); one that does not exist or
        has ended needs no word."""
        assert self._temporal is not None, "signalling cycles needs a Temporal client"
        bases = req.bases
        if not bases:
            bases = [str(b["id"]) for b in await all_bases(self._rpc, req.program)]
        delivered = 0
        for i, base in enumerate(bases):
            handle = self._temporal.get_workflow_handle(cycle_id(req.program, req.year, base))
            try:
                await handle.signal(req.signal, req.payload)
                delivered += 1
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            if i % 100 == 0:
                activity.heartbeat(i)
        return delivered

    @activity.defn
    async def store_results(self, req: StoreResultsRequest) -> StoredResults:
        key = results_key(req.program, req.year, req.notice.number)
        stored = await self._objects.put(key, dump_results(req.notice), "application/json")
        return StoredResults(key=stored.key, sha256=stored.sha256, size=stored.size)

    @activity.defn
    async def record_ledger(self, req: LedgerBatch) -> LedgerTally:
        """Keep a batch of the cycles' reports in the year ledger; the year's counts."""
        return await keep_batch(self._objects, req)

    @activity.defn
    async def publish_results(self, req: PublishResultsRequest) -> PublishedResults:
        """A notice built from a ledger snapshot and stored; its counts, and its entries inline
        when they are few (the program year never holds them)."""
        snapshot = await read_snapshot(self._objects, req.program, req.year, req.batch)
        entries = snapshot.entries(req.rules, req.objections, req.corrected)
        notice = fill_notice(req.notice, entries, req.corrected)
        stored = await self.store_results(
            StoreResultsRequest(program=req.program, year=req.year, notice=notice)
        )
        return PublishedResults(
            key=stored.key,
            sha256=stored.sha256,
            size=stored.size,
            counts=grade_counts(entries),
            excluded=snapshot.tally.excluded,
            entries=(
                [e.model_dump(mode="json") for e in notice.entries]
                if len(notice.entries) <= INLINE_RESULTS
                else None
            ),
        )

    @activity.defn
    async def count_grades(self, req: GradeCountsRequest) -> dict[str, int]:
        snapshot = await read_snapshot(self._objects, req.program, req.year, req.batch)
        return grade_counts(snapshot.entries(req.rules))

    @activity.defn
    async def has_published_result(self, req: PublishedEntryLookup) -> bool:
        """Whether the base stands in the stored notice with a result (not excluded)."""
        notice = ResultsNotice.model_validate_json(await self._objects.get(req.key))
        return any(e.base == req.base and e.outcome != "excluded" for e in notice.entries)

    async def _ledger_grades(
        self, program: str, year: int, batch: int, rules: ProgramRules | None
    ) -> dict[str, Grade]:
        assert rules is not None, "final grades from the ledger are ranked by the rules"
        snapshot = await read_snapshot(self._objects, program, year, batch)
        return snapshot.final_grades(rules)

    @activity.defn
    async def decide_outcomes(self, req: DecideOutcomesRequest) -> int:
        """The outcome rules applied to the year's final grades, each decision published as an
        ``outcome.decided`` event (fixed ids: a retry publishes none twice); how many there were,
        for the program year to number its next event after them."""
        if req.ledger_batch is not None:
            grades = await self._ledger_grades(req.program, req.year, req.ledger_batch, req.rules)
            req = req.model_copy(update={"grades": grades})
        events = await decided_events(self._objects, req, activity.heartbeat)
        for i, event in enumerate(events):
            await self._publisher.publish(event)
            if i % 100 == 0:
                activity.heartbeat(i)
        return len(events)

    @activity.defn
    async def store_target_actuals(self, req: StoreTargetActuals) -> ActualsByYear:
        """Keep the year's reported actuals; the earlier years' asked for, read back."""
        await store_actuals(self._objects, req.program, req.year, req.actuals)
        return ActualsByYear(years=await read_actuals(self._objects, req.program, req.earlier))

    @activity.defn
    async def read_target_actuals(self, req: ReadTargetActuals) -> ActualsByYear:
        return ActualsByYear(years=await read_actuals(self._objects, req.program, req.years))

    @activity.defn
    async def launch_program_year(self, req: LaunchRequest) -> LaunchResult:
        assert self._temporal is not None and req.at is not None
        pinned = await self._rpc.call(
            "registry", "rules.current", GetProgram(program=req.program), PinnedRules
        )
        year = req.at.astimezone(parse_utc_offset(pinned.rules.calendar.utc_offset)).year
        await self._within_year_size(req.program)
        status = await start_program_year(
            self._temporal,
            program=req.program,
            year=year,
            task_queue=activity.info().task_queue,
            search_attributes=req.search_attributes,
        )
        return LaunchResult(
            workflow_id=program_year_id(req.program, year), year=year, status=status
        )

    async def _within_year_size(self, program: str) -> None:
        """The Schedule's launch keeps the bound the API's does: no program year opens over
        ``max_bases_per_year`` active bases (it fails, not retried, with program_too_large)."""
        limit = self._max_bases_per_year
        if limit is None:
            return
        ask = ListBasesRequest(program=program, limit=1, count=True)
        page = await self._rpc.call("registry", "bases.active", ask, BasesPage)
        problem = too_large(page.total or 0, limit)
        if problem is not None:
            raise ApplicationError(
                problem,
                {"size": page.total, "limit": limit},
                type=PROGRAM_TOO_LARGE,
                non_retryable=True,
            )

    @activity.defn
    async def open_cycles(self, req: OpenCyclesRequest) -> int:
        """Start one AnnualCycleWorkflow per base; a cycle that exists already is left alone.

        Cycles start from here rather than as child workflows, so a 10,000-base year adds one
        activity per batch to the program year's history instead of thousands of child events,
        and never meets the limit on pending children.
        """
        from workflows.cycle import AnnualCycleWorkflow

        assert self._temporal is not None, "open_cycles needs a Temporal client"
        task_queue = activity.info().task_queue
        started = 0
        for i, base in enumerate(req.bases):
            attrs = None
            if req.search_attributes:
                attrs = TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.PROGRAM, req.program),
                        SearchAttributePair(sa.YEAR, req.year),
                        SearchAttributePair(sa.BASE, base.id),
                        SearchAttributePair(sa.REGION, base.region),
                        SearchAttributePair(sa.STAGE, "plan_filing"),
                    ]
                )
            try:
                await self._temporal.start_workflow(
                    AnnualCycleWorkflow.run,
                    CycleInput(
                        program=req.program,
                        year=req.year,
                        base=base,
                        rules=_pinned(req.rules, base),
                        chain=kind_chain(req.rules, standing_kind(req.rules, base.kind or None)),
                        rules_version=req.rules_version,
                        launched_at=req.launched_at,
                        parent_id=req.parent_id,
                        parent_secret=req.parent_secret,
                        arrival_max_skew_s=self._arrival_max_skew_s,
                    ),
                    id=cycle_id(req.program, req.year, base.id),
                    task_queue=task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=attrs,
                )
                started += 1
            except WorkflowAlreadyStartedError:
                pass  # a retried batch: the cycle is already open
            if i % 50 == 0:
                activity.heartbeat(i)
        return started

    @activity.defn
    async def finalize_cycles(self, req: FinalizeCyclesRequest) -> int:
        """Tell each cycle its final grade. Signals go from here, not from the workflow, so the
        program year's history stays bounded however many bases there are."""
        assert self._temporal is not None, "finalize_cycles needs a Temporal client"
        grades = req.grades
        if req.ledger_batch is not None:
            grades = await self._ledger_grades(req.program, req.year, req.ledger_batch, req.rules)
        delivered = 0
        for i, (base, grade) in enumerate(sorted(grades.items())):
            handle = self._temporal.get_workflow_handle(cycle_id(req.program, req.year, base))
            try:
                await handle.signal(
                    "finalize",
                    FinalGrade(grade=grade, finalized_at=req.finalized_at, secret=req.secret),
                )
                delivered += 1
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            if i % 100 == 0:
                activity.heartbeat(i)
        return delivered
