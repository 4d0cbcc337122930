"""navcycle on a three-node NATS JetStream cluster with two workers: a small real-time year in
which the stream's leader node and one worker are killed (SIGKILL) midway, and nothing is lost.

The test starts its own cluster: three ``nats-server`` processes on free ports, each with its
own store directory, routes to the other two and the stream replicated three ways
(``NAVCYCLE_STREAM_REPLICAS=3``). ``navcycle up`` cannot run on it (it reads one NATS address,
and it stops everything when one child dies), so the parts are started one by one through
``shared.supervisor`` as ``up`` starts them, with a second worker on the same task queue.

Six bases play the year through the gateway (``services.sim.people`` over ``HttpChannel``);
once every plan is accepted, the node leading ``NAVCYCLE_EVENTS`` and one worker are killed and
the self-evaluations are filed on what is left; the node comes back after the reports. Then:
every cycle and the program year completed, each cycle's events are on the log once with gap-free
sequences, the dashboard's counts are what the log says, and the stream is R3 with a leader.
This is the cluster check that deploy/README.md names.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import StreamInfo

from services.sim.people import Cast, HttpChannel, People
from shared.binaries import find_binary
from shared.contracts.cycle import Actor
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.domain.rules import ProgramRules, load_rules_file
from shared.embedded import temporal_dev_server_argv
from shared.eventlog import read_events
from shared.events.envelope import CloudEvent, event_id
from shared.events.subjects import PROGRAM_WIDE, event_filter
from shared.events.types import EventType
from shared.retrying import retrying
from shared.settings import DEPLOY_DIR, Settings
from shared.stream import EVENTS_STREAM, ensure_events_stream
from shared.supervisor import Supervisor, answers
from shared.temporal import connect_temporal
from tests.faults.people import UNAVAILABLE_CODES, GatewayLog, GatewayPerson
from tests.helpers import until
from tests.servers import free_port
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow

# A real-time year of about three minutes, and the stack's start: well under ten minutes.
pytestmark = pytest.mark.timeout(900)

PROGRAM, YEAR, REGION = "cluster-year", 2079, "410100"
BASES = [f"cl-{n}" for n in range(1, 7)]
SCORES = {b: (70.0 if b == BASES[-1] else 90.0) for b in BASES}  # one pass, the rest excellent
NODES = ("n1", "n2", "n3")
SERVICES = [
    "registry",
    "filings",
    "assessment",
    "notifier",
    "dashboard",
    "worker",
    "worker-2",  # the second worker: the same `navcycle serve worker`, the same task queue
    "gateway",
]
EXPERT = "cluster-expert"
# What the expert is answered before the assessment service has assigned it the review.
WORKFLOWS_SOURCE = "navcycle/workflows"  # the source of every event a workflow publishes
NOT_YET = frozenset({"forbidden", "base_not_found", "cycle_not_found"})
REACT_S = 10.0  # time a replica set is given to see a dead peer, and a new node to catch up


def cluster_rules() -> dict[str, Any]:
    """The demo-fast preset under the test's own id, with windows a loaded two-core machine
    meets even while a node and a worker are down."""
    doc = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    doc["id"] = PROGRAM
    doc["calendar"].update(
        plan_window="PT75S",
        plan_review_window="PT45S",
        self_evaluation_due="PT120S",
        review_window="PT60S",
        rectification_period="PT60S",
        publication_period="PT10S",
    )
    return doc


# ---------------------------------------------------------------------- the stack


@dataclass
class Node:
    name: str
    port: int = field(default_factory=free_port)
    route_port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


@dataclass
class ClusterStack:
    root: Path
    nodes: dict[str, Node] = field(default_factory=lambda: {n: Node(n) for n in NODES})
    temporal_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.root / "logs")

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def nats_url(self) -> str:
        """All three servers, as NAVCYCLE_NATS_URL lists a cluster."""
        return ",".join(node.url for node in self.nodes.values())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NAVCYCLE_")}
        env.update(
            NAVCYCLE_STATE_DIR=str(self.state_dir),
            NAVCYCLE_TEMPORAL_ADDRESS=f"127.0.0.1:{self.temporal_port}",
            NAVCYCLE_NATS_URL=self.nats_url,
            NAVCYCLE_STREAM_REPLICAS="3",
            NAVCYCLE_HTTP_PORT=str(self.http_port),
            NAVCYCLE_LOG_FORMAT="json",
        )
        return env

    def settings(self) -> Settings:
        return Settings(
            state_dir=self.state_dir,
            temporal_address=f"127.0.0.1:{self.temporal_port}",
            nats_url=self.nats_url,
            stream_replicas=3,
            http_port=self.http_port,
        )

    def start_node(self, name: str) -> None:
        """One JetStream server of the cluster, on its own store directory (the same one when
        it is started again)."""
        node = self.nodes[name]
        routes = ",".join(
            f"nats://127.0.0.1:{other.route_port}" for other in self.nodes.values() if other != node
        )
        argv = [
            find_binary("nats-server"),
            "-js",
            "--server_name",
            name,
            "-a",
            "127.0.0.1",
            "-p",
            str(node.port),
            "-m",
            str(node.monitor_port),
            "-sd",
            str(self.root / "nats" / name),
            "--cluster_name",
            "navcycle-test",
            "--cluster",
            f"nats://127.0.0.1:{node.route_port}",
            "--routes",
            routes,
        ]
        self.supervisor.start(f"nats-{name}", argv, self.env)
        self.supervisor.wait_ready_blocking(
            f"nats-server {name}", lambda: answers("127.0.0.1", node.port), 30
        )

    def start_temporal(self) -> None:
        argv = temporal_dev_server_argv(
            "127.0.0.1", self.temporal_port, self.state_dir / "temporal.db"
        )
        self.supervisor.start("temporal", argv, self.env)
        self.supervisor.wait_ready_blocking(
            "Temporal", lambda: answers("127.0.0.1", self.temporal_port), 90
        )

    def start_service(self, name: str) -> None:
        service = name.split("-")[0]
        argv = [sys.executable, "-m", "services.cli.main", "serve", service]
        self.supervisor.start(name, argv, self.env)

    def kill(self, name: str) -> int | None:
        return self.supervisor.kill(name)

    async def connect(self) -> NatsClient:
        """The test's own client: every server listed, reconnecting to another on failure."""
        return await nats.connect(
            servers=[n.url for n in self.nodes.values()],
            name="cluster-test",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
        )

    async def jsz(self, name: str) -> dict[str, Any]:
        """The node's JetStream report from its monitoring port (its meta cluster's leader)."""
        async with httpx.AsyncClient(timeout=5) as http:
            resp = await http.get(f"http://127.0.0.1:{self.nodes[name].monitor_port}/jsz")
            return dict(resp.json())

    async def health(self) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                return dict((await http.get(f"{self.url}/healthz")).json())
        except (httpx.HTTPError, ValueError):
            return {"status": "unreachable", "components": {}}

    async def up(self) -> StreamInfo:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for name in NODES:
            self.start_node(name)
        # The stream is made once JetStream has a meta leader (until then a create is refused
        # or times out); the services then find it R3 and leave it as it is.
        settings = self.settings()
        nc = await self.connect()
        try:
            js = nc.jetstream()
            await retrying(on=nats.errors.Error, seconds=60, step=0.5, growing=False)(
                ensure_events_stream, js, settings.event_duplicate_window_s, 3
            )
            info = await js.stream_info(EVENTS_STREAM)
        finally:
            await nc.close()
        self.start_temporal()
        for name in SERVICES:
            self.start_service(name)

        async def healthy() -> bool:
            body = await self.health()
            worker = (body.get("components") or {}).get("worker") or {}
            return body.get("status") == "ok" and worker.get("pollers") == 2

        await self.supervisor.wait_ready("the stack's /healthz with two workers", healthy, 180)
        return info

    def stop_all(self) -> None:
        """The gateway and the services first, then Temporal, the NATS servers last."""
        order = [*reversed(SERVICES), "temporal", *(f"nats-{n}" for n in NODES)]
        for name in sorted(self.supervisor.processes, key=order.index):
            self.supervisor.stop(name, timeout=20)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[ClusterStack]:
    stack = ClusterStack(tmp_path)
    try:
        yield stack
    finally:
        failed = stack.supervisor.exited(tail=20)
        stack.stop_all()
        if failed:
            print("exited early:\n" + "\n".join(failed), file=sys.stderr)


