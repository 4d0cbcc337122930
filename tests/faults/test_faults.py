"""Faults injected into a running stack during a 200-base program year (tests/faults/year.py):
a killed worker, a restarted nats-server, an object store outage, dropped database connections
and events delivered twice. Afterwards the year must have ended as if nothing had happened.

The year is played once for the whole module (several minutes); run with ``make faults``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError

from services.dashboard import store as dashboard
from services.notifier.notices import notices_for
from shared.clients import object_store
from shared.contracts.cycle import CycleOutcome, CycleState, DocumentRef
from shared.contracts.filings import DocumentPublic, GetDocument
from shared.contracts.workflow_names import cycle_id, program_year_id
from shared.eventlog import read_events
from shared.events.envelope import CloudEvent, event_id
from shared.events.subjects import PROGRAM_WIDE, event_filter
from shared.events.types import EventType
from shared.rpc import RpcClient
from shared.stream import DLQ_STREAM, EVENTS_STREAM
from shared.temporal import connect_temporal
from tests.faults import holdings
from tests.faults.conftest import Played
from tests.faults.people import UNAVAILABLE_CODES
from tests.faults.year import describe
from workflows.cycle import AnnualCycleWorkflow
from workflows.program_year import ProgramYearWorkflow
from workflows.replay import replay

# The first test waits for the year (the package fixture); each one after that is quick.
pytestmark = [pytest.mark.timeout(1800), pytest.mark.postgres]

FILED = {EventType.PLAN_FILED, EventType.SELFEVAL_FILED, EventType.RECTIFICATION_FILED}


@dataclass
class Clients:
    temporal: Client
    nc: NatsClient


@pytest.fixture
async def clients(played: Played) -> AsyncIterator[Clients]:
    temporal = await connect_temporal(played.stack.temporal_address)
    nc = await nats.connect(played.stack.nats_url)
    try:
        yield Clients(temporal, nc)
    finally:
        await nc.close()


async def year_events(played: Played, nc: NatsClient) -> list[tuple[int, CloudEvent]]:
    """The year's events on the log, without the copies the faults published on purpose."""
    year = played.year
    events = await read_events(nc.jetstream(), event_filter(year.program, year.year))
    return [(seq, e) for seq, e in events if seq not in year.injected_seqs]


async def states(played: Played, temporal: Client) -> dict[str, CycleState]:
    """Each cycle's state, as its workflow answers a query. A cycle whose history no longer
    replays cannot answer; it is left out here and named by the replay test."""
    year = played.year
    gate = asyncio.Semaphore(16)

    async def one(base: str) -> CycleState | None:
        handle = temporal.get_workflow_handle_for(
            AnnualCycleWorkflow.run, cycle_id(year.program, year.year, base)
        )
        async with gate:
            try:
                return await handle.query(AnnualCycleWorkflow.state)
            except WorkflowQueryFailedError as exc:
                if "Nondeterminism" not in str(exc):
                    raise
                return None

    found = await asyncio.gather(*(one(b) for b in year.bases))
    return {b: s for b, s in zip(year.bases, found, strict=True) if s is not None}


def faults_report(played: Played) -> str:
    return describe(played.year)


# ---------------------------------------------------------------------- after every fault


async def test_every_cycle_and_the_program_year_complete(played: Played, clients: Clients) -> None:
    year = played.year
    assert all(f.injected for f in year.faults.values()), faults_report(played)
    program_year = clients.temporal.get_workflow_handle_for(
        ProgramYearWorkflow.run, program_year_id(year.program, year.year)
    )
    final = await program_year.result()
    assert final.phase == "finalized" and final.opened == len(year.bases) == 200
    assert final.graded + final.excluded == len(year.bases)

    runs: Counter[str] = Counter()
    async for wf in clients.temporal.list_workflows(
        f"NavProgram = '{year.program}' AND NavYear = {year.year}"
    ):
        runs[wf.id] += 1
        assert wf.status == WorkflowExecutionStatus.COMPLETED, (wf.id, wf.status)
    cycles = {cycle_id(year.program, year.year, b) for b in year.bases}
    assert cycles <= set(runs), "every base had its cycle"
    assert {i: n for i, n in runs.items() if i in cycles and n != 1} == {}, "one run per cycle"

    outcomes: list[CycleOutcome] = await asyncio.gather(
        *(
            clients.temporal.get_workflow_handle_for(
                AnnualCycleWorkflow.run, cycle_id(year.program, year.year, b)
            ).result()
            for b in year.bases
        )
    )
    assert all(o.stage.is_final for o in outcomes), Counter(o.stage.value for o in outcomes)
    assert year.summary is not None
    assert sum(year.summary.outcomes.values()) == len(year.sim_bases)
    assert year.summary.recompute_mismatches == []
    # The faults slowed people down, but hardly anyone missed a deadline for it (on an idle
    # machine nobody does; a busy one may push a few filings past theirs).
    assert sum(year.summary.refused.values()) <= len(year.bases) // 20, faults_report(played)


