"""A whole program year on the running stack, in real time, with synthetic people.

Nothing runs in this process but the people: the year goes through the stack's Temporal server,
worker, services and event log, exactly as an official's or a base's input would. The program must
be a simulation (:mod:`services.sim.programs`): its rules are applied (a new version only if they
changed), synthetic bases are registered up to the number asked for, and every active base of that
program, and of no other, is played.
"""

from __future__ import annotations

import time
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.sim.play import Progress, RealClock, YearSummary, play_year
from services.sim.programs import (
    require_simulation,
    sim_cities,
    sim_experts,
    synthetic_applicant,
)
from shared.bases_listing import all_bases
from shared.clients import connect_nats, object_store
from shared.contracts.assessment import AddExpert
from shared.contracts.registry import (
    ApplyRules,
    BasePublic,
    BaseRegistration,
    BasesPage,
    GetProgram,
    ListBasesRequest,
    PinnedRules,
    RegisterBase,
    RulesApplied,
)
from shared.contracts.workflow_names import program_year_id
from shared.domain.rules import ProgramRules
from shared.rpc import Empty, RpcClient, RpcError
from shared.settings import Settings
from shared.starters import start_program_year
from shared.temporal import connect_temporal


async def program_on_stack(settings: Settings, program: str) -> ProgramRules | None:
    """The program's current rules on the running stack, or None if it has none."""
    nc = await connect_nats(settings, "demo")
    try:
        pinned = await RpcClient(nc, 30).call(
            "registry", "rules.current", GetProgram(program=program), PinnedRules
        )
    except RpcError as exc:
        if exc.code == "program_not_found":
            return None
        raise
    finally:
        await nc.close()
    return pinned.rules


def synthetic_registration(rules: ProgramRules, n: int, region: str) -> BaseRegistration:
    a = synthetic_applicant(rules, n, region)
    name = f"sim-{n:05d}"
    return BaseRegistration.model_validate(
        {
            "id": name,
            "name": f"模拟基地 {name}",
            "region": region,
            "domain": a.domain,
            "host_type": a.host_type,
            "staff": {"total": a.staff_total, "senior_full_time": a.senior_full_time},
            "pct_minimum_data": a.pct_minimum_data,
            "declarations": {
                k: {"affirmed": d.affirmed, "evidence": list(d.evidence)}
                for k, d in a.declarations.items()
            },
        }
    )


async def free_year(client: Client, program: str, first: int) -> int:
    """The first year from ``first`` on that the program has never launched."""
    year = first
    while True:
        try:
            await client.get_workflow_handle(program_year_id(program, year)).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return year
            raise
        year += 1


async def _active_bases(rpc: RpcClient, program: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        page = await rpc.call(
            "registry",
            "bases.active",
            ListBasesRequest(program=program, cursor=cursor, limit=1000),
            BasesPage,
        )
        out += [(b.id, b.region) for b in page.bases]
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


async def run_live_year(
    settings: Settings,
    rules: ProgramRules,
    *,
    bases: int,
    year: int | None = None,
    seed: int = 2026,
    progress: Progress | None = None,
    on_launch: Any = None,
) -> YearSummary:
    require_simulation(rules)  # before anything is touched
    started = time.monotonic()
    client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
    nc = await connect_nats(settings, "demo")
    try:
        rpc = RpcClient(nc, 30)
        document = rules.model_dump(mode="json", by_alias=True)
        await rpc.call("registry", "rules.apply", ApplyRules(document=document), RulesApplied)
        # De-listed ones too: they stay registered.
        known = {str(b["id"]) for b in await all_bases(rpc, rules.id)}
        cities = sim_cities(rules)
        for n in range(bases):
            name = f"sim-{n:05d}"
            if name in known:
                continue
            registration = synthetic_registration(rules, n, cities[n % len(cities)])
            await rpc.call(
                "registry",
                "bases.register",
                RegisterBase(program=rules.id, registration=registration),
                BasePublic,
            )
            if progress:
                progress("registered", n + 1, bases)
        for expert in sim_experts(rules):  # a review opens only on a long enough roster
            await rpc.call(
                "assessment", "experts.add", AddExpert(program=rules.id, expert=expert), Empty
            )
        active = dict(await _active_bases(rpc, rules.id))
        if year is None:
            year = await free_year(client, rules.id, 2026)
        await start_program_year(
            client, program=rules.id, year=year, task_queue=settings.task_queue
        )
        if on_launch:
            on_launch(year)
        return await play_year(
            client=client,
            js=nc.jetstream(),
            objects=object_store(settings),
            rules=rules,
            names=sorted(active),
            city_of=active,
            year=year,
            seed=seed,
            clock=RealClock(),
            progress=progress,
            started=started,
            real_time=True,
        )
    finally:
        await nc.close()
