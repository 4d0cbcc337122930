"""A 200-base program year played in real time on a :class:`FaultStack`, with a fault injected
at each of its phases, and a written record of what each fault did and what people saw.

The faults, in the order the year meets them:
  plans 25%    the object store goes away (12-60 s); a gateway base files its plan then
  plans 60%    every database connection of the stack is terminated, five times in 5 s
  reports 25%  the worker is killed with SIGKILL, and started again
  reports 60%  nats-server is restarted on the same port and store directory
  reports 85%  every event of the year so far is published again under new message ids
  scores 50%   every database connection is terminated again, five times
After the year, the consumers lose their durable state (redelivery from sequence 1) and the
whole year is published again (see :func:`deliver_again`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import StreamInfo
from nats.js.errors import NotFoundError
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from services.gateway.identity.tokens import Principal, add_user
from services.sim.people import TARGETS, Cast, HttpChannel, People, document
from services.sim.play import CITIES, RealClock, YearSummary, play_year
from shared.clients import connect_nats, object_store
from shared.contracts.assessment import AddExpert
from shared.contracts.cycle import Actor
from shared.contracts.filings import DocumentList, ListDocuments
from shared.contracts.registry import (
    ApplyRules,
    BasePublic,
    BaseRegistration,
    RegisterBase,
    RulesApplied,
)
from shared.db import make_engine
from shared.domain.rules import ProgramRules, load_rules_file
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.rpc import Empty, RpcClient
from shared.settings import DEPLOY_DIR
from shared.starters import start_program_year
from shared.stream import EVENTS_STREAM
from tests.faults.people import GatewayLog, GatewayPerson, Patience, PatientObjects, PatientQueries
from tests.faults.stack import FaultStack, terminate_connections
from tests.helpers import until

PROGRAM = "faults-year"
YEAR = 2077
REGION = "410100"
CONSUMERS = ("dashboard", "notifier", "assessment")
S3_OUTAGE_S = 12.0
S3_OUTAGE_LATEST_S = 90.0  # after the launch; the plan window is 210 s


def faulty_rules() -> ProgramRules:
    """demo-fast under another id, with windows long enough for 200 bases on two busy cores.

    Measured here while other benchmarks ran: opening 200 cycles took up to 70 s, the plans
    (some 600 updates, 16 at a time) up to 140 s, and the scores 45 s after a 30 s sweep of
    queries; the play orders rectifications only after every score, so the rectification
    period must outlast scoring (45 s was too short once)."""
    document = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    document["id"] = PROGRAM
    document["calendar"].update(
        plan_window="PT210S",
        plan_review_window="PT90S",
        self_evaluation_due="PT330S",
        review_window="PT90S",
        rectification_period="PT120S",
        publication_period="PT10S",
        reminders=["PT10S"],
    )
    return ProgramRules.model_validate(document)


@dataclass
class FaultRecord:
    name: str
    when: str
    started: float | None = None
    ended: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def injected(self) -> bool:
        return self.started is not None and self.ended is not None


@dataclass
class FaultyYear:
    program: str
    year: int
    rules: ProgramRules
    sim_bases: list[str]
    gateway_bases: list[str]
    tokens: dict[str, str]
    faults: dict[str, FaultRecord] = field(default_factory=dict)
    patience: Patience = field(default_factory=Patience)
    gateway: GatewayLog = field(default_factory=GatewayLog)
    injected_seqs: set[int] = field(default_factory=set)
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)
    summary: YearSummary | None = None
    started: float = field(default_factory=time.monotonic)
    elapsed_s: float = 0.0
    after_year: dict[str, Any] = field(default_factory=dict)

    @property
    def bases(self) -> list[str]:
        return sorted(self.sim_bases + self.gateway_bases)

    def fault(self, name: str, when: str) -> FaultRecord:
        self.faults[name] = FaultRecord(name, when)
        return self.faults[name]


class Director:
    """Turns the play's progress into cues: ``await cue("reports", 0.6)``."""

    def __init__(self) -> None:
        self._cues: list[tuple[str, float, asyncio.Event]] = []
        self.seen: dict[str, tuple[int, int]] = {}
        self.times: dict[str, tuple[float, float]] = {}

    def progress(self, phase: str, done: int, total: int) -> None:
        self.seen[phase] = (done, total)
        now = time.monotonic()
        self.times[phase] = (self.times.get(phase, (now, now))[0], now)
        for cue_phase, share, event in self._cues:
            if cue_phase == phase and done >= share * total:
                event.set()

    def cue(self, phase: str, share: float) -> asyncio.Event:
        event = asyncio.Event()
        self._cues.append((phase, share, event))
        done, total = self.seen.get(phase, (0, 0))
        if total and done >= share * total:
            event.set()
        return event