async def test_each_cycle_event_sequence_has_no_gap_and_no_duplicate(
    played: Played, clients: Clients
) -> None:
    year = played.year
    run_of: dict[str, str] = {}
    async for wf in clients.temporal.list_workflows(
        f"NavProgram = '{year.program}' AND NavYear = {year.year}"
    ):
        run_of[wf.id] = wf.run_id
    events = await year_events(played, clients.nc)
    by_base: dict[str, list[CloudEvent]] = defaultdict(list)
    for _, event in events:
        by_base[event.base].append(event)
    assert set(by_base) == {*year.bases, PROGRAM_WIDE}

    problems = []
    for base, own in sorted(by_base.items()):
        workflow = (
            program_year_id(year.program, year.year)
            if base == PROGRAM_WIDE
            else cycle_id(year.program, year.year, base)
        )
        # A cycle's events are keyed by its run; the program year's by its id (it may continue
        # as new, and its sequence goes on across runs).
        stream_key = workflow if base == PROGRAM_WIDE else f"{workflow}@{run_of[workflow]}"
        sequences = [e.sequence for e in own]
        if sorted(sequences) != list(range(1, len(own) + 1)):
            problems.append(f"{base}: sequences {sorted(sequences)}")
        if len({e.id for e in own}) != len(own):
            problems.append(f"{base}: an event id appears twice")
        # Every event was published by the one run of its workflow, at its own position.
        strays = [e.type for e in own if e.id != event_id(stream_key, e.sequence, e.event_type)]
        if strays:
            problems.append(f"{base}: events from another run or position: {strays}")
    assert problems == []
    # The copies the faults published are copies: same ids as events already on the log.
    all_events = await read_events(clients.nc.jetstream(), event_filter(year.program, year.year))
    originals = {e.id for _, e in events}
    copies = [e for seq, e in all_events if seq in year.injected_seqs]
    assert copies and {e.id for e in copies} <= originals


async def test_every_workflow_history_of_the_year_replays(played: Played, clients: Clients) -> None:
    """The histories the faulty year recorded replay against the code that wrote them: a killed
    worker, retried activities and updates, queries in between left no nondeterminism."""
    year = played.year
    histories = [
        await clients.temporal.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        async for wf in clients.temporal.list_workflows(
            f"NavProgram = '{year.program}' AND NavYear = {year.year}"
        )
    ]
    outcomes = await replay(histories)
    assert len(outcomes) == len(year.bases) + 1
    assert [f"{o.workflow_id}: {o.reason[:300]}" for o in outcomes if not o.ok] == []


async def test_every_accepted_filing_is_retrievable_with_its_sha256(
    played: Played, clients: Clients
) -> None:
    year = played.year
    accepted: dict[str, DocumentRef] = {}
    base_of: dict[str, str] = {}
    for _, event in await year_events(played, clients.nc):
        if event.event_type in FILED:
            doc = DocumentRef.model_validate(event.data["document"])
            accepted[doc.document_id], base_of[doc.document_id] = doc, event.base
    assert len(accepted) >= 2 * 150, "plans and reports of most of the 200 bases"
    # The workflows hold the same documents (those that can answer a query; see the replay test).
    cycles = await states(played, clients.temporal)
    assert len(cycles) >= len(year.bases) - 5
    held = {d.document_id: d for state in cycles.values() for d in state.documents}
    assert held == {i: d for i, d in accepted.items() if base_of[i] in cycles}

    rpc = RpcClient(clients.nc, 30)
    store = object_store(played.stack.settings())
    viewer = {"Authorization": f"Bearer {year.tokens['fault-viewer']}"}
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=played.stack.url, timeout=60) as http:

        async def check(doc: DocumentRef) -> list[str]:
            async with gate:
                row = await rpc.call(
                    "filings",
                    "documents.get",
                    GetDocument(document_id=doc.document_id),
                    DocumentPublic,
                )
                stored = await store.get(doc.key)
                download = await http.get(f"/v1/documents/{doc.document_id}", headers=viewer)
            wrong = []
            if (row.key, row.sha256, row.size) != (doc.key, doc.sha256, doc.size):
                wrong.append(f"{doc.document_id}: filings row differs")
            if hashlib.sha256(stored).hexdigest() != doc.sha256:
                wrong.append(f"{doc.document_id}: stored bytes differ")
            if download.status_code != 200:
                wrong.append(f"{doc.document_id}: download {download.status_code}")
            elif (
                download.headers.get("x-checksum-sha256") != doc.sha256
                or hashlib.sha256(download.content).hexdigest() != doc.sha256
            ):
                wrong.append(f"{doc.document_id}: downloaded bytes differ")
            return wrong

        found = await asyncio.gather(*(check(d) for d in accepted.values()))
    assert [w for ws in found for w in ws] == []
    # The gateway bases' receipts name documents that are among them, with their sha256.
    for base, receipts in year.gateway.receipts.items():
        assert len(receipts) == 2, base
        for receipt in receipts:
            assert accepted[receipt["document_id"]].sha256 == receipt["sha256"]


