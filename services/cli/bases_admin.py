"""``navcycle base reinstate`` and ``navcycle experts reassign``: a bureau's decisions, audited."""

from __future__ import annotations

import sys

from nats.aio.client import Client as NatsClient

from services.cli.admin import Refused, run_audited, unrecorded
from shared import audit
from shared.contracts.assessment import Assignments, ReassignExperts
from shared.contracts.registry import Reinstate, Reinstated
from shared.reinstatement import record_reinstatement
from shared.rpc import RpcClient
from shared.settings import Settings


def base_reinstate(settings: Settings, *, program: str, base: str, reason: str) -> int:
    actor = audit.cli_actor()

    async def reinstate(nc: NatsClient) -> Reinstated:
        done = await RpcClient(nc, settings.rpc_timeout_s).call(
            "registry",
            "bases.reinstate",
            Reinstate(program=program, base=base, reason=reason, by=actor),
            Reinstated,
        )
        with unrecorded(f"{base} is reinstated, but its event and audit record failed"):
            await record_reinstatement(nc.jetstream(), done, actor=actor, via="cli")
        return done

    done = run_audited(settings, reinstate)
    if isinstance(done, Refused):
        return 2
    print(f"{program}/{base}: 已恢复 reinstated (de-listed in {done.delisted_in_year})")
    return 0


def experts_reassign(
    settings: Settings,
    *,
    program: str,
    year: int,
    base: str,
    replace: list[str] | None,
    keep: list[str] | None,
    reason: str,
    round_: int | None = None,
) -> int:
    actor = audit.cli_actor()
    try:
        request = ReassignExperts(
            program=program,
            year=year,
            base=base,
            round=round_,
            replace=replace,
            keep=keep,
            reason=reason,
            by=actor,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def reassign(nc: NatsClient) -> Assignments:
        done = await RpcClient(nc, settings.rpc_timeout_s).call(
            "assessment", "assignments.reassign", request, Assignments
        )
        event = audit.operator_action(
            actor=actor,
            via="cli",
            action="review.reassign",
            target=f"review/{program}/{year}/{base}",
            reason=reason,
            arguments={"round": done.round, "replace": replace, "keep": keep,
                       "experts": done.experts},
            program=program,
            year=year,
            base=base,
        )  # fmt: skip
        with unrecorded("the experts are reassigned, but the audit record failed"):
            await audit.record(nc.jetstream(), event)
        return done

    done = run_audited(settings, reassign)
    if isinstance(done, Refused):
        return 2
    print(f"{program}/{year}/{base} round {done.round}: {', '.join(done.experts)}")
    return 0