def dump_logs(stack: ClusterStack) -> None:
    print(f"cluster stack logs in {stack.root / 'logs'}", file=sys.stderr)
    for name in list(stack.supervisor.processes):
        print(f"--- {name}\n{stack.supervisor.tail(name, 30)}", file=sys.stderr)


# ---------------------------------------------------------------------- the year's people


async def user(stack: ClusterStack, name: str, role: str, **scope: str) -> str:
    """`navcycle user add`, as an operator runs it; the token."""
    argv = ["-m", "services.cli.main", "user", "add", "--name", name, "--role", role]
    for key, value in scope.items():
        argv += [f"--{key}", value]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        env=stack.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode().strip().splitlines()[-1]


@dataclass
class Year:
    http: httpx.AsyncClient
    tokens: dict[str, str]
    log: GatewayLog = field(default_factory=GatewayLog)
    planned: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)
    all_planned: asyncio.Event = field(default_factory=asyncio.Event)
    all_reported: asyncio.Event = field(default_factory=asyncio.Event)
    outage: asyncio.Event = field(default_factory=asyncio.Event)
    faults: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def person(self, name: str) -> GatewayPerson:
        return GatewayPerson(self.http, self.tokens[name], self.log)

    @staticmethod
    def path(base: str) -> str:
        return f"/v1/programs/{PROGRAM}/years/{YEAR}/bases/{base}"

    def speaker(self, actor: Actor) -> GatewayPerson:
        by_role = {"city_officer": "city", "province_admin": "admin", "expert": EXPERT}
        return self.person(
            f"base-{actor.base}" if actor.role == "base_user" else by_role[actor.role]
        )

    @property
    def people(self) -> People:
        channel = HttpChannel(self.path, self.speaker, experts=[EXPERT])
        return People(channel, ProgramRules.model_validate(cluster_rules()), Cast(region=REGION))

    def at(self) -> float:
        return round(time.monotonic() - self.started, 1)


