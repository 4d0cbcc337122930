"""A demo year of 50 bases on the `navcycle up` stack, watched live in headless Chromium; then
replayed (clean, and failing under a deliberately nondeterministic change), its projections
rebuilt, and its 公示 published as a page, CSV and a PDF notice.

The tests share the year, played once for the module by the ``played`` fixture (whichever test
asks for it first, in any order), which watches it in Chromium as it plays.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from services.dashboard import store
from services.dashboard.rebuild import CHECKPOINT
from shared.db import make_engine
from tests.e2e.conftest import RunningStack, bearer
from tests.helpers import until

# `navcycle demo` plays only a simulation program: the one it makes from the demo-fast preset.
PROGRAM, REAL, YEAR, BASES = "sim-demo-fast", "demo-fast", 2036, 50
ARTIFACTS = Path(os.environ.get("NAVCYCLE_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM = os.environ.get("NAVCYCLE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
STAGES = [
    "plan_filing",
    "plan_review",
    "implementing",
    "under_review",
    "graded",
    "rectifying",
    "closed",
    "delisted",
    "excluded",
]
HAVE_CHROMIUM = Path(CHROMIUM).exists()
# The first test to ask for ``played`` waits for a real-time year: about two minutes, more on a
# loaded machine.
pytestmark = pytest.mark.timeout(1200)

# What the page shows, read from its DOM.
READ_PAGE = """() => {
  const n = (sel) => Number(document.querySelector(sel)?.textContent || 0);
  const stages = {};
  for (const card of document.querySelectorAll('#stages .card')) {
    const v = Number(card.querySelector('.n').textContent);
    if (v) stages[card.dataset.stage] = v;
  }
  const grades = {};
  for (const bar of document.querySelectorAll('#grade-chart rect')) {
    const v = Number(bar.dataset.count);
    if (v) grades[bar.dataset.grade] = v;
  }
  return {total: n('#total'), seq: n('#seq'), stages, grades,
          live: document.querySelector('#live').dataset.state};
}"""


def _artifact(name: str) -> str:
    """Where a test keeps what it shows (screenshots, the PDF), for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)


def _size(path: str) -> int:
    return Path(path).stat().st_size


def _save(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)


@pytest.fixture(scope="module")
async def played(running_stack: RunningStack) -> dict[str, Any]:
    """The demo year, played once and watched live in Chromium: what the people in the demo
    ended with (``summary``), the page's states as they changed (``seen``), the API's counts at
    the end (``api``) and the viewer's token."""
    from playwright.async_api import async_playwright

    assert HAVE_CHROMIUM, f"no chromium at {CHROMIUM}: apt-get install chromium"
    token = running_stack.token("demo-viewer", "viewer", program=PROGRAM)
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        "demo",
        "--bases",
        str(BASES),
        "--year",
        str(YEAR),
        "--json",
        env=running_stack.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    playing = asyncio.create_task(demo.communicate())
    seen: list[dict[str, Any]] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 960})
            await page.goto(
                f"{running_stack.url}/dashboard?program={PROGRAM}&year={YEAR}#token={token}"
            )
            assert await page.evaluate("document.documentElement.lang") == "zh-CN"
            while not playing.done():  # the page is never reloaded: every change came live
                shown = await page.evaluate(READ_PAGE)
                if not seen or shown != seen[-1]:
                    seen.append(shown)
                await asyncio.sleep(0.5)
            out, err = playing.result()
            assert demo.returncode == 0, err.decode()[-3000:]
            summary = json.loads(out)

            async def both() -> tuple[Any, Any]:
                return await page.evaluate(READ_PAGE), await _api_counts(running_stack, token)

            shown, api = await until(  # the last notices are on their way
                both,
                lambda seen: _shown_view(seen[0]) == _page_view(seen[1]),
                "the page showing what the API counts",
                every=0.5,
            )
            assert shown["live"] == "live"
            await page.screenshot(path=_artifact(f"dashboard-{PROGRAM}-{YEAR}.png"))

            # A base's timeline, with its documents; then the English switch.
            base = "sim-00001"
            await page.select_option("#base-select", base)
            await page.wait_for_function(
                "() => [...document.querySelectorAll('#timeline tr')]"
                ".some((r) => r.textContent.includes('plan.filed'))"
            )
            assert await page.locator("#timeline a[title]").count() >= 1  # document links
            await page.click("#lang-toggle")
            assert await page.evaluate("document.documentElement.lang") == "en"
            assert "dashboard" in (await page.title())
            await page.screenshot(
                path=_artifact(f"dashboard-{PROGRAM}-{YEAR}-en.png"), full_page=True
            )
        finally:
            await browser.close()
            if demo.returncode is None:  # the test failed while the year was playing
                demo.kill()
                await demo.wait()

    return {"summary": summary, "token": token, "seen": seen, "api": api}


