"""Filings keep their latency while anonymous clients fetch the 公示 PDF: 200 PDF requests go on
during a run of plan filings; the PDF renders once, and the filings' p99 with and without the
load is printed (run with -s to see it). Against the Temporal dev server, the services on a real
nats-server, and the gateway in process."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from nats.aio.client import Client as NatsClient

from services.gateway.rate_limit import SlidingWindow
from shared.contracts.results import ResultEntry, ResultsNotice, dump_results, results_key
from tests.conftest import DevStack, Stack
from tests.integration.test_filing_answers import (
    PROGRAM,
    GatedActivities,
    gated,  # noqa: F401 - the fixture
    gateway,
    open_cycle,
    plan_form,
)

FILINGS = 12  # per run; each in a cycle (a year) of its own
PDF_REQUESTS = 200
NOTICE_YEAR = 2060


async def _publish_notice(stack: Stack) -> None:
    notice = ResultsNotice(
        program=PROGRAM,
        year=NOTICE_YEAR,
        program_name="专利导航服务基地",
        issuer="河南省知识产权局",
        published_at=datetime(2061, 1, 5, 2, tzinfo=UTC),
        publication_period="5WD",
        entries=[
            ResultEntry(base=f"b{i}", name=f"第{i}号基地", region="410100", domain="新材料")
            for i in range(1000)
        ],
    )
    await stack.objects.put(
        results_key(PROGRAM, NOTICE_YEAR), dump_results(notice), "application/json"
    )


async def _filings(http: httpx.AsyncClient, who: dict[str, str], paths: list[str]) -> list[float]:
    took = []
    for n, path in enumerate(paths):
        start = time.perf_counter()
        resp = await http.post(f"{path}/plan", headers=who, **plan_form(f"load {n} {path}")[1])
        took.append(time.perf_counter() - start)
        assert resp.status_code in (201, 202), resp.text
    return took


def _p99(took: list[float]) -> float:
    return statistics.quantiles(took, n=100, method="inclusive")[98]


async def test_filings_p99_barely_moves_under_200_pdf_requests_and_the_pdf_renders_once(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],  # noqa: F811
) -> None:
    task_queue, acts = gated
    acts.gate.set()
    await _publish_notice(stack)
    quiet_paths = [(await open_cycle(stack, dev_stack, task_queue))[1] for _ in range(FILINGS)]
    loaded_paths = [(await open_cycle(stack, dev_stack, task_queue))[1] for _ in range(FILINGS)]
    await asyncio.sleep(2)  # the cycles reach plan_filing
    settings = {"task_queue": task_queue, "update_answer_wait_s": 0}
    async with gateway(stack, dev_stack, nc, tmp_path, **settings) as (http, who):
        app = http._transport.app  # type: ignore[attr-defined]
        app.state.public_reads = SlidingWindow(10_000, 60)  # the load is one client here
        quiet = await _filings(http, who, quiet_paths)
        url = f"/v1/programs/{PROGRAM}/years/{NOTICE_YEAR}/results"
        pdfs = asyncio.gather(*(http.get(url, params={"format": "pdf"}) for _ in range(200)))
        loaded, answers = await asyncio.gather(_filings(http, who, loaded_paths), pdfs)
        renders = app.state.exports.renders
    print(
        f"\nfilings p99 without PDF load {_p99(quiet) * 1000:.0f} ms, "
        f"with {PDF_REQUESTS} PDF requests {_p99(loaded) * 1000:.0f} ms "
        f"(medians {statistics.median(quiet) * 1000:.0f} and "
        f"{statistics.median(loaded) * 1000:.0f} ms)"
    )
    assert {r.status_code for r in answers} == {200}
    assert renders == 1
    assert _p99(loaded) < _p99(quiet) + 1.0
