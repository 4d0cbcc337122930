"""The bad-input catalogue and the authorisation matrix, against the running stack.

Every bad request gets its exact status and stable ``code``, and changes nothing: no document
stored, no event published, no cycle moved.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from services.gateway.openapi_doc import described_app
from shared.stream import EVENTS_STREAM
from tests.e2e import world as w
from tests.e2e.conftest import bearer
from tests.helpers import until, until_json

G1, G2, F1, F2 = ("gate", "g1"), ("gate", "g2"), ("gate-fast", "f1"), ("gate-fast", "f2")
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
MZ = b"MZ\x90\x00" + b"\x00" * 64


async def snapshot(world: w.World, http: httpx.AsyncClient) -> dict[str, Any]:
    objects = Path(world.stack.state_dir) / "objects"
    files = sorted(
        str(p) for p in objects.rglob("*") if p.is_file() and _ours(p.relative_to(objects))
    )
    nc = await nats.connect(world.stack.nats_url)
    try:
        js = nc.jetstream()
        # The world's programs only: the session's other tests (in any order) leave cycles of
        # their own programs running, whose events go on arriving meanwhile.
        messages = 0
        for program in ("gate", "gate-fast"):
            mine = f"navcycle.events.{program}.>"
            info = await js.stream_info(EVENTS_STREAM, subjects_filter=mine)
            # An admin's accepted request is recorded as an audit event even when it changes
            # nothing else (re-applying the same rules): audit events are not changes.
            messages += sum(
                n
                for subject, n in (info.state.subjects or {}).items()
                if not subject.endswith(".operator.action")
            )
    finally:
        await nc.close()
    cycles = {}
    for program, b in (G1, G2, F1, F2):
        admin = world.headers["admin_gate" if program == "gate" else "admin_fast"]
        state = (await http.get(world.cycle(program, b), headers=admin)).json()
        cycles[b] = (
            state["stage"],
            len(state["history"]),
            len(state["documents"]),
            state["scores_received"],
        )
    return {"objects": files, "events": messages, "cycles": cycles}


# The object store's folders keyed by program (services/gateway/uploads.py, export_store.py,
# shared/contracts/results.py): {folder}/{program}/...
PROGRAM_FOLDERS = {"documents", "exports", "results"}
# The program years' ledgers (workflows/year_ledger.py): written by the program year alone, on
# its own schedule (a batch up to 5 s after a cycle reports), never by a request. The world's
# gate-fast year writes one just after the world is built (f2 graded): a refused request in
# that window saw it appear.
LEDGER = "ledger"


def _ours(key: Path) -> bool:
    """An object of the world's programs, or of no program's folder: the session's other tests
    leave years of their own programs running, which go on storing notices and exports."""
    parts = key.parts
    if parts[0] == LEDGER:
        return False
    return parts[0] not in PROGRAM_FOLDERS or len(parts) < 2 or parts[1] in ("gate", "gate-fast")


def unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Nothing stored, published or moved; if something was, which objects came or went."""
    came = sorted(set(after["objects"]) - set(before["objects"]))
    went = sorted(set(before["objects"]) - set(after["objects"]))
    assert (came, went) == ([], []), "objects changed"
    assert after == before


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
        404,
        "document_not_found",
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
        unchanged(before, await snapshot(world, http))


# Operations no case or matrix row here reaches, each with where its refusals are tested instead
# (tests/unit/test_route_guards.py scans every route's authorisation). A new route fails the check
# below until a case reaches it or it is listed here with its reason.
NOT_IN_THE_CATALOGUE = {
    ("GET", "/healthz"): "public, no input: test_stack.py",
    ("GET", "/v1/calendars/{calendar_id}"): "tests/integration/test_calendar_api.py",
    ("PUT", "/v1/calendars/{calendar_id}"): "tests/integration/test_calendar_api.py",
    ("GET", "/v1/dashboard/years"): "filtered per row: the route-guard scan only",
    ("GET", "/v1/inbox"): "the caller's own: test_full_cycle.py",
    ("POST", "/v1/programs/{program}/bases/{base}/reinstate"): "test_bases_admin_api.py",
    ("GET", "/v1/programs/{program}/rubric"): "test_bases_admin_api.py",
    ("POST", "/v1/programs/{program}/years/{year}/bases/{base}/review/experts"): (
        "test_bases_admin_api.py"
    ),
    (
        "GET",
        "/v1/programs/{program}/years/{year}/dashboard/objections",
    ): "the route-guard scan only",
    ("GET", "/v1/programs/{program}/years/{year}/dashboard/overdue"): "test_paged_overdue.py",
    ("GET", "/v1/programs/{program}/years/{year}/dashboard/stream"): "the stream test below",
    ("GET", "/v1/programs/{program}/years/{year}/notices"): "public: test_results_story.py",
    ("GET", "/v1/programs/{program}/years/{year}/objections"): "public: test_objection_routes.py",
    ("POST", "/v1/programs/{program}/years/{year}/objections"): "test_objection_routes.py",
    ("POST", "/v1/programs/{program}/years/{year}/objections/{objection_id}/decision"): (
        "test_objection_routes.py"
    ),
    ("PUT", "/v1/programs/{program}/years/{year}/target-actuals"): "test_target_routes.py",
    ("POST", "/v1/programs/{program}/years/{year}/forwardings"): (
        "test_forwarding_routes.py (a CNIPA year: 403, 409, 422; the national review step)"
    ),
}