async def test_the_dashboard_follows_a_demo_year_live_in_chromium(played: dict[str, Any]) -> None:
    seen, api, summary = played["seen"], played["api"], played["summary"]
    assert len(seen) >= 5, f"the counts changed only {len(seen)} times: {seen}"
    assert len({json.dumps(s["stages"], sort_keys=True) for s in seen}) >= 4, seen
    assert any(s["stages"].get("implementing") for s in seen), "never saw a base implementing"
    # The dashboard's view agrees with what the people in the demo ended with.
    assert api["by_stage"] == summary["outcomes"]
    assert summary["recompute_mismatches"] == []
    assert _size(_artifact(f"dashboard-{PROGRAM}-{YEAR}.png")) > 10_000


async def _api_counts(stack: RunningStack, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        resp = await http.get(
            f"/v1/programs/{PROGRAM}/years/{YEAR}/dashboard", headers=bearer(token)
        )
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


def _page_view(api: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": api["bases"],
        "seq": api["stream_seq"],
        "stages": {k: v for k, v in api["by_stage"].items() if v},
        "grades": {k: v for k, v in api["by_grade"].items() if v},
    }


def _shown_view(shown: dict[str, Any]) -> dict[str, Any]:
    return {k: shown[k] for k in ("total", "seq", "stages", "grades")}


def test_the_demo_year_replays_clean_and_a_nondeterministic_change_names_the_workflow(
    running_stack: RunningStack, played: dict[str, Any]
) -> None:
    clean = running_stack.cli("replay", "--program", PROGRAM, "--year", str(YEAR), "--json")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]
    outcomes = json.loads(clean.stdout)
    cycles = [o for o in outcomes if o["workflow_id"].startswith(f"cycle/{PROGRAM}/{YEAR}/")]
    assert len(cycles) == played["summary"]["bases"] >= BASES
    assert all(o["ok"] for o in outcomes)

    # The same replay with one extra timer at the start of every cycle: not committed code,
    # swapped into the workflow registry of this process only.
    changed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys\n"
            "from tests.nondeterministic import ReorderedCycle\n"
            "from workflows.cycle import AnnualCycleWorkflow\n"
            "from workflows.registry import WORKFLOWS\n"
            "WORKFLOWS[WORKFLOWS.index(AnnualCycleWorkflow)] = ReorderedCycle\n"
            "from services.cli.main import main\n"
            f"code = main(['replay', '--program', '{PROGRAM}', '--year', '{YEAR}', '--json'])\n"
            "sys.stdout.flush()\n"
            "os._exit(code)  # as the CLI does: past the Temporal core's native threads\n",
        ],
        env=running_stack.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert changed.returncode != 0, changed.stdout[-2000:]
    failed = [o for o in json.loads(changed.stdout) if not o["ok"]]
    assert {o["workflow_id"] for o in failed} == {o["workflow_id"] for o in cycles}
    assert all("nondetermin" in o["reason"].lower() for o in failed), failed[:2]


