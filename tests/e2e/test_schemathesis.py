"""Schemathesis generates requests from /openapi.json against the running stack: no 500s."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e import world as w
from tests.e2e.conftest import RunningStack, bearer
from tests.e2e.world import World

FUZZ = "fuzz"  # the fuzzer's own program: what it registers or changes, no other test reads


async def test_no_generated_request_gets_a_server_error(
    running_stack: RunningStack, world: World
) -> None:
    # Not the world's admin: with its token, generated requests (which may reuse values read
    # from answers) registered a base "gate" in the world's program, and test_api_guards,
    # run after it in random order, listed that base too.
    token = bearer(running_stack.token("guard-fuzz-admin", "province_admin", program=FUZZ))
    async with httpx.AsyncClient(base_url=running_stack.url, timeout=30) as http:
        made = await http.put(f"/v1/programs/{FUZZ}", json=w.rules(FUZZ), headers=token)
        assert made.status_code == 200, made.text
    cli = Path(sys.executable).parent / "schemathesis"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            str(cli),
            "run",
            f"{running_stack.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "12",
            "--header",
            f"Authorization: {token['Authorization']}",
            "--request-timeout",
            "30",
            "--suppress-health-check",
            "all",
            # An event stream never ends by design; its refusals are in test_api_guards.
            "--exclude-path-regex",
            "/dashboard/stream$",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert counts is not None and counts[1] == counts[2] and int(counts[1]) > 100, done.stdout[
        -3000:
    ]