def _operation(doc: dict[str, Any], method: str, path: str) -> tuple[str, str]:
    """The one OpenAPI operation a concrete request path is an instance of."""
    path = path.split("?")[0]
    found = [
        (method, template)
        for template, operations in doc["paths"].items()
        if method.lower() in operations
        and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path)
    ]
    assert len(found) == 1, (method, path, found)
    return found[0]


def test_every_case_is_a_documented_answer_of_a_real_route_and_every_route_is_reached() -> None:
    doc = described_app().openapi()
    expected = [(c[1], c[2], c[4]) for c in CASES] + [(m[1], m[2], m[5]) for m in MATRIX]
    reached = set()
    for method, path, status in expected:
        operation = _operation(doc, method, path)
        reached.add(operation)
        documented = doc["paths"][operation[1]][method.lower()]["responses"]
        assert status is None or str(status) in documented, (operation, status)
    every = {(m.upper(), p) for p, operations in doc["paths"].items() for m in operations}
    assert every - reached == set(NOT_IN_THE_CATALOGUE), every - reached


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
    "admin_fast",
    "admin_other",
    "city_zz",
    "city_ly",
    "base_g1",
    "base_g2",
    "expert_fast",
    "expert_gate",
    "operator",
    "viewer",
    "viewer_ly",
    "viewer_fast",
    "viewer_docs",
]
# Who reads program gate: its province, the cities of its province, its bases and experts, and
# the viewers and operators scoped to it (viewer_ly: gate, Luoyang only).
GATE_READERS = {
    "admin_gate",
    "city_zz",
    "city_ly",
    "base_g1",
    "base_g2",
    "expert_gate",
    "operator",
    "viewer",
    "viewer_ly",
    "viewer_docs",
}
G1_READERS = {"admin_gate", "city_zz", "base_g1", "operator", "viewer", "viewer_docs"}
HIDDEN_PROGRAM = (404, "program_not_found")  # as for a program that does not exist
HIDDEN_BASE = (404, "base_not_found")
HIDDEN_DOCUMENT = (404, "document_not_found")
FORBIDDEN = (403, "forbidden")