async def base_year(year: Year, base: str) -> None:
    """One base's year through the gateway: its plan approved by the city and the province,
    its self-evaluation (filed while a node and a worker are down), the expert's scores."""
    people, me = year.people, year.person(f"base-{base}")
    await me.call("GET", year.path(base), expect=200, also_wait_for=frozenset({"cycle_not_found"}))
    await people.plan(base)
    year.planned.add(base)
    if year.planned >= set(BASES):
        year.all_planned.set()
    await year.outage.wait()
    await people.report(base)
    year.reported.add(base)
    if year.reported >= set(BASES):
        year.all_reported.set()
    expert = year.person(EXPERT)
    # The review opens when the reports are due (two minutes), with the expert assigned.
    await until(
        lambda: expert.call("GET", year.path(base), expect=200, also_wait_for=NOT_YET),
        lambda state: state["stage"] == "under_review",
        f"{base} under review",
        limit_s=300,
        every=1.0,
    )
    await people.score(base, SCORES[base])


async def stream_leader(js: Any, not_: str | None = None) -> StreamInfo:
    """The stream's info once it names a leader (other than ``not_``)."""

    async def look() -> StreamInfo | None:
        info: StreamInfo = await js.stream_info(EVENTS_STREAM)
        leader = info.cluster.leader if info.cluster else None
        return info if leader and leader != not_ else None

    found: StreamInfo = await until(
        look, what="a stream leader", limit_s=60, every=0.2, ignoring=nats.errors.Error
    )
    return found