# ---------------------------------------------------------------------- the stage is set


async def register(rpc: RpcClient, rules: ProgramRules, names: list[str]) -> None:
    await rpc.call(
        "registry",
        "rules.apply",
        ApplyRules(document=rules.model_dump(mode="json", by_alias=True)),
        RulesApplied,
    )
    for n, name in enumerate(names):
        region = REGION if name.startswith("gw-") else CITIES[n % len(CITIES)]
        registration = BaseRegistration(
            id=name,
            name=f"故障演练基地 {name}",
            region=region,
            domain="新材料",
            host_type="园区",
            staff={"total": 12, "senior_full_time": 4},  # type: ignore[arg-type]
            pct_minimum_data=True,
        )
        await rpc.call(
            "registry",
            "bases.register",
            RegisterBase(program=rules.id, registration=registration),
            BasePublic,
        )


async def make_users(stack: FaultStack, rpc: RpcClient, gateway_bases: list[str]) -> dict[str, str]:
    """Users made as ``navcycle user add`` makes them (the same functions, in-process)."""
    engine = make_engine(stack.database_url)
    people = [
        Principal(name="fault-admin", role="province_admin", program=PROGRAM),
        Principal(name="fault-city", role="city_officer", program=PROGRAM, region=REGION),
        Principal(name="fault-expert", role="expert", program=PROGRAM),
        Principal(name="fault-viewer", role="viewer", program=PROGRAM),
        *[
            Principal(name=f"user-{b}", role="base_user", program=PROGRAM, base=b)
            for b in gateway_bases
        ],
    ]
    tokens = {p.name: await asyncio.to_thread(add_user, engine, p) for p in people}
    engine.dispose()
    await rpc.call(
        "assessment", "experts.add", AddExpert(program=PROGRAM, expert="fault-expert"), Empty
    )
    return tokens


# ---------------------------------------------------------------------- the gateway bases


@dataclass
class GatewayCast:
    http: httpx.AsyncClient
    record: FaultyYear

    def person(self, name: str) -> GatewayPerson:
        return GatewayPerson(self.http, self.record.tokens[name], self.record.gateway)

    def path(self, base: str, tail: str = "") -> str:
        return f"/v1/programs/{PROGRAM}/years/{YEAR}/bases/{base}{tail}"

    def speaker(self, actor: Actor) -> GatewayPerson:
        """The user who plays ``actor``: a base's own user, the fault year's officers and
        expert."""
        officers = {"city_officer": "fault-city", "province_admin": "fault-admin"}
        name = f"user-{actor.base}" if actor.role == "base_user" else actor.name
        return self.person(officers.get(actor.role, name))

    @property
    def channel(self) -> HttpChannel:
        return HttpChannel(self.path, self.speaker, experts=["fault-expert"])

    @property
    def people(self) -> People:
        return People(self.channel, self.record.rules, Cast(region=REGION))


async def gateway_base(
    cast: GatewayCast, base: str, before_plan: Callable[[], Awaitable[None]] | None = None
) -> None:
    """A base, its city officer, the province and the expert, all through the HTTP API, as
    :class:`People` act."""
    me, people = cast.person(f"user-{base}"), cast.people
    await me.call("GET", cast.path(base), expect=200, also_wait_for=frozenset({"cycle_not_found"}))
    if before_plan is not None:
        await before_plan()
    receipts = cast.record.gateway.receipts.setdefault(base, [])
    receipts.append(await people.plan(base))
    receipts.append(await people.report(base))
    province = cast.person("fault-admin")
    await until(
        lambda: province.call("GET", cast.path(base), expect=200),
        lambda state: state["stage"] == "under_review",
        f"{base} under review",
        limit_s=600,
        every=1.0,
    )
    expert = cast.person("fault-expert")
    # The expert may read and score once the assessment service has assigned the review.
    await expert.call("GET", cast.path(base), expect=200, also_wait_for=frozenset({"forbidden"}))
    await people.score(base, 90.0)


# ---------------------------------------------------------------------- the faults