# endpoint -> the roles that may pass authorisation, the status they get (None: a write the step
# after authorisation refuses, so nothing changes), and the refusal every other role gets.
Row = tuple[
    str, str, str, Callable[[w.World], dict[str, Any]], set[str], int | None, tuple[int, str]
]
MATRIX: list[Row] = [
    (
        "read program (cross-program)",
        "GET",
        f"{P}/gate",
        lambda _: {},
        GATE_READERS,
        200,
        HIDDEN_PROGRAM,
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
        None,
        FORBIDDEN,
    ),
    (
        "register a base",
        "POST",
        f"{P}/gate/bases",
        lambda _: {"json": w.base("g1", "410102", "新材料")},
        {"admin_gate"},
        None,
        FORBIDDEN,
    ),
    ("list bases", "GET", f"{P}/gate/bases", lambda _: {}, GATE_READERS, 200, HIDDEN_PROGRAM),
    (
        "launch",
        "POST",
        "/v1/programs/gate/years/2032/launch",
        lambda _: {},
        {"admin_gate"},
        None,
        FORBIDDEN,
    ),
    (
        "year view",
        "GET",
        "/v1/programs/gate/years/2032",
        lambda _: {},
        GATE_READERS,
        200,
        HIDDEN_PROGRAM,
    ),
    (
        "read g1's cycle (cross-region)",
        "GET",
        f"{C}/g1",
        lambda _: {},
        G1_READERS,
        200,
        HIDDEN_BASE,
    ),
    (
        "read f1's cycle (its assigned expert)",
        "GET",
        f"{F}/f1",
        lambda _: {},
        {"admin_fast", "city_zz", "expert_fast", "viewer_fast"},
        200,
        HIDDEN_BASE,
    ),
    ("file g1's plan", "POST", f"{C}/g1/plan", lambda _: upload(), {"base_g1"}, None, FORBIDDEN),
    (
        "verify g1 (city step)",
        "POST",
        f"{C}/g1/plan/review",
        lambda _: {"json": {"decision": "approve", "step": "province"}},
        {"city_zz"},
        None,
        FORBIDDEN,
    ),
    (
        "file g1's report",
        "POST",
        f"{C}/g1/self-evaluation",
        lambda _: {"files": {"file": ("r.pdf", w.PDF, "application/pdf")}},
        {"base_g1"},
        None,
        FORBIDDEN,
    ),
    (
        "file g1's rectification",
        "POST",
        f"{C}/g1/rectification",
        lambda _: {"files": {"file": ("r.pdf", w.PDF, "application/pdf")}},
        {"base_g1"},
        None,
        FORBIDDEN,
    ),
    (
        "score f1",
        "POST",
        f"{F}/f1/scores",
        lambda _: {"json": {"scores": {"x": 1}}},
        {"expert_fast"},
        None,
        FORBIDDEN,
    ),
    (
        "extend g1's deadline",
        "POST",
        f"{C}/g1/deadlines",
        lambda _: {
            "json": {"deadline": "plan", "until": "2020-01-01T00:00:00+08:00", "reason": "x"}
        },
        {"admin_gate"},
        None,
        FORBIDDEN,
    ),
    (
        "dashboard counts",
        "GET",
        "/v1/programs/gate/years/2032/dashboard",
        lambda _: {},
        GATE_READERS,
        200,
        HIDDEN_PROGRAM,
    ),
    (
        "dashboard cycles",
        "GET",
        "/v1/programs/gate/years/2032/dashboard/cycles",
        lambda _: {},
        GATE_READERS,
        200,
        HIDDEN_PROGRAM,
    ),
    ("g1's timeline", "GET", f"{C}/g1/timeline", lambda _: {}, G1_READERS, 200, HIDDEN_BASE),
    (
        "download g1's plan (per document)",
        "GET",
        "/v1/documents/{doc}",
        lambda _: {},
        {"admin_gate", "city_zz", "base_g1", "viewer_docs"},
        200,
        HIDDEN_DOCUMENT,
    ),
]


@pytest.mark.parametrize("row", MATRIX, ids=[m[0] for m in MATRIX])
async def test_authorisation_matrix(world: w.World, row: Row) -> None:
    _, method, path, make, allowed, allowed_status, refusal = row
    outcomes: dict[str, tuple[int, str | None]] = {}
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        before = await snapshot(world, http)
        for role in ROLES:
            kwargs = make(world)
            kwargs["headers"] = world.headers[role]
            resp = await http.request(method, path.replace("{doc}", world.plan_document), **kwargs)
            assert resp.status_code < 500, resp.text
            problem = resp.headers.get("content-type", "").startswith("application/problem")
            outcomes[role] = (resp.status_code, resp.json().get("code") if problem else None)
        unchanged(before, await snapshot(world, http))
    refused = {r for r, got in outcomes.items() if got == refusal}
    assert refused == set(ROLES) - allowed, outcomes
    if allowed_status is not None:
        assert {r: outcomes[r][0] for r in allowed} == dict.fromkeys(allowed, allowed_status)


async def _get(http: httpx.AsyncClient, world: w.World, path: str, role: str) -> Any:
    resp = await http.get(path, headers=world.headers[role])
    assert resp.status_code == 200, (role, resp.text)
    return resp.json()


