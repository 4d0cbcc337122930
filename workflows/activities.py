"""Activities: thin adapters from workflows to NATS, services, object storage and Temporal.

They hold injected clients (built by the worker's composition root) and are idempotent, because
Temporal retries them and a reset re-runs them.
"""

from __future__ import annotations

import json

from temporalio import activity
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts.registry import PinnedRules
from shared.domain.timespec import parse_utc_offset
from shared.domain.workdays import add_working_days
from shared.objectstore import ObjectStore
from shared.publisher import EventPublisher
from shared.rpc import Empty, RpcClient
from workflows import search_attributes as sa
from workflows.ids import cycle_id, program_year_id
from workflows.models import (
    BasesPage,
    BaseStatusRequest,
    CycleInput,
    DocumentRecord,
    FinalGrade,
    FinalizeCyclesRequest,
    LaunchRequest,
    LaunchResult,
    ListBasesRequest,
    OpenCyclesRequest,
    PublishRequest,
    RulesRequest,
    StoredResults,
    StoreResultsRequest,
    WorkingDaysRequest,
    WorkingDaysResult,
)
from workflows.starters import start_program_year


class CycleActivities:
    def __init__(
        self,
        publisher: EventPublisher,
        rpc: RpcClient,
        objects: ObjectStore,
        temporal: Client | None = None,
    ) -> None:
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
    async def load_rules(self, req: RulesRequest) -> PinnedRules:
        return await self._rpc.call("registry", "rules.current", req, PinnedRules)

    @activity.defn
    async def list_bases(self, req: ListBasesRequest) -> BasesPage:
        return await self._rpc.call("registry", "bases.active", req, BasesPage)

    @activity.defn
    async def set_base_status(self, req: BaseStatusRequest) -> None:
        await self._rpc.call("registry", "bases.status", req, Empty)

    @activity.defn
    async def add_working_days(self, req: WorkingDaysRequest) -> WorkingDaysResult:
        end = add_working_days(req.start, req.count, parse_utc_offset(req.utc_offset))
        if not end.holidays_known:
            activity.logger.warning("working days counted without holiday data: %s", req)
        return WorkingDaysResult(until=end.until, holidays_known=end.holidays_known)

    @activity.defn
    async def store_results(self, req: StoreResultsRequest) -> StoredResults:
        data = json.dumps(req.entries, ensure_ascii=False, sort_keys=True).encode()
        key = f"results/{req.program}/{req.year}/results.json"
        stored = await self._objects.put(key, data, "application/json")
        return StoredResults(key=stored.key, sha256=stored.sha256, size=stored.size)

    @activity.defn
    async def launch_program_year(self, req: LaunchRequest) -> LaunchResult:
        assert self._temporal is not None and req.at is not None
        pinned = await self._rpc.call(
            "registry", "rules.current", RulesRequest(program=req.program), PinnedRules
        )
        year = req.at.astimezone(parse_utc_offset(pinned.rules.calendar.utc_offset)).year
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
                        rules=req.rules,
                        rules_version=req.rules_version,
                        launched_at=req.launched_at,
                        parent_id=req.parent_id,
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
        delivered = 0
        for i, (base, grade) in enumerate(sorted(req.grades.items())):
            handle = self._temporal.get_workflow_handle(cycle_id(req.program, req.year, base))
            try:
                await handle.signal(
                    "finalize", FinalGrade(grade=grade, finalized_at=req.finalized_at)
                )
                delivered += 1
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            if i % 100 == 0:
                activity.heartbeat(i)
        return delivered