async def test_dashboard_projections_equal_a_rebuild_from_sequence_1(
    played: Played, clients: Clients
) -> None:
    program = played.year.program

    def projections() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        # The year's rows: an operator's audit event may land on the log meanwhile.
        return (
            [r for r in dashboard.cycles(played.engine) if r["program"] == program],
            [r for r in dashboard.timeline(played.engine) if r["program"] == program],
        )

    last_seq = (await clients.nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
    live = projections()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli.main", "dashboard", "rebuild", "--json"],
        env=played.stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    rebuilt = projections()
    assert len(live[0]) == len(played.year.bases)
    assert rebuilt[0] == live[0]
    assert rebuilt[1] == live[1]
    assert report["skipped"] == 0 and report["stream_seq"] >= last_seq
    distinct = {e.id for _, e in await year_events(played, clients.nc)}
    assert len(live[1]) == len(distinct), "one timeline row per distinct event"

    # And the projection agrees with the workflows, the source of truth.
    year = played.year
    outcomes: list[CycleOutcome] = await asyncio.gather(
        *(
            clients.temporal.get_workflow_handle_for(
                AnnualCycleWorkflow.run, cycle_id(year.program, year.year, b)
            ).result()
            for b in year.bases
        )
    )
    assert {str(r["base"]): r["stage"] for r in live[0]} == {
        b: o.stage.value for b, o in zip(year.bases, outcomes, strict=True)
    }


async def test_nothing_is_half_written(played: Played, clients: Clients) -> None:
    """No document row without its object or its event, no event without its document, and no
    event a consumer gave up on."""
    year = played.year
    rows = [d for d in holdings.take(played.engine).documents if d[2].startswith("documents/")]
    rows = [d for d in rows if f"/{year.program}/{year.year}/" in d[2]]
    filed = {
        e.data["document"]["document_id"]: e
        for _, e in await year_events(played, clients.nc)
        if e.event_type in FILED
    }
    assert {d[0] for d in rows} == set(filed)
    direct = played.stack.direct_objects()
    stats = await asyncio.gather(*(direct.stat(key) for _, _, key, _ in rows))
    missing = [
        row[0]
        for row, stat in zip(rows, stats, strict=True)
        if stat is None or stat.sha256 != row[3]
    ]
    assert missing == []
    dlq = await clients.nc.jetstream().stream_info(DLQ_STREAM)
    assert dlq.state.messages == 0, "an event was dead-lettered by a consumer"


# ---------------------------------------------------------------------- what each fault did


def test_the_killed_worker_is_replaced_and_the_year_goes_on(played: Played) -> None:
    worker = played.year.faults["worker"]
    assert worker.injected, faults_report(played)
    assert worker.detail["exit"] == -9, "killed with SIGKILL, not stopped"
    assert worker.detail["new_pid"] != worker.detail["pid"]
    after = played.year.after_year["caught_up_before"]["dashboard"]
    assert after > worker.detail["last_seq_at_kill"], "the year went on after the kill"


def test_a_restarted_nats_server_keeps_the_log_and_its_deduplication(played: Played) -> None:
    restart = played.year.faults["nats"]
    assert restart.injected, faults_report(played)
    before, after = restart.detail["before"], restart.detail["after"]
    assert after["first_seq"] == before["first_seq"] == 1
    assert after["last_seq"] >= before["last_seq"] and after["messages"] >= before["messages"]
    assert restart.detail["events_before"] > 0 and restart.detail["events_lost"] == 0
    again = restart.detail["republished_original"]
    assert again["duplicate"] and again["ack_seq"] == again["seq"], again


def test_a_filing_while_the_object_store_is_away_gets_a_clear_503_and_leaves_nothing(
    played: Played,
) -> None:
    outage = played.year.faults["object_store"]
    assert outage.injected, faults_report(played)
    refused = outage.detail["refused"]
    assert refused["status"] == 503
    assert refused["content_type"].startswith("application/problem+json")
    assert refused["body"]["code"] == "object_store_unavailable"
    assert outage.detail["left_behind"] == {
        "plan_filed": False,
        "documents_in_state": 0,
        "document_rows": 0,
        "filed_events": [],
        "object": None,
    }
    # After the outage the same base filed the same plan (same Idempotency-Key) and was accepted;
    # that it and the plans filed before the outage can be downloaded is checked above.
    gw1 = played.year.gateway_bases[0]
    assert len(played.year.gateway.receipts[gw1]) == 2
    # The synthetic people's uploads during the outage failed with a clear store error, were
    # tried again, and only while the store was away.
    uploads = [a for a in played.year.patience.absorbed if a.who.startswith("objects.")]
    assert uploads, "no synthetic upload met the outage"
    assert all("object store unavailable" in a.error for a in uploads), uploads[:3]
    assert outage.started is not None and outage.ended is not None
    assert all(outage.started <= a.at <= outage.ended + 15 for a in uploads)


@pytest.mark.parametrize("name", ["database_plans", "database_scores"])
def test_dropped_database_connections_give_clear_answers_and_no_500(
    played: Played, name: str
) -> None:
    drops = played.year.faults[name]
    assert drops.injected, faults_report(played)
    assert sum(drops.detail["terminated"]) > 0, "the stack's connections were cut"
    answers = Counter(drops.detail["requests"])
    assert answers[(200, None)] > 0, answers
    unclear = {
        a: n for a, n in answers.items() if a != (200, None) and a[1] not in UNAVAILABLE_CODES
    }
    assert unclear == {}, answers


def test_every_refusal_people_met_was_a_clear_problem(played: Played) -> None:
    refusals = played.year.gateway.refusals
    unclear = [
        r
        for r in refusals
        if not r.content_type.startswith("application/problem+json")
        or not r.code
        or not (400 <= r.status < 500 or r.status == 503)
    ]
    assert unclear == []
    # The gateway bases waited for their cycles to open, for the store, and for the assignment;
    # anything else they met is a 503 with a stable code.
    kinds = Counter((r.status, r.code) for r in refusals)
    expected = {(404, "cycle_not_found"), (403, "forbidden")} | {
        (503, code) for code in UNAVAILABLE_CODES
    }
    assert set(kinds) <= expected, kinds


async def test_events_delivered_twice_change_nothing(played: Played, clients: Clients) -> None:
    year = played.year
    during = year.faults["redelivery"]
    assert during.injected and during.detail["republished"] > 0, faults_report(played)
    after = year.after_year
    assert after["republished"] > during.detail["republished"]
    before_state, after_state = after["before"], after["after"]
    assert before_state.differences(after_state) == []
    # Every consumer took and acknowledged the whole log, the copies included.
    caught_up = set(after["caught_up_after"].values())
    assert len(caught_up) == 1 and caught_up.pop() >= max(year.injected_seqs)

    # Exactly once, against the log: one notice per event and audience, one decision per
    # graded round, one assignment per opened review.
    events = {e.id: e for _, e in await year_events(played, clients.nc)}
    expected_notices = Counter((e.id, n.audience) for e in events.values() for n in notices_for(e))
    ours = [n for n in after_state.notices if n[0] in events]
    assert Counter((n[0], n[1]) for n in ours) == expected_notices
    graded = {
        (e.program, e.year, e.base, int(e.data["round"]))
        for e in events.values()
        if e.event_type == EventType.REVIEW_GRADED
    }
    assert {d[:4] for d in after_state.decisions if d[0] == year.program} == graded
    assert len([d for d in after_state.decisions if d[0] == year.program]) == len(graded)
    opened = Counter(
        (e.base, int(e.data["round"]))
        for e in events.values()
        if e.event_type == EventType.REVIEW_OPENED
    )
    assigned = Counter((a[2], a[3]) for a in after_state.assignments if a[0] == year.program)
    assert assigned == opened
    # The registry saw each status change once: de-listed bases are exactly the de-listed cycles.
    delisted = {e.base for e in events.values() if e.event_type == EventType.BASE_DELISTED}
    statuses = {b[1]: b[2] for b in after_state.bases if b[0] == year.program}
    assert {b for b, s in statuses.items() if s == "delisted"} == delisted
