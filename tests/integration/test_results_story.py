"""One year's results told through the HTTP API, as a bureau would have to defend them.

Four bases of a demo-fast year on the time-skipping server: one passes and a public objection
against it is dismissed; one passes, a city officer's objection is upheld, its review reopens and
its corrected grade is published in a supplementary notice (补充公示, notice 2); one fails on its
total and rectifies; one is vetoed. The results are final only once the 公示 period has ended and
both objections are decided; the notice published when every cycle has ended (notice 3) shows the
rectified and the vetoed base with their outcome and reason, and the objections with theirs, in
the JSON, the CSV, the XLSX and the PDF alike.

Time: the gateway's and the test's waits are real time (the server's clock runs at real speed
while no result is awaited); every time-sensitive check is made before ``result()`` lets the
server skip ahead.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nats.aio.client import Client as NatsClient
from openpyxl import load_workbook
from pypdf import PdfReader
from temporalio.client import WorkflowHandle

from services.gateway import arrival_stamp
from services.gateway.identity.tokens import Principal
from shared.contracts.results import ResultsNotice
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from tests.conftest import Stack
from tests.helpers import demo_rules, record_history, until
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.test_program_year import cycles, finish, launch
from workflows.program_year import ProgramYearWorkflow

T = TypeVar("T")

PROGRAM = "results-story"
KEPT, UPHELD, FIX, VETO = "st-kept", "st-upheld", "st-fix", "st-veto"
BASES = [KEPT, UPHELD, FIX, VETO]
FIRST_TOTALS = {KEPT: 75.0, UPHELD: 80.0, FIX: 50.0, VETO: 90.0}
RESCORED = 90.0  # the upheld base's second review: excellent instead of pass
_years = itertools.count(2071)  # the gateway takes years to 2100

DISMISS_REASON = "经核查，该基地专利数据与备案一致，异议理由不成立"
UPHOLD_REASON = "经核查，专家评分遗漏了该基地新增的导航成果，重新评审"
RECTIFIED_ZH = "限期整改后复评合格"
RECTIFIED_EN = "passed the re-review after rectification"
VETO_ZH, VETO_EN = "提供虚假材料", "false materials"

USERS = {
    "admin": Principal(name="story-admin", role="province_admin", program=PROGRAM),
    "zz_city": Principal(name="story-zhengzhou", role="city_officer", region="410100"),
}


def story_rules() -> ProgramRules:
    """demo-fast with an hour of 公示 (time to lodge and decide objections in real time), long
    review and rectification windows (nothing lapses while the test acts), and its veto named
    and final: a vetoed base is failed without rectification, so its outcome stays 'vetoed'."""
    return demo_rules(
        id=PROGRAM,
        verification=[],
        calendar__reminders=[],
        calendar__publication_period="PT1H",
        calendar__review_window="PT1H",
        calendar__rectification_period="PT1H",
        rubric__veto_outcome="fail_final",
        rubric__veto_definitions={
            "false_materials": {"key": "false_materials", "name_zh": VETO_ZH, "name_en": VETO_EN}
        },
    )


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api


async def score_open_review(
    handle: WorkflowHandle[Any, Any], rules: ProgramRules, total: float, vetoes: list[str]
) -> None:
    state = await until(
        lambda: driver.state(handle),
        lambda s: s.stage == Stage.UNDER_REVIEW and bool(s.experts),
        f"{handle.id} under review",
    )
    for expert in state.experts:
        await driver.score(handle, expert, driver.scores(rules, total), vetoes)


async def notice(api: Api, year: int, number: int | None = None) -> ResultsNotice:
    query = "" if number is None else f"?notice={number}"
    resp = await api.http.get(f"/v1/programs/{PROGRAM}/years/{year}/results{query}")
    assert resp.status_code == 200, resp.text
    return ResultsNotice.model_validate(resp.json())


async def notice_kinds(api: Api, year: int) -> list[tuple[int, str]]:
    resp = await api.http.get(f"/v1/programs/{PROGRAM}/years/{year}/notices")
    if resp.status_code == 404:
        return []
    assert resp.status_code == 200, resp.text
    return [(n["number"], n["kind"]) for n in resp.json()["notices"]]


async def export(api: Api, year: int, fmt: str, number: int | None = None) -> bytes:
    query = f"?format={fmt}" + ("" if number is None else f"&notice={number}")
    resp = await api.http.get(f"/v1/programs/{PROGRAM}/years/{year}/results{query}")
    assert resp.status_code == 200, resp.text
    return resp.content


async def finalized_events(stack: Stack, year: int) -> int:
    found = await read_events(
        stack.nc.jetstream(), event_filter(PROGRAM, year, "_", "results.finalized")
    )
    return len(found)


async def test_objections_corrections_and_outcomes_in_every_export(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = story_rules()
    driver.register(stack, rules, BASES)
    year = next(_years)
    objections_url = f"/v1/programs/{PROGRAM}/years/{year}/objections"
    program_year = await launch(stack, rules, year, expected=len(BASES))
    handles = cycles(stack, rules, year, BASES)
    for handle in handles.values():
        await driver.file_plan(stack, handle, f"%PDF-1.4 {handle.id}".encode())
        await driver.file_self_evaluation(stack, handle)
    await stack.env.sleep(timedelta(seconds=61))  # the self-evaluation falls due: reviews open
    for base, handle in handles.items():
        vetoes = ["false_materials"] if base == VETO else []
        await score_open_review(handle, rules, FIRST_TOTALS[base], vetoes)
    await until(
        lambda: program_year.query(ProgramYearWorkflow.state),
        lambda s: s.phase == "publication",
        "公示",
    )

    # ---- notice 1, the 公示: first grades; the failing base is not yet ordered to rectify
    first = await notice(api, year)
    assert (first.number, first.kind) == (1, "original")
    entries = {e.base: e for e in first.entries}
    assert {b: e.grade for b, e in entries.items()} == {
        KEPT: "pass",
        UPHELD: "pass",
        FIX: "fail",
        VETO: "fail",
    }
    assert entries[FIX].outcome == "rectification_ordered"
    assert entries[VETO].outcome == "vetoed" and VETO_ZH in entries[VETO].reason_zh
    assert entries[VETO].total == 90.0

    # ---- objections: the public against one base, the city officer against another
    public = await api.http.post(
        objections_url,
        json={
            "base": KEPT,
            "grounds": "该基地自评报告中的专利数据与实际不符",
            "contact": "138-0000-0000",
        },
    )
    assert public.status_code == 201, public.text
    assert public.json()["role"] == "public" and public.json()["status"] == "lodged"
    by_city = await api.http.post(
        objections_url,
        json={"base": UPHELD, "grounds": "专家评分遗漏了该基地本年度新增的导航成果"},
        headers=api.auth("zz_city"),
    )
    assert by_city.status_code == 201, by_city.text
    assert by_city.json()["role"] == "city_officer"

    upheld = await api.http.post(
        f"{objections_url}/{by_city.json()['objection_id']}/decision",
        json={"decision": "uphold", "reason": UPHOLD_REASON},
        headers=api.auth("admin"),
    )
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld"

    # The upheld base's review reopens (round 0 again) and the experts score it higher.
    reopened = await until(
        lambda: driver.state(handles[UPHELD]),
        lambda s: s.stage == Stage.UNDER_REVIEW,
        "the reopened review",
    )
    assert reopened.round == 0
    await score_open_review(handles[UPHELD], rules, RESCORED, [])
    await until(lambda: notice_kinds(api, year), lambda n: len(n) >= 2, "the correction")

    # ---- notice 2, the correction: the upheld base's new grade, marked corrected
    correction = await notice(api, year, 2)
    assert (correction.number, correction.kind) == (2, "supplementary")
    fixed = {e.base: e for e in correction.entries}
    assert fixed[UPHELD].grade == "excellent" and fixed[UPHELD].total == RESCORED
    assert fixed[UPHELD].corrected is True
    assert [b for b, e in fixed.items() if e.corrected] == [UPHELD]
    assert [(o.status, o.decision_reason) for o in fixed[UPHELD].objections] == [
        ("upheld", UPHOLD_REASON)
    ]
    assert len(correction.changes_zh) == 1 and correction.changes_zh[0].startswith(UPHELD)
    correction_csv = list(csv.DictReader(io.StringIO((await export(api, year, "csv", 2)).decode())))
    assert {r["\ufeff基地编号 Base"]: r["更正 Corrected"] for r in correction_csv} == {
        KEPT: "",
        UPHELD: "是 yes",
        FIX: "",
        VETO: "",
    }

    # ---- the 公示 period ends with the public's objection undecided: nothing is final yet
    state = await program_year.query(ProgramYearWorkflow.state)
    assert state.publication_until is not None
    await stack.env.sleep(state.publication_until - await stack.env.get_current_time())
    await stack.env.sleep(timedelta(minutes=1))
    after_period = await stack.env.get_current_time()
    assert after_period > state.publication_until
    state = await program_year.query(ProgramYearWorkflow.state)
    assert state.phase == "publication" and state.objections == 2
    assert await finalized_events(stack, year) == 0
    waiting = await driver.state(handles[FIX])
    assert waiting.stage == Stage.GRADED and waiting.final_grade is None
    # An objection arriving now (the gateway's clock set to the server's) is too late.
    monkeypatch.setattr(
        arrival_stamp, "now", lambda: after_period.astimezone(arrival_stamp.BEIJING)
    )
    late = await api.http.post(
        objections_url,
        json={"base": FIX, "grounds": "整改对象认定有误，请复核", "contact": "x@example.cn"},
    )
    assert late.status_code == 409 and late.json()["code"] == "not_in_publication", late.text
    monkeypatch.undo()

    dismissed = await api.http.post(
        f"{objections_url}/{public.json()['objection_id']}/decision",
        json={"decision": "dismiss", "reason": DISMISS_REASON},
        headers=api.auth("admin"),
    )
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed"

    # ---- final: the failing base is ordered to rectify only now, and rectifies
    ordered = await until(
        lambda: driver.state(handles[FIX]),
        lambda s: s.stage == Stage.RECTIFYING,
        "the rectification order",
    )
    assert ordered.final_grade == "fail" and ordered.round == 1
    assert await finalized_events(stack, year) == 1
    await driver.file_rectification(stack, handles[FIX])
    await score_open_review(handles[FIX], rules, 72, [])

    done = await program_year.result()
    assert done.phase == "done" and done.notices == 3
    await record_history(program_year, "program-year-objections")
    outcomes = {b: await finish(stack, h) for b, h in handles.items()}
    await record_history(handles[UPHELD], "cycle-objection-upheld")
    assert outcomes[UPHELD].final_grade == "excellent" and outcomes[UPHELD].stage == Stage.CLOSED
    assert outcomes[FIX].stage == Stage.CLOSED and outcomes[VETO].stage == Stage.CLOSED
    assert driver.base_status(stack, PROGRAM, FIX) == "active"

    assert await notice_kinds(api, year) == [
        (1, "original"),
        (2, "supplementary"),
        (3, "supplementary"),
    ]
    await _final_notice_json(api, year)
    await _final_csv(api, year)
    await _final_xlsx(api, year)
    await _final_pdf(api, year)


# ------------------------------------------------------------ the final notice, every format


async def _final_notice_json(api: Api, year: int) -> None:
    final = await notice(api, year)
    assert (final.number, final.kind) == (3, "supplementary")
    entries = {e.base: e for e in final.entries}
    assert (entries[FIX].outcome, entries[FIX].reason_zh, entries[FIX].reason_en) == (
        "rectified",
        RECTIFIED_ZH,
        RECTIFIED_EN,
    )
    assert entries[VETO].outcome == "vetoed" and entries[VETO].grade == "fail"
    assert entries[VETO].reason_zh.startswith(f"一票否决：{VETO_ZH}")
    assert entries[VETO].reason_en.startswith(f"vetoed: {VETO_EN}")
    assert entries[UPHELD].grade == "excellent" and entries[UPHELD].outcome == "none"
    assert entries[KEPT].grade == "pass" and entries[KEPT].outcome == "none"
    assert not any(e.corrected for e in final.entries)  # nothing corrected by this notice
    assert [(o.status, o.decision_reason) for o in entries[KEPT].objections] == [
        ("dismissed", DISMISS_REASON)
    ]
    assert [(o.status, o.decision_reason) for o in entries[UPHELD].objections] == [
        ("upheld", UPHOLD_REASON)
    ]


async def _final_csv(api: Api, year: int) -> None:
    raw = await export(api, year, "csv")
    assert raw.startswith("\ufeff".encode())
    rows = {r["基地编号 Base"]: r for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}
    assert set(rows) == set(BASES)
    fix, veto = rows[FIX], rows[VETO]
    assert (fix["结果 Outcome"], fix["处理结果"], fix["理由"], fix["Reason"]) == (
        "rectified",
        "整改合格",
        RECTIFIED_ZH,
        RECTIFIED_EN,
    )
    assert (veto["结果 Outcome"], veto["处理结果"]) == ("vetoed", "一票否决")
    assert veto["理由"].startswith(f"一票否决：{VETO_ZH}") and VETO_EN in veto["Reason"]
    assert rows[KEPT]["异议 Objections"] == f"不成立 Dismissed：{DISMISS_REASON}"
    assert rows[UPHELD]["异议 Objections"] == f"成立 Upheld：{UPHOLD_REASON}"
    assert rows[UPHELD]["评估等级"] == "优秀"


async def _final_xlsx(api: Api, year: int) -> None:
    book = load_workbook(io.BytesIO(await export(api, year, "xlsx")), read_only=True)
    sheet = book["公示结果"]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "补充公示（第3号）" in str(table[0][0])
    at = next(i for i, r in enumerate(table) if r[0] == "基地编号 Base")
    header = table[at]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in table[at + 1 :] if r[0] in BASES}
    assert set(rows) == set(BASES)
    assert (rows[FIX]["结果 Outcome"], rows[FIX]["理由"], rows[FIX]["Reason"]) == (
        "rectified",
        RECTIFIED_ZH,
        RECTIFIED_EN,
    )
    assert rows[VETO]["结果 Outcome"] == "vetoed" and rows[VETO]["处理结果"] == "一票否决"
    assert str(rows[VETO]["理由"]).startswith(f"一票否决：{VETO_ZH}")
    objections = [list(r) for r in book["异议 Objections"].iter_rows(values_only=True)]
    assert sorted((r[0], r[4], r[5], r[6]) for r in objections[1:]) == [
        (KEPT, "不成立", "Dismissed", DISMISS_REASON),
        (UPHELD, "成立", "Upheld", UPHOLD_REASON),
    ]


async def _final_pdf(api: Api, year: int) -> None:
    reader = PdfReader(io.BytesIO(await export(api, year, "pdf")))
    text = "".join(page.extract_text() for page in reader.pages)
    flat = "".join(text.split())  # cells and sentences wrap across lines
    assert f"关于{year}年度演示项目评估结果的补充公示（第3号）" in flat
    assert "整改合格" in flat and RECTIFIED_ZH in flat
    assert f"一票否决：{VETO_ZH}" in flat
    assert "异议及处理情况" in flat
    assert f"异议不成立（{DISMISS_REASON}）" in flat
    assert f"异议成立（{UPHOLD_REASON}）" in flat
    assert not re.search(r"\d{4}-\d{2}-\d{2}T|PT\d", text), text
    fonts = _fonts(reader)
    assert fonts, "no fonts in the PDF"
    for name, descriptor in fonts:
        assert descriptor is not None, f"{name} is only named, not embedded"
        assert "/FontFile2" in descriptor, f"{name} has no embedded TrueType program"


def _fonts(reader: PdfReader) -> list[tuple[str, Any]]:
    """Every font the pages use (a Type0 font through its CID descendants) with its descriptor,
    or None when it has none (a standard or a CID font only named, as STSong-Light is)."""
    found: list[tuple[str, Any]] = []
    for page in reader.pages:
        resources: Any = page["/Resources"].get_object()
        for ref in resources["/Font"].get_object().values():
            font = ref.get_object()
            for part in font.get("/DescendantFonts", [font]):
                d = part.get_object()
                descriptor = d.get("/FontDescriptor")
                found.append(
                    (
                        str(d.get("/BaseFont")),
                        None if descriptor is None else descriptor.get_object(),
                    )
                )
    return found
