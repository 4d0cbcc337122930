"""Every operator action is an ``operator.action`` event on the log: who, what, on which target,
with which arguments, and never the token or a secret. Run against a real nats-server."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from nats.aio.client import Client as NatsClient

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tokens import Principal, add_user, authenticate
from shared import audit
from shared.db import make_engine
from shared.embedded import free_port, nats_server
from shared.eventlog import read_events
from shared.events.envelope import CloudEvent
from shared.events.subjects import event_filter
from shared.migrations import upgrade
from shared.rpc import RpcClient
from shared.settings import Settings
from tests.conftest import DevStack, Stack
from tests.helpers import demo_rules

CLI = [sys.executable, "-m", "services.cli.main"]
OPERATOR = "auditor-li"


def _cli_env(state: Path, nats_url: str, **more: str) -> dict[str, str]:
    return dict(
        os.environ,
        NAVCYCLE_STATE_DIR=str(state),
        NAVCYCLE_NATS_URL=nats_url,
        LOGNAME=OPERATOR,
        USER=OPERATOR,
        **more,
    )


async def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [*CLI, *args], env=env, capture_output=True, text=True, timeout=120
    )


async def _audit_events(nc: NatsClient, program: str, target: str) -> list[CloudEvent]:
    found = await read_events(nc.jetstream(), event_filter(program, None, "_", "operator.action"))
    return [e for _, e in found if e.data.get("target") == target]


def _secret_free(event: CloudEvent, *secrets: str) -> bool:
    raw = event.model_dump_json()
    return not any(s and s in raw for s in secrets)


async def test_user_add_and_revoke_are_audited_without_the_token(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, nats_url)
    added = await _run(
        env, "user", "add", "--name", "zhang", "--role", "base_user",
        "--program", "audit-users", "--base", "b1",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("nvc_")

    [event] = await _audit_events(nc, "audit-users", "user/zhang")
    assert event.type == "navcycle.operator.action" and event.source == "navcycle/operator"
    assert event.base == "_"  # not a cycle: no dashboard row appears for it
    expires_at = datetime.fromisoformat(event.data["arguments"].pop("expires_at"))
    assert event.data == {
        "actor": f"{OPERATOR}@{socket.gethostname()}",
        "via": "cli",
        "action": "user.add",
        "target": "user/zhang",
        "arguments": {"role": "base_user", "program": "audit-users", "base": "b1"},
    }
    lifetime = expires_at - datetime.now(UTC)  # the settings' default
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    assert _secret_free(event, token)

    revoked = await _run(env, "user", "revoke", "--name", "zhang")
    assert revoked.returncode == 0, revoked.stderr
    [event] = await _audit_events(nc, "_", "user/zhang")
    assert (event.data["action"], event.data["actor"]) == (
        "user.revoke",
        f"{OPERATOR}@{socket.gethostname()}",
    )
    assert _secret_free(event, token)

    again = await _run(env, "user", "revoke", "--name", "zhang")
    assert again.returncode == 2  # nothing happened, so nothing more is recorded
    assert len(await _audit_events(nc, "_", "user/zhang")) == 1


async def test_a_rotated_token_replaces_the_old_one_and_is_audited_without_either(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, nats_url)
    added = await _run(
        env, "user", "add", "--name", "qian", "--role", "viewer", "--expires-in", "P7D"
    )
    assert added.returncode == 0, added.stderr
    old = added.stdout.strip().splitlines()[-1]

    rotated = await _run(env, "user", "rotate", "--name", "qian", "--expires-in", "PT12H")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip().splitlines()[-1]
    assert new.startswith("nvc_") and new != old
    users = make_engine(Settings(_env_file=None, state_dir=tmp_path).database_url_for("gateway"))  # type: ignore[call-arg]
    assert authenticate(users, old) is None
    assert authenticate(users, new) == Principal(name="qian", role="viewer")

    add, rotate = await _audit_events(nc, "_", "user/qian")
    assert (add.data["action"], rotate.data["action"]) == ("user.add", "user.rotate")
    expires_at = datetime.fromisoformat(rotate.data["arguments"]["expires_at"])
    assert timedelta(hours=11) < expires_at - datetime.now(UTC) <= timedelta(hours=12)
    assert _secret_free(add, old, new) and _secret_free(rotate, old, new)

    unknown = await _run(env, "user", "rotate", "--name", "nobody")
    assert unknown.returncode == 2 and "no active user 'nobody'" in unknown.stderr
    bad = await _run(env, "user", "rotate", "--name", "qian", "--expires-in", "soon")
    assert bad.returncode == 2 and "--expires-in 'soon'" in bad.stderr
    assert authenticate(users, new) is not None  # refused commands changed nothing


async def test_a_revoked_name_cannot_be_given_to_a_new_user(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, nats_url)
    args = ["user", "add", "--name", "expert-sun", "--role", "expert", "--program", "audit-names"]
    assert (await _run(env, *args)).returncode == 0
    assert (await _run(env, "user", "revoke", "--name", "expert-sun")).returncode == 0
    again = await _run(env, *args)
    assert again.returncode == 2 and "nvc_" not in again.stdout
    assert "was revoked; names are never reused" in again.stderr
    assert len(await _audit_events(nc, "audit-names", "user/expert-sun")) == 1  # the first add


async def test_the_user_list_shows_every_user_revoked_ones_included(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, nats_url)
    made = await _run(
        env, "user", "add", "--name", "zhou", "--role", "viewer", "--expires-in", "30"
    )
    assert made.returncode == 0, made.stderr
    args = ["user", "add", "--name", "wu", "--role", "city_officer", "--region", "320100"]
    assert (await _run(env, *args)).returncode == 0
    assert (await _run(env, "user", "revoke", "--name", "wu")).returncode == 0

    listed = await _run(env, "user", "list")
    assert listed.returncode == 0, listed.stderr
    header, wu, zhou, note = listed.stdout.strip().splitlines()
    assert "用户 name" in header and "已撤销 revoked" in header and "北京时间" in note
    assert wu.split()[:3] == ["wu", "city_officer", "region=320100"]
    assert "从未 never" in wu and not wu.rstrip().endswith("否 no")
    assert zhou.split()[:3] == ["zhou", "viewer", "-"] and zhou.rstrip().endswith("否 no")

    as_json = await _run(env, "user", "list", "--json")
    rows = {row["name"]: row for row in json.loads(as_json.stdout)}
    assert rows["wu"]["revoked_at"] is not None and rows["zhou"]["revoked_at"] is None
    lifetime = datetime.fromisoformat(rows["zhou"]["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)


async def test_without_the_event_log_an_action_is_refused_and_changes_nothing(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    dead = _cli_env(tmp_path, f"nats://127.0.0.1:{free_port()}")
    refused = await _run(dead, "user", "add", "--name", "wang", "--role", "viewer")
    assert refused.returncode == 2
    assert "nothing was changed" in refused.stderr and "nvc_" not in refused.stdout

    done = await _run(
        _cli_env(tmp_path, nats_url), "user", "add", "--name", "wang", "--role", "viewer"
    )
    assert done.returncode == 0, done.stderr  # the name was still free
    assert len(await _audit_events(nc, "_", "user/wang")) == 1


async def test_a_user_whose_audit_record_fails_is_not_left_behind(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    with nats_server(tmp_path / "bare") as bare:  # a NATS without the event stream
        refused = await _run(
            _cli_env(tmp_path, bare), "user", "add", "--name", "zhao", "--role", "viewer"
        )
    assert refused.returncode == 2
    assert "zhao was not created" in refused.stderr and "nvc_" not in refused.stdout

    done = await _run(
        _cli_env(tmp_path, nats_url), "user", "add", "--name", "zhao", "--role", "viewer"
    )
    assert done.returncode == 0, done.stderr  # the name is free: the first user never existed


async def test_program_apply_from_the_cli_is_audited(
    stack: Stack, dev_stack: DevStack, nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    rules = demo_rules(id="audit-cli")
    path = tmp_path / "audit-cli.yaml"
    path.write_text(
        yaml.safe_dump(rules.model_dump(mode="json", by_alias=True), allow_unicode=True)
    )
    env = _cli_env(
        tmp_path,
        nats_url,
        NAVCYCLE_TEMPORAL_ADDRESS=dev_stack.address,
        NAVCYCLE_TASK_QUEUE=dev_stack.task_queue,
    )
    for _ in range(2):
        done = await _run(env, "program", "apply", str(path))
        assert done.returncode == 0, done.stderr

    first, second = await _audit_events(nc, "audit-cli", "program/audit-cli")
    assert first.data["action"] == "program.apply" and first.data["via"] == "cli"
    assert first.data["actor"] == f"{OPERATOR}@{socket.gethostname()}"
    assert first.data["arguments"]["created"] is True
    assert second.data["arguments"]["created"] is False  # applied again, recorded again
    assert first.data["arguments"]["sha256"] == second.data["arguments"]["sha256"]
    assert first.data["arguments"]["file"] == str(path)
    assert first.id != second.id
    await dev_stack.client.get_schedule_handle("launch/audit-cli").delete()


@pytest.fixture
async def gateway(
    stack: Stack, dev_stack: DevStack, nc: NatsClient, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    users = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(users, GATEWAY_MIGRATIONS)
    admin = Principal(name="audit-admin", role="province_admin", program="audit-api")
    viewer = Principal(name="audit-viewer", role="viewer")
    tokens = {"admin": add_user(users, admin), "viewer": add_user(users, viewer)}
    settings = Settings(_env_file=None, task_queue=dev_stack.task_queue, state_dir=tmp_path)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(settings, dev_stack.client, nc, RpcClient(nc), stack.objects, users)

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http, tokens


async def test_rules_applied_over_http_are_audited_with_the_user_and_no_token(
    gateway: tuple[httpx.AsyncClient, dict[str, str]], nc: NatsClient, dev_stack: DevStack
) -> None:
    http, tokens = gateway
    document: dict[str, Any] = demo_rules(id="audit-api").model_dump(mode="json", by_alias=True)

    refused = await http.put(
        "/v1/programs/audit-api",
        json=document,
        headers={"Authorization": f"Bearer {tokens['viewer']}"},
    )
    assert refused.status_code == 403
    assert await _audit_events(nc, "audit-api", "program/audit-api") == []

    applied = await http.put(
        "/v1/programs/audit-api",
        json=document,
        headers={"Authorization": f"Bearer {tokens['admin']}"},
    )
    assert applied.status_code == 200, applied.text
    [event] = await _audit_events(nc, "audit-api", "program/audit-api")
    assert event.data["actor"] == "audit-admin" and event.data["via"] == "api"
    assert event.data["action"] == "program.apply"
    assert event.data["arguments"]["version"] == applied.json()["version"]
    assert event.data["arguments"]["role"] == "province_admin"
    assert _secret_free(event, *tokens.values())
    await dev_stack.client.get_schedule_handle("launch/audit-api").delete()


def test_an_argument_named_like_a_secret_is_refused_before_publishing() -> None:
    for name in ("token", "webhook_secret", "smtp_password", "Authorization", "api_key"):
        with pytest.raises(audit.SecretInAudit):
            audit.operator_action(
                actor="x", via="cli", action="user.add", target="user/x", arguments={name: "v"}
            )
    event = audit.operator_action(
        actor=getpass.getuser(),
        via="cli",
        action="user.add",
        target="user/x",
        arguments={"role": "viewer"},
    )
    assert event.program == "_" and event.base == "_" and event.year >= 2025
