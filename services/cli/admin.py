"""Operator commands: users and tokens, program rules."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import nats
from pydantic import ValidationError

from services.gateway.identity.tokens import Principal, UserExists, add_user, revoke_user
from shared.contracts.assessment import AddExpert
from shared.contracts.registry import ApplyRules, PinnedRules, RulesApplied
from shared.db import make_engine
from shared.domain.rules import RulesError, load_rules_file
from shared.migrations import upgrade
from shared.rpc import Empty, RpcClient, RpcError
from shared.settings import Settings
from shared.temporal import connect_temporal
from workflows.models import RulesRequest
from workflows.schedules import ensure_program_schedule


def user_add(
    settings: Settings,
    *,
    name: str,
    role: str,
    program: str | None,
    region: str | None,
    base: str | None,
) -> int:
    try:
        principal = Principal(name=name, role=role, program=program, region=region, base=base)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(f"error: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url_for("gateway"))
    upgrade(engine, "gateway")
    try:
        token = add_user(engine, principal)
    except UserExists as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if role == "expert" and program:
        try:
            asyncio.run(
                _rpc(
                    settings,
                    "assessment",
                    "experts.add",
                    AddExpert(program=program, expert=name),
                    Empty,
                )
            )
        except (RpcError, OSError, nats.errors.Error) as exc:
            print(
                f"warning: {name} is not in the assessment roster yet ({exc}); "
                "add the user again once the stack runs",
                file=sys.stderr,
            )
    print(f"created {role} {name}; the token is shown once:", file=sys.stderr)
    print(token)
    return 0


def user_revoke(settings: Settings, *, name: str) -> int:
    engine = make_engine(settings.database_url_for("gateway"))
    upgrade(engine, "gateway")
    if not revoke_user(engine, name):
        print(f"error: no active user {name!r}", file=sys.stderr)
        return 2
    print(f"revoked {name}")
    return 0


def program_apply(settings: Settings, path: Path) -> int:
    try:
        rules = load_rules_file(path)
    except (RulesError, OSError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2

    async def apply() -> RulesApplied:
        applied = await _rpc(
            settings,
            "registry",
            "rules.apply",
            ApplyRules(document=rules.model_dump(mode="json", by_alias=True)),
            RulesApplied,
        )
        pinned = await _rpc(
            settings, "registry", "rules.current", RulesRequest(program=rules.id), PinnedRules
        )
        client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
        await ensure_program_schedule(client, pinned.rules, settings.task_queue)
        return applied

    try:
        applied = asyncio.run(apply())
    except RpcError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    state = "new version" if applied.created else "unchanged, still version"
    print(f"{applied.program}: {state} {applied.version}")
    return 0


async def _rpc(settings: Settings, service: str, action: str, req, reply):  # type: ignore[no-untyped-def]
    nc = await nats.connect(
        servers=settings.nats_servers, connect_timeout=3, max_reconnect_attempts=0
    )
    try:
        return await RpcClient(nc, settings.rpc_timeout_s).call(service, action, req, reply)
    finally:
        await nc.close()