async def test_a_rebuild_on_the_stack_equals_the_live_projections(
    running_stack: RunningStack, played: dict[str, Any]
) -> None:
    engine = make_engine(f"sqlite:///{running_stack.state_dir / 'dashboard.db'}")
    import nats

    nc = await nats.connect(running_stack.nats_url)
    try:
        for _attempt in range(5):
            last = (await nc.jetstream().stream_info("NAVCYCLE_EVENTS")).state.last_seq
            await until(
                lambda: store.checkpoint(engine, CHECKPOINT),
                lambda seq: seq >= last,  # noqa: B023 - used within this iteration
                f"the dashboard's checkpoint at {last}",
                every=0.2,
            )
            live = (store.cycles(engine), store.timeline(engine))
            rebuilt = await asyncio.to_thread(running_stack.cli, "dashboard", "rebuild", "--json")
            assert rebuilt.returncode == 0, rebuilt.stderr
            report = json.loads(rebuilt.stdout)
            if report["stream_seq"] == last + 1 and report["caught_up"] == 0:
                break  # nothing but the rebuild's own audit event arrived in between
        else:
            pytest.fail("the event log kept moving during every rebuild")
    finally:
        await nc.close()
    assert report["events"] >= len(live[1])
    assert store.cycles(engine) == live[0]
    rebuilt_timeline = store.timeline(engine)
    audit = [r for r in rebuilt_timeline if r["stream_seq"] == last + 1]
    assert [r["type"] for r in audit] == ["navcycle.operator.action"]
    assert [r for r in rebuilt_timeline if r["stream_seq"] <= last] == live[1]
    assert (
        sum(1 for c in live[0] if c["program"] == PROGRAM and c["year"] == YEAR)
        == (played["summary"]["bases"])
    )


async def test_the_published_results_page_csv_and_pdf_notice(
    running_stack: RunningStack, played: dict[str, Any]
) -> None:
    api = f"/v1/programs/{PROGRAM}/years/{YEAR}/results"
    async with httpx.AsyncClient(base_url=running_stack.url, timeout=30) as http:
        rows = (await http.get(api)).json()["entries"]
        excluded = played["summary"]["grades"].get("excluded", 0)
        assert len(rows) == played["summary"]["bases"] - excluded > 0

        page = await http.get(f"/results/{PROGRAM}/{YEAR}")
        assert page.status_code == 200 and "公示" in page.text
        assert page.text.count("<tr data-base=") == len(rows)
        assert "合格" in page.text or "优秀" in page.text
        english = await http.get(f"/results/{PROGRAM}/{YEAR}", params={"lang": "en"})
        assert "notice no." in english.text and 'lang="en"' in english.text
        assert "Outcome" in english.text and "Reason" in english.text

        csv = await http.get(api, params={"format": "csv"})
        assert csv.content.startswith("\ufeff".encode())
        assert len(csv.content.decode("utf-8-sig").strip().splitlines()) == len(rows) + 1

        pdf = await http.get(api, params={"format": "pdf"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert f"关于{YEAR}年度" in text and "公示" in text
        assert rows[0]["name"] in text
        _save(_artifact(f"results-{PROGRAM}-{YEAR}.pdf"), pdf.content)

        missing = await http.get(f"/results/{PROGRAM}/2099")
        assert missing.status_code == 404
        assert missing.json()["code"] == "results_not_published"

        # Nothing the simulation did reached the real program's record.
        real = await http.get(f"/v1/programs/{REAL}/years/{YEAR}/results")
        assert real.status_code == 404 and real.json()["code"] == "results_not_published"
        program = await http.get(f"/v1/programs/{PROGRAM}", headers=bearer(played["token"]))
        assert program.json()["rules"]["simulation"] is True, program.text
        assert program.json()["rules"]["name"].startswith("【模拟】")