async def faults(stack: ClusterStack, year: Year, nc: NatsClient) -> None:
    """Once every plan is accepted: SIGKILL to the stream's leader node and to one worker; the
    node started again once every report is in."""
    js = nc.jetstream()
    await year.all_planned.wait()
    before = await stream_leader(js)
    assert before.cluster is not None
    leader = before.cluster.leader or ""
    record = year.faults
    record["killed_node"] = leader
    record["seq_at_kill"] = before.state.last_seq
    record["node_exit"] = await asyncio.to_thread(stack.kill, f"nats-{leader}")
    record["worker_pids"] = [stack.supervisor.pid("worker"), stack.supervisor.pid("worker-2")]
    record["worker_exit"] = await asyncio.to_thread(stack.kill, "worker")
    record["killed_at"] = datetime.now(UTC).isoformat()
    killed_at = time.monotonic()
    record["killed_at_s"] = year.at()
    year.outage.set()
    after = await stream_leader(js, not_=leader)
    assert after.cluster is not None
    record["new_leader"] = after.cluster.leader
    record["new_leader_after_s"] = round(time.monotonic() - killed_at, 1)
    survivors = [n for n in NODES if n != leader]

    async def meta_leaders() -> list[Any] | None:
        """What each surviving node names as JetStream's meta leader, once both name one of
        them (a node that led the meta group too is replaced by an election)."""
        seen = [((await stack.jsz(n)).get("meta_cluster") or {}).get("leader") for n in survivors]
        return seen if all(m in survivors for m in seen) else None

    record["meta_leaders"] = await until(
        meta_leaders,
        what="a meta leader among the survivors",
        limit_s=60,
        every=0.5,
        ignoring=httpx.HTTPError,
    )
    record["meta_leader_after_s"] = round(time.monotonic() - killed_at, 1)
    await year.all_reported.wait()
    await asyncio.sleep(REACT_S)
    await asyncio.to_thread(stack.start_node, leader)
    record["node_back_at_s"] = year.at()

    async def caught_up() -> StreamInfo | None:
        info: StreamInfo = await js.stream_info(EVENTS_STREAM)
        replicas = (info.cluster.replicas or []) if info.cluster else []
        names = {r.name for r in replicas} | {info.cluster.leader if info.cluster else None}
        ok = set(NODES) <= names and all(r.current for r in replicas)
        return info if ok else None

    await until(
        caught_up,
        what="the restarted node current",
        limit_s=90,
        every=0.5,
        ignoring=nats.errors.Error,
    )
    record["node_current_at_s"] = year.at()


def task_takers(events: Any) -> list[tuple[datetime, str]]:
    """When each workflow or activity task of a history was taken, and by which worker (its
    identity, ``pid@host``)."""
    found = []
    for event in events:
        for kind in (
            "workflow_task_started_event_attributes",
            "activity_task_started_event_attributes",
        ):
            if event.HasField(kind):
                when = event.event_time.ToDatetime(tzinfo=UTC)
                found.append((when, getattr(event, kind).identity))
    return found


async def lead(nc: NatsClient, node: str) -> None:
    """``node`` made the stream's leader: the leader steps down with ``node`` preferred."""

    async def leads() -> bool:
        info = await nc.jetstream().stream_info(EVENTS_STREAM)
        if info.cluster and info.cluster.leader == node:
            return True
        ask = json.dumps({"placement": {"preferred": node}}).encode()
        await nc.request(f"$JS.API.STREAM.LEADER.STEPDOWN.{EVENTS_STREAM}", ask, timeout=5)
        return False

    await until(
        leads, what=f"{node} leading the stream", limit_s=60, every=1.0, ignoring=nats.errors.Error
    )


# ---------------------------------------------------------------------- the test