async def test_each_reader_sees_only_the_rows_it_may_and_no_provisional_grade(
    world: w.World,
) -> None:
    """Before publication: gate-fast's f2 is graded (its plan missed) and f1 under review."""
    rows = "/v1/programs/{}/years/2032/dashboard/cycles"
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        seen = {
            (role, program): {
                c["base"]: c["grade"]
                for c in (await _get(http, world, rows.format(program), role))["cycles"]
            }
            for role, program in (
                ("admin_gate", "gate"),
                ("city_zz", "gate"),
                ("city_ly", "gate"),
                ("base_g1", "gate"),
                ("expert_gate", "gate"),
                ("viewer", "gate"),
                ("viewer_ly", "gate"),
                ("admin_fast", "gate-fast"),
                ("city_ly", "gate-fast"),
                ("base_f2", "gate-fast"),
                ("expert_fast", "gate-fast"),
                ("viewer_fast", "gate-fast"),
            )
        }
        listed = await _get(http, world, f"{P}/gate/bases", "viewer_ly")
        view = "/v1/programs/gate-fast/years/2032"
        overdue = {
            role: [o["base"] for o in (await _get(http, world, view, role))["overdue"]]
            for role in ("admin_fast", "base_f1", "base_f2", "expert_fast")
        }
    gate = {role: rows for (role, program), rows in seen.items() if program == "gate"}
    fast = {role: rows for (role, program), rows in seen.items() if program == "gate-fast"}
    assert set(gate["admin_gate"]) == {"g1", "g2"}
    assert set(gate["city_zz"]) == {"g1"} and set(gate["city_ly"]) == {"g2"}
    assert set(gate["base_g1"]) == {"g1"} and gate["expert_gate"] == {}
    assert set(gate["viewer"]) == {"g1", "g2"} and set(gate["viewer_ly"]) == {"g2"}
    # f2's provisional grade: its province and its city only
    assert fast["admin_fast"]["f2"] is not None and fast["city_ly"]["f2"] is not None
    assert fast["base_f2"] == {"f2": None} and fast["expert_fast"] == {}
    assert fast["viewer_fast"]["f2"] is None
    assert [b["id"] for b in listed["bases"]] == ["g2"]  # a viewer of Luoyang
    assert "f2" in overdue["admin_fast"]
    assert overdue["base_f1"] == [] and overdue["expert_fast"] == []
    assert set(overdue["base_f2"]) <= {"f2"}


async def test_before_publication_only_the_province_sees_the_grade_counts(
    world: w.World,
) -> None:
    """gate-fast's f2 is graded and nothing is published: the dashboard's counts and the year
    view give every other reader counts by stage, no grade distribution."""
    counts = "/v1/programs/gate-fast/years/2032/dashboard"
    view = "/v1/programs/gate-fast/years/2032"
    readers = ("admin_fast", "city_ly", "base_f2", "expert_fast", "viewer_fast")
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        dashboard = {role: await _get(http, world, counts, role) for role in readers}
        year = {role: await _get(http, world, view, role) for role in readers}
    assert all(c["publication"] is None for c in dashboard.values())
    assert sum(dashboard["admin_fast"]["by_grade"].values()) >= 1, dashboard["admin_fast"]
    assert sum(year["admin_fast"]["grades"].values()) >= 1, year["admin_fast"]
    for role in readers[1:]:
        assert dashboard[role]["by_grade"] == {} and year[role]["grades"] == {}, role
        assert dashboard[role]["by_stage"] == dashboard["admin_fast"]["by_stage"], role
        assert year[role]["stages"] == year["admin_fast"]["stages"], role


async def test_the_dashboard_stream_refuses_before_it_streams_and_opens_with_counts(
    world: w.World,
) -> None:
    path = "/v1/programs/gate/years/2032/dashboard/stream"
    async with httpx.AsyncClient(base_url=world.stack.url, timeout=30) as http:
        for role in ("admin_other", "expert_fast", "viewer_fast"):
            resp = await http.get(path, headers=world.headers[role])
            assert (resp.status_code, resp.json()["code"]) == HIDDEN_PROGRAM, role
        assert (await http.get(path)).status_code == 401
        async with http.stream("GET", path, headers=world.headers["city_ly"]) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = resp.aiter_lines()
            first = sorted([await anext(lines) for _ in range(3)])  # data, event, id
    assert first[1] == "event: counts" and first[2].startswith("id: ")
    counts = json.loads(first[0].removeprefix("data: "))
    assert counts["program"] == "gate" and counts["year"] == 2032 and counts["bases"] >= 1


