"""Composition root of the workflow worker process."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.worker import Worker

from shared.clients import connect_nats, object_store
from shared.logging import get_logger
from shared.publisher import EventPublisher
from shared.rpc import RpcClient
from shared.settings import WORKER_CACHED_WORKFLOWS, Settings
from shared.stream import ensure_events_stream
from shared.temporal import connect_temporal
from workflows.activities import CycleActivities
from workflows.build import build_id, deployment_config
from workflows.registry import WORKFLOWS, activity_methods

log = get_logger("worker")


def build_worker(
    client: Client,
    task_queue: str,
    activities: CycleActivities,
    *,
    workflows: Sequence[type] = WORKFLOWS,
    max_cached_workflows: int = WORKER_CACHED_WORKFLOWS,
) -> Worker:
    """The worker of this build. ``workflows`` is for upgrade tests only (another release's
    workflow classes); ``max_cached_workflows`` is the setting ``worker_cached_workflows`` (0 in
    a test: a worker that replays each cycle from its history)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows),
        activities=activity_methods(activities),
        max_concurrent_activities=200,
        max_cached_workflows=max_cached_workflows,
        deployment_config=deployment_config(),
    )


async def serve(settings: Settings) -> None:
    nc = await connect_nats(settings, "worker")
    js = nc.jetstream()
    await ensure_events_stream(js, settings.event_duplicate_window_s, settings.stream_replicas)
    client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
    activities = CycleActivities(
        EventPublisher(js),
        RpcClient(nc, settings.rpc_timeout_s),
        object_store(settings),
        client,
        arrival_max_skew_s=int(settings.arrival_max_skew_s),
        max_bases_per_year=settings.max_bases_per_year,
    )
    log.info("worker.started", task_queue=settings.task_queue, build_id=build_id())
    try:
        await build_worker(
            client,
            settings.task_queue,
            activities,
            max_cached_workflows=settings.worker_cached_workflows,
        ).run()
    finally:
        await nc.drain()