async def test_a_year_on_a_three_node_cluster_with_two_workers_loses_nothing(
    cluster: ClusterStack,
) -> None:
    stack = cluster
    try:
        created = await stack.up()
    except BaseException:
        dump_logs(stack)
        raise
    assert created.config.num_replicas == 3
    nc = await stack.connect()
    temporal = await connect_temporal(f"127.0.0.1:{stack.temporal_port}")
    try:
        names = {
            "admin": ("province_admin", {"program": PROGRAM}),
            "city": ("city_officer", {"region": REGION, "program": PROGRAM}),
            EXPERT: ("expert", {"program": PROGRAM}),
            **{f"base-{b}": ("base_user", {"program": PROGRAM, "base": b}) for b in BASES},
        }
        tokens = {}
        for name, (role, scope) in names.items():
            tokens[name] = await user(stack, name, role, **scope)
        async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
            year = Year(http, tokens)
            admin = year.person("admin")
            await admin.call("PUT", f"/v1/programs/{PROGRAM}", expect=200, json=cluster_rules())
            for b in BASES:
                body = {
                    "id": b,
                    "name": f"集群演练基地 {b}",
                    "region": REGION,
                    "domain": "新材料",
                    "host_type": "园区",
                    "staff": {"total": 12, "senior_full_time": 4},
                    "pct_minimum_data": True,
                }
                await admin.call("POST", f"/v1/programs/{PROGRAM}/bases", expect=201, json=body)
            await admin.call("POST", f"/v1/programs/{PROGRAM}/years/{YEAR}/launch", expect=202)
            year.started = time.monotonic()
            try:
                async with asyncio.TaskGroup() as group:
                    for b in BASES:
                        group.create_task(base_year(year, b))
                    group.create_task(faults(stack, year, nc))
                finals = await asyncio.wait_for(
                    asyncio.gather(
                        *(
                            temporal.get_workflow_handle_for(
                                AnnualCycleWorkflow.run, cycle_id(PROGRAM, YEAR, b)
                            ).result()
                            for b in BASES
                        )
                    ),
                    240,
                )
                program_year = await asyncio.wait_for(
                    temporal.get_workflow_handle_for(
                        ProgramYearWorkflow.run, program_year_id(PROGRAM, YEAR)
                    ).result(),
                    180,
                )
            except BaseException:
                print(json.dumps(year.faults), file=sys.stderr)
                dump_logs(stack)
                raise
            year.faults["year_ended_at_s"] = year.at()
            print(f"cluster year: {json.dumps(year.faults)}", file=sys.stderr)

            # Every cycle reached its end, and the program year was finalized.
            assert all(f.stage.value == "closed" for f in finals), [f.stage for f in finals]
            assert program_year.phase == "done" and program_year.opened == len(BASES)

            # The faults happened as planned: a new stream leader on another node.
            assert year.faults["new_leader"] not in (None, year.faults["killed_node"])
            assert year.faults["worker_exit"] == -signal.SIGKILL
            assert year.faults["node_exit"] == -signal.SIGKILL

            # Both workers took the year's tasks; after the kill only the second one did.
            pids = year.faults["worker_pids"]
            killed_at = datetime.fromisoformat(year.faults["killed_at"])
            tasks: Counter[tuple[str, bool]] = Counter()
            for workflow in [
                program_year_id(PROGRAM, YEAR),
                *(cycle_id(PROGRAM, YEAR, b) for b in BASES),
            ]:
                history = await temporal.get_workflow_handle(workflow).fetch_history()
                for when, identity in task_takers(history.events):
                    tasks[(identity.split("@")[0], when > killed_at)] += 1
            year.faults["tasks_by_worker_pid_after_kill"] = {
                f"{k[0]} {k[1]}": n for k, n in tasks.items()
            }
            print(f"tasks taken: {year.faults['tasks_by_worker_pid_after_kill']}", file=sys.stderr)
            assert {pid for pid, _ in tasks} <= {str(p) for p in pids}
            assert tasks[(str(pids[1]), True)] > 0
            assert tasks[(str(pids[0]), True)] == 0

            # Each cycle's events are on the log once, in a gap-free sequence, each published
            # by its cycle's one run at its own position.
            js = nc.jetstream()
            events = await read_events(js, event_filter(PROGRAM, YEAR))
            assert len({e.id for _, e in events}) == len(events), "an event id stored twice"
            # The workflows' events (a cycle's, the program year's) carry their stream's
            # sequence; the assessment service's expert.assigned is an event of its own.
            by_base: dict[str, list[CloudEvent]] = defaultdict(list)
            others: Counter[tuple[str, str]] = Counter()
            for _, event in events:
                if event.source == WORKFLOWS_SOURCE:
                    by_base[event.base].append(event)
                else:
                    others[(event.base, event.type)] += 1
            assert set(by_base) == {*BASES, PROGRAM_WIDE}
            assigned = EventType.EXPERT_ASSIGNED.cloudevents_type
            assert others == Counter({(b, assigned): 1 for b in BASES}), others
            problems = []
            for base, own in sorted(by_base.items()):
                sequences = sorted(e.sequence for e in own)
                if sequences != list(range(1, len(own) + 1)):
                    problems.append(f"{base}: sequences {sequences}")
                if base == PROGRAM_WIDE:
                    continue
                workflow = cycle_id(PROGRAM, YEAR, base)
                run = (await temporal.get_workflow_handle(workflow).describe()).run_id
                key = f"{workflow}@{run}"
                strays = [e.type for e in own if e.id != event_id(key, e.sequence, e.event_type)]
                if strays:
                    problems.append(f"{base}: events from another run or position: {strays}")
                once = Counter(e.event_type for e in own)
                for kind in (
                    EventType.CYCLE_OPENED,
                    EventType.PLAN_FILED,
                    EventType.PLAN_ACCEPTED,
                    EventType.SELFEVAL_FILED,
                    EventType.REVIEW_GRADED,
                    EventType.CYCLE_CLOSED,
                ):
                    if once[kind] != 1:
                        problems.append(f"{base}: {once[kind]} × {kind}")
            assert problems == [], problems

            # The dashboard's counts are what the log says, once it has read the whole log.
            closed = {e.base: e for _, e in events if e.event_type == EventType.CYCLE_CLOSED}
            log_grades = Counter(e.data.get("grade") for e in closed.values())
            assert log_grades == Counter(
                "excellent" if s >= 85 else "pass" for s in SCORES.values()
            )
            last_seq = max(seq for seq, _ in events)
            counts = await until(
                lambda: admin.call(
                    "GET", f"/v1/programs/{PROGRAM}/years/{YEAR}/dashboard", expect=200
                ),
                lambda counts: counts["stream_seq"] >= last_seq,
                f"the dashboard read to {last_seq}",
                every=0.5,
            )
            assert counts["bases"] == len(BASES)
            assert counts["by_stage"] == {"closed": len(closed)} and len(closed) == len(BASES)
            assert counts["by_grade"] == dict(log_grades)
            rows = await admin.call(
                "GET", f"/v1/programs/{PROGRAM}/years/{YEAR}/dashboard/cycles", expect=200
            )
            shown = {r["base"]: (r["stage"], r["grade"]) for r in rows["cycles"]}
            assert shown == {b: ("closed", closed[b].data.get("grade")) for b in BASES}

            # The stream is still R3, led by a node, every replica current after the restart.
            info = await js.stream_info(EVENTS_STREAM)
            assert info.config.num_replicas == 3
            assert info.cluster is not None and info.cluster.leader in NODES
            assert len(info.cluster.replicas or []) == 2
            assert all(r.current for r in info.cluster.replicas or [])
            assert len(set(year.faults["meta_leaders"])) == 1  # one leader, agreed on

            # The node that was killed, made the stream's leader, serves the same log.
            returned = year.faults["killed_node"]
            await lead(nc, returned)
            again = await read_events(js, event_filter(PROGRAM, YEAR))
            assert [(seq, e.id) for seq, e in again] == [(seq, e.id) for seq, e in events]

            # What people met while the node and the worker were down: waits, never an error.
            seen = Counter((a.status, a.code) for a in year.log.refusals)
            print(f"the gateway answered: {dict(seen)}", file=sys.stderr)
            assert all(
                a.status == 202
                or (a.status == 503 and a.code in UNAVAILABLE_CODES)
                or a.code in NOT_YET
                for a in year.log.refusals
            ), seen
    finally:
        await nc.close()
