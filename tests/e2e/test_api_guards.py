"""The bad-input catalogue and the authorisation matrix, against the running stack.

Every bad request gets its exact status and stable ``code``, and changes nothing: no document
stored, no event published, no cycle moved.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from shared.stream import EVENTS_STREAM
from tests.e2e import world as w

G1, G2, F1, F2 = ("gate", "g1"), ("gate", "g2"), ("gate-fast", "f1"), ("gate-fast", "f2")
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
MZ = b"MZ\x90\x00" + b"\x00" * 64


async def snapshot(world: w.World, http: httpx.AsyncClient) -> dict[str, Any]:
    objects = Path(world.stack.state_dir) / "objects"
    files = sorted(str(p) for p in objects.rglob("*") if p.is_file())
    nc = await nats.connect(world.stack.nats_url)
    try:
        js = nc.jetstream()
        messages = (await js.stream_info(EVENTS_STREAM)).state.messages
        # An admin's accepted request is recorded as an audit event even when it changes
        # nothing else (re-applying the same rules): audit events are not changes.
        audit = await js.stream_info(
            EVENTS_STREAM, subjects_filter="navcycle.events.*.*.*.operator.action"
        )
        messages -= sum((audit.state.subjects or {}).values())
    finally:
        await nc.close()
    cycles = {}
    for program, b in (G1, G2, F1, F2):
        state = (await http.get(world.cycle(program, b), headers=world.headers["viewer"])).json()
        cycles[b] = (
            state["stage"],
            len(state["history"]),
            len(state["documents"]),
            state["scores_received"],
        )
    return {"objects": files, "events": messages, "cycles": cycles}


def upload(name: str = "plan.pdf", data: bytes = w.PDF) -> dict[str, Any]:
    return {"files": {"file": (name, data, "application/pdf")}, "data": {"targets": w.TARGETS}}


Case = tuple[str, str, str, Callable[[w.World], dict[str, Any]], int, str]
P = "/v1/programs"
C = "/v1/programs/gate/years/2032/bases"
F = "/v1/programs/gate-fast/years/2032/bases"
SCORES = ["report_quality", "database", "application", "conditions", "reporting"]

CASES: list[Case] = [
    # authentication
    ("no token", "GET", f"{C}/g1", lambda _: {}, 401, "unauthenticated"),
    (
        "unknown token",
        "GET",
        f"{C}/g1",
        lambda _: {"headers": {"Authorization": "Bearer nvc_nope"}},
        401,
        "invalid_token",
    ),
    (
        "not a bearer",
        "GET",
        f"{C}/g1",
        lambda _: {"headers": {"Authorization": "Basic Zm9vOmJhcg=="}},
        401,
        "invalid_token",
    ),
    (
        "empty bearer",
        "GET",
        f"{C}/g1",
        lambda _: {"headers": {"Authorization": "Bearer"}},
        401,
        "invalid_token",
    ),
    # malformed JSON and wrong types
    (
        "malformed rules JSON",
        "PUT",
        f"{P}/gate",
        lambda x: {
            "headers": {**x.headers["admin_gate"], "content-type": "application/json"},
            "content": b"{id: gate",
        },
        422,
        "invalid_request",
    ),
    (
        "rules with a bad weight",
        "PUT",
        f"{P}/gate",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {
                **w.rules("gate"),
                "rubric": {
                    "version": "1",
                    "indicators": [{"key": "a", "name": "A", "weight": "heavy"}],
                },
            },
        },
        422,
        "invalid_rules",
    ),
    (
        "rules with a bad duration",
        "PUT",
        f"{P}/gate",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": w.rules("gate", plan_window="one month"),
        },
        422,
        "invalid_rules",
    ),
    (
        "rules for another id",
        "PUT",
        f"{P}/gate",
        lambda x: {"headers": x.headers["admin_gate"], "json": w.rules("other")},
        422,
        "program_id_mismatch",
    ),
    (
        "rules not an object",
        "PUT",
        f"{P}/gate",
        lambda x: {"headers": x.headers["admin_gate"], "json": [1, 2]},
        422,
        "invalid_request",
    ),
    (
        "base without fields",
        "POST",
        f"{P}/gate/bases",
        lambda x: {"headers": x.headers["admin_gate"], "json": {"id": "g9"}},
        422,
        "invalid_request",
    ),
    (
        "base with short region",
        "POST",
        f"{P}/gate/bases",
        lambda x: {"headers": x.headers["admin_gate"], "json": {**w.base("g9", "41", "新材料")}},
        422,
        "invalid_request",
    ),
    (
        "SQL-looking base id",
        "POST",
        f"{P}/gate/bases",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": w.base("g9'; DROP TABLE registry_bases;--", "410100", "新材料"),
        },
        422,
        "invalid_request",
    ),
    (
        "very long base name",
        "POST",
        f"{P}/gate/bases",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {**w.base("g9", "410100", "新材料"), "name": "长" * 10_000},
        },
        422,
        "invalid_request",
    ),
    (
        "negative staff",
        "POST",
        f"{P}/gate/bases",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {
                **w.base("g9", "410100", "新材料"),
                "staff": {"total": -1, "senior_full_time": 0},
            },
        },
        422,
        "invalid_request",
    ),
    (
        "extra field in base",
        "POST",
        f"{P}/gate/bases",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {**w.base("g9", "410100", "新材料"), "admin": True},
        },
        422,
        "invalid_request",
    ),
    (
        "base registered twice",
        "POST",
        f"{P}/gate/bases",
        lambda x: {"headers": x.headers["admin_gate"], "json": w.base("g1", "410102", "生物医药")},
        409,
        "base_exists",
    ),
    (
        "bad region filter",
        "GET",
        f"{P}/gate/bases?region=abc",
        lambda x: {"headers": x.headers["viewer"]},
        422,
        "invalid_request",
    ),
    (
        "bad status filter",
        "GET",
        f"{P}/gate/bases?status=gone",
        lambda x: {"headers": x.headers["viewer"]},
        422,
        "invalid_request",
    ),
    # unknown program, year or base
    (
        "unknown program",
        "GET",
        f"{P}/nowhere",
        lambda x: {"headers": x.headers["viewer"]},
        404,
        "program_not_found",
    ),
    (
        "unknown base",
        "GET",
        f"{C}/zz",
        lambda x: {"headers": x.headers["viewer"]},
        404,
        "base_not_found",
    ),
    (
        "year not launched",
        "GET",
        "/v1/programs/gate/years/2040/bases/g1",
        lambda x: {"headers": x.headers["viewer"]},
        404,
        "cycle_not_found",
    ),
    (
        "year out of range",
        "GET",
        "/v1/programs/gate/years/1999/bases/g1",
        lambda x: {"headers": x.headers["viewer"]},
        422,
        "invalid_request",
    ),
    (
        "dotted base id",
        "GET",
        f"{C}/g.1",
        lambda x: {"headers": x.headers["viewer"]},
        422,
        "invalid_request",
    ),
    (
        "unknown document",
        "GET",
        "/v1/documents/00000000-0000-0000-0000-000000000000",
        lambda x: {"headers": x.headers["viewer"]},
        404,
        "document_not_found",
    ),
    (
        "malformed document id",
        "GET",
        "/v1/documents/..%2F..%2Fetc",
        lambda x: {"headers": x.headers["viewer"]},
        404,
        "not_found",
    ),
    (
        "results not published",
        "GET",
        "/v1/programs/gate/years/2032/results",
        lambda _: {},
        404,
        "results_not_published",
    ),
    (
        "unknown results format",
        "GET",
        "/v1/programs/gate/years/2032/results?format=pdfx",
        lambda _: {},
        422,
        "invalid_request",
    ),
    # uploads
    (
        "plan without file",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], "data": {"targets": w.TARGETS}},
        422,
        "invalid_request",
    ),
    (
        "plan without targets",
        "POST",
        f"{C}/g2/plan",
        lambda x: {
            "headers": x.headers["base_g2"],
            "files": {"file": ("p.pdf", w.PDF, "application/pdf")},
        },
        422,
        "invalid_request",
    ),
    (
        "targets not JSON",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(), "data": {"targets": "[{"}},
        422,
        "invalid_targets",
    ),
    (
        "targets of the wrong type",
        "POST",
        f"{C}/g2/plan",
        lambda x: {
            "headers": x.headers["base_g2"],
            **upload(),
            "data": {"targets": '[{"key": "a", "name": "A", "target": "many"}]'},
        },
        422,
        "invalid_targets",
    ),
    (
        "targets repeat a key",
        "POST",
        f"{C}/g2/plan",
        lambda x: {
            "headers": x.headers["base_g2"],
            **upload(),
            "data": {
                "targets": json.dumps(
                    [{"key": "a", "name": "A", "target": 1}, {"key": "a", "name": "B", "target": 2}]
                )
            },
        },
        422,
        "invalid_targets",
    ),
    (
        "empty file",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(data=b"")},
        422,
        "invalid_upload",
    ),
    (
        "oversize file",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(data=b"%PDF-1.4" + b"0" * 2_100_000)},
        413,
        "file_too_large",
    ),
    (
        "a .pdf that is an ELF executable",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(data=ELF)},
        415,
        "unsupported_media_type",
    ),
    (
        "a .pdf that is a Windows executable",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(data=MZ)},
        415,
        "unsupported_media_type",
    ),
    (
        "path traversal in the file name",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(name="../../etc/passwd.pdf")},
        422,
        "invalid_filename",
    ),
    (
        "backslashes in the file name",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(name="..\\..\\boot.ini")},
        422,
        "invalid_filename",
    ),
    (
        "control characters in the file name",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g2"], **upload(name="plan\x01\x7f.pdf")},
        422,
        "invalid_filename",
    ),
    (
        "bad idempotency key",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": {**x.headers["base_g2"], "Idempotency-Key": "a b/c"}, **upload()},
        422,
        "invalid_request",
    ),
    # wrong role, another base's data
    (
        "another base files a plan",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["base_g1"], **upload()},
        403,
        "forbidden",
    ),
    (
        "a viewer files a plan",
        "POST",
        f"{C}/g2/plan",
        lambda x: {"headers": x.headers["viewer"], **upload()},
        403,
        "forbidden",
    ),
    (
        "a base launches a year",
        "POST",
        "/v1/programs/gate/years/2033/launch",
        lambda x: {"headers": x.headers["base_g1"]},
        403,
        "forbidden",
    ),
    (
        "another program's admin",
        "PUT",
        f"{P}/gate",
        lambda x: {"headers": x.headers["admin_other"], "json": w.rules("gate")},
        403,
        "forbidden",
    ),
    (
        "another base's document",
        "GET",
        "/v1/documents/{doc}",
        lambda x: {"headers": x.headers["base_g2"]},
        403,
        "forbidden",
    ),
    (
        "another region's city verifies",
        "POST",
        f"{C}/g1/plan/review",
        lambda x: {"headers": x.headers["city_ly"], "json": {"decision": "approve"}},
        403,
        "forbidden",
    ),
    (
        "an unassigned expert scores",
        "POST",
        f"{F}/f1/scores",
        lambda x: {
            "headers": x.headers["expert_gate"],
            "json": {"scores": dict.fromkeys(SCORES, 80)},
        },
        403,
        "forbidden",
    ),
    # wrong stage, late, duplicate, out of range
    (
        "self-evaluation before the plan",
        "POST",
        f"{C}/g2/self-evaluation",
        lambda x: {
            "headers": x.headers["base_g2"],
            "files": {"file": ("r.pdf", w.PDF, "application/pdf")},
        },
        409,
        "wrong_stage",
    ),
    (
        "rectification with nothing to rectify",
        "POST",
        f"{C}/g2/rectification",
        lambda x: {
            "headers": x.headers["base_g2"],
            "files": {"file": ("r.pdf", w.PDF, "application/pdf")},
        },
        409,
        "wrong_stage",
    ),
    (
        "a review with no plan filed",
        "POST",
        f"{C}/g2/plan/review",
        lambda x: {"headers": x.headers["city_ly"], "json": {"decision": "approve"}},
        409,
        "wrong_stage",
    ),
    (
        "the province before the city",
        "POST",
        f"{C}/g1/plan/review",
        lambda x: {
            "headers": x.headers["city_zz"],
            "json": {"decision": "approve", "step": "province"},
        },
        409,
        "wrong_stage",
    ),
    (
        "an unknown review decision",
        "POST",
        f"{C}/g1/plan/review",
        lambda x: {"headers": x.headers["city_zz"], "json": {"decision": "maybe"}},
        422,
        "invalid_request",
    ),
    (
        "a duplicate plan",
        "POST",
        f"{C}/g1/plan",
        lambda x: {"headers": x.headers["base_g1"], **upload()},
        409,
        "duplicate_filing",
    ),
    (
        "a late plan",
        "POST",
        f"{F}/f2/plan",
        lambda x: {"headers": x.headers["base_f2"], **upload()},
        409,
        "deadline_passed",
    ),
    (
        "a score out of range",
        "POST",
        f"{F}/f1/scores",
        lambda x: {
            "headers": x.headers["expert_fast"],
            "json": {"scores": dict.fromkeys(SCORES, 101)},
        },
        422,
        "invalid_scores",
    ),
    (
        "a score for an unknown indicator",
        "POST",
        f"{F}/f1/scores",
        lambda x: {
            "headers": x.headers["expert_fast"],
            "json": {"scores": {**dict.fromkeys(SCORES, 80), "bribes": 100}},
        },
        422,
        "invalid_scores",
    ),
    (
        "an unknown veto",
        "POST",
        f"{F}/f1/scores",
        lambda x: {
            "headers": x.headers["expert_fast"],
            "json": {"scores": dict.fromkeys(SCORES, 80), "vetoes": ["none"]},
        },
        422,
        "invalid_scores",
    ),
    (
        "scores of the wrong type",
        "POST",
        f"{F}/f1/scores",
        lambda x: {"headers": x.headers["expert_fast"], "json": {"scores": "high"}},
        422,
        "invalid_request",
    ),
    (
        "an extension into the past",
        "POST",
        f"{C}/g2/deadlines",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {"deadline": "plan", "until": "2020-01-01T00:00:00+08:00", "reason": "x"},
        },
        422,
        "invalid_extension",
    ),
    (
        "an extension without a zone",
        "POST",
        f"{C}/g2/deadlines",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {"deadline": "plan", "until": "2040-01-01T00:00:00", "reason": "x"},
        },
        422,
        "invalid_extension",
    ),
    (
        "an extension of an unknown deadline",
        "POST",
        f"{C}/g2/deadlines",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {"deadline": "lunch", "until": "2040-01-01T00:00:00+08:00", "reason": "x"},
        },
        422,
        "invalid_request",
    ),
    (
        "an extension without a reason",
        "POST",
        f"{C}/g2/deadlines",
        lambda x: {
            "headers": x.headers["admin_gate"],
            "json": {"deadline": "plan", "until": "2040-01-01T00:00:00+08:00", "reason": ""},
        },
        422,
        "invalid_request",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_bad_request_is_refused_precisely_and_changes_nothing(
    world: w.World, case: Case
) -> None:
    _, method, path, make, status, code = case
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        before = await snapshot(world, http)
        resp = await http.request(method, path.replace("{doc}", world.plan_document), **make(world))
        assert (resp.status_code, resp.json().get("code")) == (status, code), resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert await snapshot(world, http) == before


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40


async def test_a_revoked_token_is_refused(world: w.World) -> None:
    token = world.stack.token("guard-revoked", "viewer")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli.main", "user", "revoke", "--name", "guard-revoked"],
        env=world.stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        resp = await http.get(f"{C}/g1", headers={"Authorization": f"Bearer {token}"})
    assert (resp.status_code, resp.json()["code"]) == (401, "invalid_token")


ROLES = [
    "admin_gate",
    "admin_other",
    "city_zz",
    "city_ly",
    "base_g1",
    "base_g2",
    "expert_fast",
    "expert_gate",
    "operator",
    "viewer",
]

# endpoint -> the roles that may pass authorisation. Allowed requests are built so that the
# step after authorisation refuses them (state, duplicate, bad body), so nothing changes.
MATRIX: list[tuple[str, str, str, Callable[[w.World], dict[str, Any]], set[str]]] = [
    (
        "read program",
        "GET",
        f"{P}/gate",
        lambda _: {},
        {
            "admin_gate",
            "city_zz",
            "city_ly",
            "base_g1",
            "base_g2",
            "expert_gate",
            "operator",
            "viewer",
        },
    ),
    (
        "apply rules",
        "PUT",
        f"{P}/gate",
        lambda _: {
            "json": w.rules(
                "gate",
                self_evaluation_due="PT2H",
                **{
                    k: "PT1H"
                    for k in (
                        "plan_window",
                        "plan_review_window",
                        "review_window",
                        "rectification_period",
                    )
                },
            )
        },
        {"admin_gate"},
    ),
    (
        "register a base",
        "POST",
        f"{P}/gate/bases",
        lambda _: {"json": w.base("g1", "410102", "新材料")},
        {"admin_gate"},
    ),
    (
        "list bases",
        "GET",
        f"{P}/gate/bases",
        lambda _: {},
        {
            "admin_gate",
            "city_zz",
            "city_ly",
            "base_g1",
            "base_g2",
            "expert_gate",
            "operator",
            "viewer",
        },
    ),
    ("launch", "POST", "/v1/programs/gate/years/2032/launch", lambda _: {}, {"admin_gate"}),
    (
        "year view",
        "GET",
        "/v1/programs/gate/years/2032",
        lambda _: {},
        {
            "admin_gate",
            "city_zz",
            "city_ly",
            "base_g1",
            "base_g2",
            "expert_gate",
            "operator",
            "viewer",
        },
    ),
    (
        "read g1's cycle",
        "GET",
        f"{C}/g1",
        lambda _: {},
        {"admin_gate", "city_zz", "base_g1", "operator", "viewer"},
    ),
    (
        "read f1's cycle",
        "GET",
        f"{F}/f1",
        lambda _: {},
        {"city_zz", "expert_fast", "operator", "viewer"},
    ),
    ("file g1's plan", "POST", f"{C}/g1/plan", lambda _: upload(), {"base_g1"}),
    (
        "verify g1 (city step)",
        "POST",
        f"{C}/g1/plan/review",
        lambda _: {"json": {"decision": "approve", "step": "province"}},
        {"city_zz"},
    ),
    (
        "file g1's report",
        "POST",
        f"{C}/g1/self-evaluation",
        lambda _: {"files": {"file": ("r.pdf", w.PDF, "application/pdf")}},
        {"base_g1"},
    ),
    (
        "file g1's rectification",
        "POST",
        f"{C}/g1/rectification",
        lambda _: {"files": {"file": ("r.pdf", w.PDF, "application/pdf")}},
        {"base_g1"},
    ),
    (
        "score f1",
        "POST",
        f"{F}/f1/scores",
        lambda _: {"json": {"scores": {"x": 1}}},
        {"expert_fast"},
    ),
    (
        "extend g1's deadline",
        "POST",
        f"{C}/g1/deadlines",
        lambda _: {
            "json": {"deadline": "plan", "until": "2020-01-01T00:00:00+08:00", "reason": "x"}
        },
        {"admin_gate"},
    ),
    (
        "dashboard counts",
        "GET",
        "/v1/programs/gate/years/2032/dashboard",
        lambda _: {},
        {
            "admin_gate",
            "city_zz",
            "city_ly",
            "base_g1",
            "base_g2",
            "expert_gate",
            "operator",
            "viewer",
        },
    ),
    (
        "g1's timeline",
        "GET",
        f"{C}/g1/timeline",
        lambda _: {},
        {"admin_gate", "city_zz", "base_g1", "operator", "viewer"},
    ),
    (
        "download g1's plan",
        "GET",
        "/v1/documents/{doc}",
        lambda _: {},
        {"admin_gate", "city_zz", "base_g1", "operator", "viewer"},
    ),
]


@pytest.mark.parametrize("row", MATRIX, ids=[m[0] for m in MATRIX])
async def test_authorisation_matrix(world: w.World, row: Any) -> None:
    _, method, path, make, allowed = row
    outcomes = {}
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        before = await snapshot(world, http)
        for role in ROLES:
            kwargs = make(world)
            kwargs["headers"] = world.headers[role]
            resp = await http.request(method, path.replace("{doc}", world.plan_document), **kwargs)
            assert resp.status_code < 500, resp.text
            outcomes[role] = resp.status_code != 403
        assert await snapshot(world, http) == before
    assert {r for r, ok in outcomes.items() if ok} == allowed


async def test_the_dashboard_stream_refuses_before_it_streams_and_opens_with_counts(
    world: w.World,
) -> None:
    path = "/v1/programs/gate/years/2032/dashboard/stream"
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        for role, status in (("admin_other", 403), ("expert_fast", 403)):
            resp = await http.get(path, headers=world.headers[role])
            assert (resp.status_code, resp.json()["code"]) == (status, "forbidden")
        assert (await http.get(path)).status_code == 401
        async with http.stream("GET", path, headers=world.headers["city_ly"]) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = resp.aiter_lines()
            first = [await anext(lines) for _ in range(3)]
    assert first[0].startswith("id: ") and first[1] == "event: counts"
    counts = json.loads(first[2].removeprefix("data: "))
    assert counts["program"] == "gate" and counts["year"] == 2032 and counts["bases"] >= 1
