"""A whole program year through the HTTP API alone: program apply to results export.

The year is played once for the module by the ``finished_year`` fixture, whichever test asks for
it first: the operators' test needs the year finished, whatever order the tests run in."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shared.domain.rules import load_rules_file
from shared.settings import DEPLOY_DIR
from tests.e2e.conftest import RunningStack, bearer
from tests.helpers import until_json

PROGRAM, YEAR = "demo-fast", 2030
OURS = ("e2e-1", "e2e-2")
TARGETS = [{"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"}]


def _rules() -> dict[str, Any]:
    """The demo-fast calendar (a whole year in about two minutes), one base per domain."""
    doc = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    doc["eligibility"]["one_base_per_domain"] = True
    return doc


def _base(base_id: str, region: str, domain: str, staff: int = 10) -> dict[str, Any]:
    return {
        "id": base_id,
        "name": f"{base_id} 专利导航服务基地",
        "region": region,
        "domain": domain,
        "host_type": "园区",
        "staff": {"total": staff, "senior_full_time": min(4, staff)},
        "pct_minimum_data": True,
    }


@pytest.fixture(scope="module")
async def finished_year(running_stack: RunningStack) -> dict[str, Any]:
    """The year played through the API, each step checked as it goes; base e2e-2's inbox at the
    end."""
    t = running_stack.token
    admin = bearer(t("e2e-admin", "province_admin", program=PROGRAM))
    zhengzhou = bearer(t("e2e-zz", "city_officer", region="410100", program=PROGRAM))
    luoyang = bearer(t("e2e-ly", "city_officer", region="410300", program=PROGRAM))
    one = bearer(t("e2e-b1", "base_user", program=PROGRAM, base="e2e-1"))
    two = bearer(t("e2e-b2", "base_user", program=PROGRAM, base="e2e-2"))
    expert = bearer(t("e2e-expert", "expert", program=PROGRAM))
    viewer = bearer(t("e2e-viewer", "viewer", program=PROGRAM))
    api = f"/v1/programs/{PROGRAM}"
    year = f"{api}/years/{YEAR}"

    async with httpx.AsyncClient(base_url=running_stack.url, timeout=30) as http:
        applied = await http.put(api, json=_rules(), headers=admin)
        assert applied.status_code == 200 and applied.json()["version"] >= 1, applied.text
        assert (await http.put(api, json=_rules(), headers=one)).json()["code"] == "forbidden"

        for body in (_base("e2e-1", "410102", "生态环境"), _base("e2e-2", "410300", "现代农牧业")):
            created = await http.post(f"{api}/bases", json=body, headers=admin)
            assert created.status_code == 201, created.text
        taken = await http.post(
            f"{api}/bases", json=_base("e2e-3", "410200", "生态环境"), headers=admin
        )
        assert (taken.status_code, taken.json()["code"]) == (409, "domain_taken")
        small = await http.post(
            f"{api}/bases", json=_base("e2e-4", "410200", "生物医药", staff=3), headers=admin
        )
        assert (small.status_code, small.json()["code"]) == (422, "not_eligible")
        assert small.json()["reasons"][0]["code"] == "min_staff"

        assert (await http.post(f"{year}/launch", headers=admin)).status_code == 202
        for base, who in (("e2e-1", one), ("e2e-2", two)):
            opened = await until_json(
                http, f"{year}/bases/{base}", who, lambda b: b["stage"] == "plan_filing"
            )
            words = opened["deadline_words"]["plan"]  # beside the instant, in words
            assert words["zh"].endswith("前") and words["en"].startswith("by ")
            assert "T" not in words["zh"] and opened["deadlines"]["plan"]
            filed = await http.post(
                f"{year}/bases/{base}/plan",
                headers={**who, "Idempotency-Key": f"plan-{base}"},
                files={
                    "file": ("实施方案.pdf", b"%PDF-1.4 plan " + base.encode(), "application/pdf")
                },
                data={"targets": json.dumps(TARGETS)},
            )
            assert filed.status_code == 201, filed.text
            retried = await http.post(
                f"{year}/bases/{base}/plan",
                headers={**who, "Idempotency-Key": f"plan-{base}"},
                files={
                    "file": ("实施方案.pdf", b"%PDF-1.4 plan " + base.encode(), "application/pdf")
                },
                data={"targets": json.dumps(TARGETS)},
            )
            assert retried.status_code == 201 and retried.json() == filed.json(), retried.text
        plan_doc = filed.json()["document_id"]

        wrong_city = await http.post(
            f"{year}/bases/e2e-2/plan/review", json={"decision": "approve"}, headers=zhengzhou
        )
        assert (wrong_city.status_code, wrong_city.json()["code"]) == (403, "forbidden")
        for base, city in (("e2e-1", zhengzhou), ("e2e-2", luoyang)):
            keyed = {**city, "Idempotency-Key": f"city-{base}"}
            city_ok = await http.post(
                f"{year}/bases/{base}/plan/review", json={"decision": "approve"}, headers=keyed
            )
            assert city_ok.json()["stage"] == "plan_review", city_ok.text
            retried_ok = await http.post(
                f"{year}/bases/{base}/plan/review", json={"decision": "approve"}, headers=keyed
            )
            assert retried_ok.status_code == 200, retried_ok.text
            assert retried_ok.json()["stage"] == "plan_review"
            prov = await http.post(
                f"{year}/bases/{base}/plan/review", json={"decision": "approve"}, headers=admin
            )
            assert prov.json()["stage"] == "implementing", prov.text
            report = await http.post(
                f"{year}/bases/{base}/self-evaluation",
                headers=one if base == "e2e-1" else two,
                files={
                    "file": ("自评报告.pdf", b"%PDF-1.4 report " + base.encode(), "application/pdf")
                },
                data={"actuals": json.dumps({"patents": 33})},
            )
            assert report.status_code == 201, report.text

        keys = [i["key"] for i in _rules()["rubric"]["indicators"]]
        for base, value in (("e2e-1", 90), ("e2e-2", 50)):
            await until_json(
                http,
                f"{year}/bases/{base}",
                expert,
                lambda b: b["stage"] == "under_review",
                limit_s=120,  # demo-fast: the report is due 60 s after launch
            )
            scored = await http.post(
                f"{year}/bases/{base}/scores",
                json={"scores": dict.fromkeys(keys, value)},
                headers=expert,
            )
            assert scored.status_code == 201 and scored.json()["status"] == "graded", scored.text
        await until_json(http, f"{year}/bases/e2e-2", two, lambda b: b["stage"] == "rectifying")
        fixed = await http.post(
            f"{year}/bases/e2e-2/rectification",
            headers=two,
            files={"file": ("整改报告.pdf", b"%PDF-1.4 fixed", "application/pdf")},
        )
        assert fixed.status_code == 201, fixed.text
        await until_json(
            http, f"{year}/bases/e2e-2", expert, lambda b: b["stage"] == "under_review"
        )
        again = await http.post(
            f"{year}/bases/e2e-2/scores", json={"scores": dict.fromkeys(keys, 75)}, headers=expert
        )
        assert again.json()["grade"] == "pass", again.text

        notice = await until_json(
            http,
            f"{year}/results?format=json",
            {},
            lambda notice: {r["base"] for r in notice["entries"]} >= set(OURS),
        )
        rows = notice["entries"]
        ours = [r for r in rows if r["base"] in OURS]
        assert {(r["base"], r["grade"], r["region"], r["domain"]) for r in ours} == {
            ("e2e-1", "excellent", "410102", "生态环境"),
            ("e2e-2", "fail", "410300", "现代农牧业"),
        }
        csv = await http.get(f"{year}/results?format=csv")
        assert csv.content.startswith("\ufeff".encode()) and b"e2e-1" in csv.content
        xlsx = await http.get(f"{year}/results?format=xlsx")
        assert xlsx.content[:2] == b"PK"

        closed = await until_json(
            http, f"{year}/bases/e2e-1", one, lambda b: b["stage"] == "closed"
        )
        assert closed["final_grade"] == "excellent"
        await until_json(http, f"{year}/bases/e2e-2", two, lambda b: b["stage"] == "closed")
        view = await until_json(http, year, viewer, lambda v: v["stages"].get("closed") == 2)
        # With the 3 seeded bases, whose missed plans end in rectifications of their own.
        assert view["cycles"] == 5 and view["phase"] in ("concluding", "done")

        doc = await http.get(f"/v1/documents/{plan_doc}", headers=two)
        assert doc.status_code == 200 and doc.content == b"%PDF-1.4 plan e2e-2"
        assert doc.headers["x-checksum-sha256"]
        denied = await http.get(f"/v1/documents/{plan_doc}", headers=one)
        assert (denied.status_code, denied.json()["code"]) == (404, "document_not_found")

        inbox: dict[str, Any] = await until_json(
            http,
            "/v1/inbox",
            two,
            lambda b: any(n["kind"] == "rectification" for n in b["notices"]),
        )
    return inbox


async def test_a_year_from_program_apply_to_results_export(finished_year: dict[str, Any]) -> None:
    inbox = finished_year
    kinds = {n["kind"] for n in inbox["notices"]}
    assert {"launch", "rectification", "publication"} <= kinds
    assert all(n["base"] in ("e2e-2", "_") for n in inbox["notices"])


async def test_operators_replay_read_and_regrade_the_finished_year(
    running_stack: RunningStack, finished_year: dict[str, Any], tmp_path: Path
) -> None:
    replayed = await asyncio.to_thread(
        running_stack.cli, "replay", "--program", PROGRAM, "--year", str(YEAR), "--json"
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    ids = {o["workflow_id"] for o in json.loads(replayed.stdout)}
    assert {f"cycle/{PROGRAM}/{YEAR}/e2e-1", f"cycle/{PROGRAM}/{YEAR}/e2e-2"} <= ids

    events = await asyncio.to_thread(
        running_stack.cli,
        "events",
        "replay",
        "--program",
        PROGRAM,
        "--year",
        str(YEAR),
        "--type",
        "review.graded",
        "--json",
    )
    graded = [json.loads(line) for line in events.stdout.splitlines()]
    graded = [e for e in graded if e["base"] in OURS]
    assert {(e["base"], e["data"]["round"]) for e in graded} == {
        ("e2e-1", 0),
        ("e2e-2", 0),
        ("e2e-2", 1),
    }

    stricter = _rules()
    stricter["rubric"]["grades"] = {"excellent": 95, "pass": 60}
    rules_file = tmp_path / "stricter.yaml"
    rules_file.write_text(yaml.safe_dump(stricter, allow_unicode=True))
    whatif = await asyncio.to_thread(
        running_stack.cli,
        "whatif",
        "--program",
        PROGRAM,
        "--year",
        str(YEAR),
        "--rules",
        str(rules_file),
        "--json",
    )
    assert whatif.returncode == 0, whatif.stderr
    by_base = {r["base"]: r for r in json.loads(whatif.stdout)}
    assert (by_base["e2e-1"]["old_grade"], by_base["e2e-1"]["new_grade"]) == ("excellent", "pass")
    assert by_base["e2e-2"]["new_grade"] == "fail"