@dataclass
class Faults:
    stack: FaultStack
    record: FaultyYear
    director: Director
    nc: NatsClient
    cast: GatewayCast
    s3_down: asyncio.Event = field(default_factory=asyncio.Event)
    s3_tried: asyncio.Event = field(default_factory=asyncio.Event)
    s3_up: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    async def object_store_outage(self) -> None:
        rec = self.record.fault("object_store", "plans 25%")
        # On a slow machine the plans may come late: the outage must still leave the gateway
        # base time to file before its deadline.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.director.cue("plans", 0.25).wait(), S3_OUTAGE_LATEST_S)
        rec.started = time.monotonic()
        await asyncio.to_thread(self.stack.s3.refuse)
        self.s3_down.set()
        # Away for S3_OUTAGE_S at least, and until the gateway base has had its answer.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.s3_tried.wait(), 60)
        await asyncio.sleep(max(0.0, rec.started + S3_OUTAGE_S - time.monotonic()))
        await asyncio.to_thread(self.stack.s3.allow)
        rec.ended = time.monotonic()
        self.s3_up.set()

    async def file_during_outage(self, base: str) -> None:
        """The plan a base files while the store is away: a 503 and nothing written."""
        rec = self.record.faults["object_store"]
        await self.s3_down.wait()
        me = self.cast.person(f"user-{base}")
        # The very request the base's plan filing makes (the same Idempotency-Key).
        plan = self.cast.channel.plan_request(base, document(base, "plan", "v1"), TARGETS, "plan-1")
        try:
            resp = await me.once(plan.method, plan.path, **plan.kwargs)
            rec.detail["refused"] = {
                "status": resp.status_code,
                "content_type": resp.headers.get("content-type", ""),
                "body": resp.json()
                if resp.headers.get("content-type", "").endswith("json")
                else resp.text,
            }
            rec.detail["left_behind"] = await self.left_behind(base, "plan")
        finally:
            self.s3_tried.set()
        await self.s3_up.wait()

    async def left_behind(self, base: str, kind: str) -> dict[str, Any]:
        """What a failed filing left: cycle state, document rows, events, stored objects."""
        admin = self.cast.person("fault-admin")
        state = await admin.call("GET", self.cast.path(base), expect=200)
        rows = await RpcClient(self.nc, 30).call(
            "filings",
            "documents.list",
            ListDocuments(program=PROGRAM, year=YEAR, base=base),
            DocumentList,
        )
        events = await read_events(self.js, event_filter(PROGRAM, YEAR, base))
        direct = self.stack.direct_objects()
        sha = hashlib.sha256(document(base, kind, "v1")).hexdigest()
        key = f"documents/{PROGRAM}/{YEAR}/{base}/{kind}/{sha}.pdf"
        return {
            "plan_filed": state["plan_filed"],
            "documents_in_state": len(state["documents"]),
            "document_rows": len(rows.documents),
            "filed_events": [e.type for _, e in events if e.type.endswith(".filed")],
            "object": await direct.stat(key),
        }

    async def database_drops(self, name: str, phase: str, share: float) -> None:
        rec = self.record.fault(name, f"{phase} {int(share * 100)}%")
        await self.director.cue(phase, share).wait()
        rec.started = time.monotonic()
        stop = asyncio.Event()
        hammer = asyncio.create_task(self._hammer(stop))
        cut = []
        for _ in range(5):
            cut.append(
                await asyncio.to_thread(
                    terminate_connections, self.stack.server_url, self.stack.database
                )
            )
            await asyncio.sleep(1.0)
        stop.set()
        rec.detail["terminated"] = cut
        rec.detail["requests"] = await hammer
        rec.ended = time.monotonic()

    async def _hammer(self, stop: asyncio.Event) -> list[tuple[int, str | None]]:
        """Gateway requests while connections are cut: each answer's status and code."""
        admin = self.cast.person("fault-admin")
        viewer = self.cast.person("fault-viewer")
        answers: list[tuple[int, str | None]] = []
        paths = [
            (admin, self.cast.path(b))
            for b in [*self.record.gateway_bases, *self.record.sim_bases[:3]]
        ]
        paths.append((viewer, f"/v1/programs/{PROGRAM}/bases"))
        paths.append((admin, "/v1/inbox"))
        while not stop.is_set():
            for person, path in paths:
                try:
                    resp = await person.once("GET", path)
                except httpx.TransportError as exc:
                    answers.append((0, type(exc).__name__))
                    continue
                code = None
                if resp.headers.get("content-type", "").startswith("application/problem+json"):
                    code = resp.json().get("code")
                answers.append((resp.status_code, code))
            await asyncio.sleep(0.2)
        return answers

    async def worker_crash(self) -> None:
        rec = self.record.fault("worker", "reports 25%")
        await self.director.cue("reports", 0.25).wait()
        rec.started = time.monotonic()
        rec.detail["pid"] = self.stack.pid("worker")
        rec.detail["last_seq_at_kill"] = (await self.js.stream_info(EVENTS_STREAM)).state.last_seq
        rec.detail["exit"] = await asyncio.to_thread(self.stack.stop, "worker", signal.SIGKILL)
        await asyncio.sleep(3.0)
        self.stack.start_service("worker")
        rec.detail["new_pid"] = self.stack.pid("worker")
        await self.stack.wait_healthy(120, "worker")
        rec.ended = time.monotonic()

    async def nats_restart(self) -> None:
        rec = self.record.fault("nats", "reports 60%")
        await self.director.cue("reports", 0.6).wait()
        before = await self.js.stream_info(EVENTS_STREAM)
        old = await read_events(self.js, event_filter(PROGRAM, YEAR), since_seq=1)
        rec.started = time.monotonic()
        # Stopped as an operator restarts it (SIGTERM), then started on the same port and store.
        rec.detail["exit"] = await asyncio.to_thread(self.stack.stop, "nats")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(self.stack.start_nats)
        after = await _stream_info_when_back(self.js)
        rec.detail["before"] = _state(before)
        rec.detail["after"] = _state(after)
        again = await read_events(self.js, event_filter(PROGRAM, YEAR), since_seq=1)
        kept = {seq: e.id for seq, e in again}
        rec.detail["events_before"] = len(old)
        rec.detail["events_lost"] = sum(1 for seq, e in old if kept.get(seq) != e.id)
        # An event published before the restart, published again with its own id: the
        # de-duplication window must have survived the restart.
        seq, event = old[len(old) // 2]
        ack = await self.js.publish(
            event.nats_subject, event.to_json(), headers={"Nats-Msg-Id": event.id}
        )
        # Not counted among the injected copies: if it was stored again, the sequence checks
        # see a duplicate.
        rec.detail["republished_original"] = {
            "seq": seq,
            "ack_seq": ack.seq,
            "duplicate": ack.duplicate,
        }
        await self.stack.wait_healthy(180)
        rec.ended = time.monotonic()

    async def republish_during_year(self) -> None:
        rec = self.record.fault("redelivery", "reports 85%")
        await self.director.cue("reports", 0.85).wait()
        rec.started = time.monotonic()
        rec.detail["republished"] = await republish(self.js, self.record, "again")
        rec.ended = time.monotonic()


async def republish(js: JetStreamContext, record: FaultyYear, tag: str) -> int:
    """Every event of the year on the log again, as new messages (new ``Nats-Msg-Id``)."""
    events = await read_events(js, event_filter(record.program, record.year))
    seen: set[str] = set()
    for _, event in events:
        if event.id in seen:
            continue
        seen.add(event.id)
        ack = await js.publish(
            event.nats_subject,
            event.to_json(),
            headers={
                "Nats-Msg-Id": f"{tag}-{event.id}",
                "Content-Type": "application/cloudevents+json",
            },
        )
        record.injected_seqs.add(ack.seq)
    return len(seen)


def describe(record: FaultyYear) -> str:
    """What happened when, in seconds from the launch: for a failure's report."""

    def at(t: float | None) -> str:
        return "-" if t is None else f"{t - record.started:.0f}s"

    lines = [
        f"year {record.program}/{record.year}",
        "phases " + ", ".join(f"{p} {a:.0f}-{b:.0f}s" for p, (a, b) in record.phases.items()),
    ]
    for f in record.faults.values():
        detail = {k: v for k, v in f.detail.items() if k not in ("requests", "refused")}
        if "requests" in f.detail:
            detail["answers"] = dict(Counter(f.detail["requests"]))
        lines.append(f"  {f.name} ({f.when}) {at(f.started)}-{at(f.ended)}: {detail}")
    waited = Counter((a.who, a.error.split(":")[0]) for a in record.patience.absorbed)
    refusals = Counter((r.status, r.code) for r in record.gateway.refusals)
    lines.append(f"people waited out {dict(waited)}; the gateway answered {dict(refusals)}")
    if record.summary is not None:
        lines.append(f"ended after {record.elapsed_s:.0f}s: {record.summary.as_json()}")
    return "\n".join(lines)


def _state(info: StreamInfo) -> dict[str, int]:
    return {
        "messages": info.state.messages,
        "first_seq": info.state.first_seq,
        "last_seq": info.state.last_seq,
    }


async def _stream_info_when_back(js: JetStreamContext, limit_s: float = 60.0) -> StreamInfo:
    info: StreamInfo = await until(
        lambda: js.stream_info(EVENTS_STREAM),
        lambda _: True,
        "the event stream back",
        limit_s=limit_s,
        every=0.5,
        ignoring=Exception,
    )
    return info


# ---------------------------------------------------------------------- the year


async def faulty_year(stack: FaultStack, *, bases: int = 200, gateway_bases: int = 3) -> FaultyYear:
    settings = stack.settings()
    rules = faulty_rules()
    gw = [f"gw-{n + 1}" for n in range(gateway_bases)]
    sims = [f"sim-{n:05d}" for n in range(bases - gateway_bases)]
    nc = await connect_nats(settings, "faults")
    try:
        rpc = RpcClient(nc, 30)
        await register(rpc, rules, sims + gw)
        tokens = await make_users(stack, rpc, gw)
        record = FaultyYear(PROGRAM, YEAR, rules, sims, gw, tokens)
        client = await Client.connect(
            settings.temporal_address,
            data_converter=pydantic_data_converter,
            interceptors=[PatientQueries(record.patience)],
        )
        director = Director()
        async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
            cast = GatewayCast(http, record)
            faults = Faults(stack, record, director, nc, cast)
            await start_program_year(
                client, program=PROGRAM, year=YEAR, task_queue=settings.task_queue
            )
            record.started = time.monotonic()
            play = play_year(
                client=client,
                js=nc.jetstream(),
                objects=PatientObjects(object_store(settings), record.patience),
                rules=rules,
                names=sims,
                city_of={b: CITIES[n % len(CITIES)] for n, b in enumerate(sims)},
                year=YEAR,
                seed=2026,
                clock=RealClock(),
                progress=director.progress,
                started=time.monotonic(),
                real_time=True,
            )
            people = [
                gateway_base(cast, gw[0], lambda: faults.file_during_outage(gw[0])),
                *[gateway_base(cast, b) for b in gw[1:]],
            ]
            injections = [
                faults.object_store_outage(),
                faults.database_drops("database_plans", "plans", 0.6),
                faults.worker_crash(),
                faults.nats_restart(),
                faults.republish_during_year(),
                faults.database_drops("database_scores", "scores", 0.5),
            ]
            # A task group: when one part fails, the others stop with it.
            try:
                async with asyncio.TaskGroup() as group:
                    played = group.create_task(play)
                    for part in [*people, *injections]:
                        group.create_task(part)
            finally:
                record.phases = {
                    phase: (first - record.started, last - record.started)
                    for phase, (first, last) in director.times.items()
                }
                print(describe(record), file=sys.stderr)
            record.summary = played.result()
        record.elapsed_s = time.monotonic() - record.started
        return record
    finally:
        await nc.close()


# ---------------------------------------------------------------------- after the year


async def consumers_caught_up(js: JetStreamContext, limit_s: float = 300.0) -> dict[str, int]:
    """Until every consumer has taken and acknowledged every event; their acknowledged floor."""

    async def floors() -> tuple[int, dict[str, int | None]]:
        last = (await js.stream_info(EVENTS_STREAM)).state.last_seq
        states: dict[str, int | None] = {}
        for name in CONSUMERS:
            try:
                info = await js.consumer_info(EVENTS_STREAM, name)
            except NotFoundError:
                states[name] = None
                continue
            idle = info.num_pending == 0 and info.num_ack_pending == 0
            states[name] = info.ack_floor.stream_seq if idle and info.ack_floor else None
        return last, states

    _, states = await until(
        floors,
        lambda seen: all(s == seen[0] for s in seen[1].values()),
        "the consumers caught up with the log",
        limit_s=limit_s,
        every=0.5,
    )
    return {k: v for k, v in states.items() if v is not None}


async def deliver_again(
    stack: FaultStack, record: FaultyYear, snapshot: Callable[[], Awaitable[Any]]
) -> None:
    """After the year: the consumers lose their durable state (NATS forgets them, so they are
    made again from their stored checkpoint or sequence 1) and the year is published again."""
    settings = stack.settings()
    nc = await connect_nats(settings, "faults-after")
    try:
        js = nc.jetstream()
        record.after_year["caught_up_before"] = await consumers_caught_up(js)
        record.after_year["before"] = await snapshot()
        for name in CONSUMERS:
            await asyncio.to_thread(stack.stop, name)
            await js.delete_consumer(EVENTS_STREAM, name)
        record.after_year["republished"] = await republish(js, record, "after")
        for name in CONSUMERS:
            stack.start_service(name)
        await stack.wait_healthy(120)
        record.after_year["caught_up_after"] = await consumers_caught_up(js)
        record.after_year["after"] = await snapshot()
    finally:
        await nc.close()