def naming(value: Any, name: str, at: str = "") -> list[str]:
    """Where in a JSON document ``name`` appears (paths such as ``history.3.detail.expert``)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in naming(v, name, f"{at}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in naming(v, name, f"{at}.{i}")]
    return [at] if isinstance(value, str) and name in value else []


async def test_expert_sheets_each_its_own_then_the_province_then_averages_after_the_notice(
    world: w.World,
) -> None:
    """A program of its own (two experts per review), so the shared world stays as it is."""
    stack, program = world.stack, "gate-pub"
    h = {
        "admin": bearer(stack.token("pub-admin", "province_admin", program=program)),
        "p1": bearer(stack.token("pub-p1", "base_user", program=program, base="p1")),
        "a": bearer(stack.token("pub-expert-a", "expert", program=program)),
        "b": bearer(stack.token("pub-expert-b", "expert", program=program)),
        "city_zz": world.headers["city_zz"],
        "city_ly": world.headers["city_ly"],
    }
    doc = w.rules(
        program,
        plan_window="PT4S",
        self_evaluation_due="PT8S",
        review_window="PT1H",
        rectification_period="PT1H",
    )
    doc["verification"] = []
    doc["rubric"]["experts_required"] = 2
    year = f"{P}/{program}/years/2032"
    cycle = f"{year}/bases/p1"
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        assert (await http.put(f"{P}/{program}", json=doc, headers=h["admin"])).status_code == 200
        base = w.base("p1", "410102", "新材料")
        assert (
            await http.post(f"{P}/{program}/bases", json=base, headers=h["admin"])
        ).status_code == 201
        assert (await http.post(f"{year}/launch", headers=h["admin"])).status_code == 202
        await until_json(http, cycle, h["p1"], lambda s: s["stage"] == "plan_filing")
        filed = await http.post(f"{cycle}/plan", headers=h["p1"], **upload())
        assert filed.status_code == 201, filed.text
        report: dict[str, Any] = {"files": {"file": ("r.pdf", w.PDF + b"pub", "application/pdf")}}
        assert (
            await http.post(f"{cycle}/self-evaluation", headers=h["p1"], **report)
        ).status_code == 201
        await until_json(http, cycle, h["a"], lambda s: s["stage"] == "under_review")
        scored = await http.post(
            f"{cycle}/scores", headers=h["a"], json={"scores": dict.fromkeys(SCORES, 80)}
        )
        assert scored.status_code == 201, scored.text

        # One sheet in, no grade: each expert its own; nobody else any.
        def sheets(state: dict[str, Any]) -> list[dict[str, Any]]:
            return [s["detail"] for s in state["history"] if s["event"] == "review.scored"]

        as_a = (await http.get(cycle, headers=h["a"])).json()
        as_b = (await http.get(cycle, headers=h["b"])).json()
        as_base = (await http.get(cycle, headers=h["p1"])).json()
        as_admin = (await http.get(cycle, headers=h["admin"])).json()
        assert [d.get("expert") for d in sheets(as_a)] == ["pub-expert-a"]
        assert sheets(as_b) == [{"round": 0}]  # the co-reviewer sees that a sheet came, no more
        assert sheets(as_base) == [{"round": 0}] and sheets(as_admin) == [{"round": 0}]
        assert naming(as_base, "pub-expert") == []
        refused = await http.get(cycle, headers=h["city_ly"])
        assert (refused.status_code, refused.json()["code"]) == HIDDEN_BASE

        graded = await http.post(
            f"{cycle}/scores", headers=h["b"], json={"scores": dict.fromkeys(SCORES, 90)}
        )
        assert graded.status_code == 201, graded.text
        # The year publishes its 公示 once every cycle is graded.
        await until(
            lambda: http.get(f"{year}/results"),
            lambda resp: resp.status_code == 200,
            "the results' publication",
            every=0.2,
        )

        as_admin = (await http.get(cycle, headers=h["admin"])).json()
        as_base = (await http.get(cycle, headers=h["p1"])).json()
        as_a = (await http.get(cycle, headers=h["a"])).json()
        as_city = (await http.get(cycle, headers=h["city_zz"])).json()
    assert len(as_admin["decisions"][0]["sheets"]) == 2 and len(sheets(as_admin)) == 2
    assert [s["expert"] for s in as_a["decisions"][0]["sheets"]] == ["pub-expert-a"]
    for shown in (as_base, as_city):
        [decision] = shown["decisions"]
        assert decision["sheets"] == [] and decision["averaged"]  # averages, never names
        assert shown["grade"] is not None
        assert naming(shown, "pub-expert") == []
