"""A fixed arrangement of programs, bases, users and cycle states for the guard tests.

gate:      long windows. g1 (Zhengzhou) has filed its plan and awaits the city; g2 (Luoyang)
           has filed nothing.
gate-fast: no verification, short windows. f1 (Zhengzhou) is under review with one assigned
           expert; f2 (Luoyang) missed its plan and is rectifying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from services.sim.people import TARGETS as PLAN_TARGETS
from services.sim.people import HttpChannel, HttpUser, People, targets_form
from shared.domain.rules import load_rules_file
from shared.settings import DEPLOY_DIR
from tests.e2e.conftest import RunningStack, bearer
from tests.helpers import until_json

YEAR = 2032
TARGETS = targets_form(PLAN_TARGETS)
PDF = b"%PDF-1.4\n% guard tests\n"


def rules(program: str, **calendar: Any) -> dict[str, Any]:
    doc = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    doc["id"] = program
    doc["calendar"].update(reminders=[], **calendar)
    return doc


def base(base_id: str, region: str, domain: str) -> dict[str, Any]:
    return {
        "id": base_id,
        "name": f"基地 {base_id}",
        "region": region,
        "domain": domain,
        "host_type": "园区",
        "staff": {"total": 10, "senior_full_time": 4},
        "pct_minimum_data": True,
    }


@dataclass
class World:
    stack: RunningStack
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    plan_document: str = ""

    def cycle(self, program: str, b: str) -> str:
        return f"/v1/programs/{program}/years/{YEAR}/bases/{b}"


async def build(stack: RunningStack) -> World:
    world = World(stack)
    users = {
        "admin_gate": ("province_admin", {"program": "gate"}),
        "admin_fast": ("province_admin", {"program": "gate-fast"}),
        "admin_other": ("province_admin", {"program": "demo-fast"}),
        "city_zz": ("city_officer", {"region": "410100"}),
        "city_ly": ("city_officer", {"region": "410300"}),
        "base_g1": ("base_user", {"program": "gate", "base": "g1"}),
        "base_g2": ("base_user", {"program": "gate", "base": "g2"}),
        "base_f1": ("base_user", {"program": "gate-fast", "base": "f1"}),
        "base_f2": ("base_user", {"program": "gate-fast", "base": "f2"}),
        "expert_fast": ("expert", {"program": "gate-fast"}),
        "expert_gate": ("expert", {"program": "gate"}),
        "operator": ("operator", {"program": "gate"}),
        "viewer": ("viewer", {"program": "gate"}),
        "viewer_ly": ("viewer", {"program": "gate", "region": "410300"}),
        "viewer_fast": ("viewer", {"program": "gate-fast"}),
    }
    for name, (role, scope) in users.items():
        world.headers[name] = bearer(stack.token(f"guard-{name}", role, **scope))
    world.headers["viewer_docs"] = bearer(granted(stack, "guard-viewer-docs", "gate"))
    h = world.headers
    long = {
        k: "PT1H"
        for k in ("plan_window", "plan_review_window", "review_window", "rectification_period")
    }
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        programs = [
            ("gate", "admin_gate", rules("gate", self_evaluation_due="PT2H", **long)),
            (
                "gate-fast",
                "admin_fast",
                rules(
                    "gate-fast",
                    plan_window="PT4S",
                    self_evaluation_due="PT8S",
                    review_window="PT1H",
                    rectification_period="PT1H",
                ),
            ),
        ]
        for program, admin, doc in programs:
            if program == "gate-fast":
                doc["verification"] = []
            assert (
                await http.put(f"/v1/programs/{program}", json=doc, headers=h[admin])
            ).status_code == 200
        for program, admin, bases in (
            (
                "gate",
                "admin_gate",
                [base("g1", "410102", "新材料"), base("g2", "410302", "新能源")],
            ),
            (
                "gate-fast",
                "admin_fast",
                [base("f1", "410102", "新材料"), base("f2", "410302", "新能源")],
            ),
        ):
            for b in bases:
                assert (
                    await http.post(f"/v1/programs/{program}/bases", json=b, headers=h[admin])
                ).status_code == 201
            assert (
                await http.post(f"/v1/programs/{program}/years/{YEAR}/launch", headers=h[admin])
            ).status_code == 202
        # The bases act as services.sim.people's people do, each as its own user.
        program_of = {"g1": "gate", "f1": "gate-fast"}
        people = People(
            HttpChannel(
                lambda name: world.cycle(program_of[name], name),
                lambda actor: HttpUser(http, h[f"base_{actor.base}"]),
            )
        )
        for name, program in program_of.items():
            path = world.cycle(program, name)
            await until_json(http, path, h[f"base_{name}"], lambda s: s["stage"] == "plan_filing")
            filed = await people.file_plan(name)
            if name == "g1":
                world.plan_document = filed["document_id"]
        await people.report("f1")
        await until_json(
            http,
            world.cycle("gate-fast", "f1"),
            h["expert_fast"],
            lambda s: s["stage"] == "under_review",
        )
        # f2 missed its plan: failed, and waiting for the year's final results (rectification
        # follows the final grade, after 公示).
        await until_json(
            http, world.cycle("gate-fast", "f2"), h["base_f2"], lambda s: s["stage"] == "graded"
        )
    return world


def granted(stack: RunningStack, name: str, program: str) -> str:
    """A viewer of ``program`` granted its bases' documents (`user add --documents`)."""
    args = ("user", "add", "--name", name, "--role", "viewer", "--program", program)
    done = stack.cli(*args, "--documents", timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]
