"""Operator commands: users and tokens, program rules."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import nats
from nats.aio.client import Client as NatsClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import col, select

from services.gateway.access import SCOPED_TO_PROGRAM, unused_scope_flags
from services.gateway.identity.lifetime import BadLifetime, parse_lifetime
from services.gateway.identity.portal_sessions import IssuedLink, discard_link, issue_link
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tables import UserRow
from services.gateway.identity.tokens import (
    NoActiveUser,
    Principal,
    UserExists,
    add_user,
    discard_unrecorded_user,
    list_users,
    revoke_user,
    rotate_token,
    undo_rotation,
)
from services.gateway.identity.user_table import user_table
from shared import audit
from shared.clients import nats_options
from shared.contracts.assessment import AddExpert, ExpertRemoved, RemoveExpert
from shared.contracts.registry import ApplyRules, GetProgram, PinnedRules, RulesApplied
from shared.db import make_engine, session_scope
from shared.domain.rules import RulesError, load_rules_file
from shared.migrations import upgrade
from shared.rpc import Empty, RpcClient, RpcError
from shared.schedules import ensure_program_schedule
from shared.settings import Settings
from shared.temporal import connect_temporal

T = TypeVar("T")


def scope_refusal(
    role: str, *, program: str | None, region: str | None, base: str | None, documents: bool
) -> str | None:
    """Why ``navcycle user add`` refuses these scope flags for ``role``, or None: a flag the role
    does not use would read as a limit that is not there."""
    given = {f for f, v in (("program", program), ("region", region), ("base", base)) if v}
    if documents:
        given.add("documents")
    if unused := unused_scope_flags(role, given):
        flags = " ".join(f"--{f}" for f in unused)
        return f"{role} 不使用 {flags} / a {role} does not use {flags}"
    return None


def user_add(
    settings: Settings,
    *,
    name: str,
    role: str,
    program: str | None,
    region: str | None,
    base: str | None,
    expires_in: str | None = None,
    documents: bool = False,
    link: bool = False,
) -> int:
    if refused := scope_refusal(
        role, program=program, region=region, base=base, documents=documents
    ):
        print(f"error: {refused}", file=sys.stderr)
        return 2
    if role in SCOPED_TO_PROGRAM and not program:
        print(
            f"warning: 未指定 --program，该{role}不能查看任何项目 / without --program this {role}"
            " reads no program (its operator actions, if any, still work)",
            file=sys.stderr,
        )
    try:
        principal = Principal(
            name=name,
            role=role,  # type: ignore[arg-type]
            program=program,
            region=region,
            base=base,
            documents=documents,
        )
        lifetime = _lifetime(settings, expires_in)
    except ValidationError as exc:
        print(f"error: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except BadLifetime as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url_for("gateway"))
    upgrade(engine, GATEWAY_MIGRATIONS)

    async def add(nc: NatsClient) -> tuple[str, IssuedLink | None]:
        issued = datetime.now(UTC)
        token = add_user(engine, principal, lifetime=lifetime, now=issued)
        scope = {
            **principal.model_dump(exclude={"name"}, exclude_defaults=True),
            "expires_at": (issued + lifetime).isoformat(),
        }
        event = audit.operator_action(
            actor=audit.cli_actor(),
            via="cli",
            action="user.add",
            target=f"user/{name}",
            arguments=scope,
            program=program,
        )
        try:
            await audit.record(nc.jetstream(), event)
        except nats.errors.Error as exc:
            discard_unrecorded_user(engine, name)  # it never existed: no record, no token
            raise AuditUnavailable(
                f"the audit record was not written, so {name} was not created: {exc}"
            ) from None
        if role == "expert" and program:
            try:
                await RpcClient(nc, settings.rpc_timeout_s).call(
                    "assessment", "experts.add", AddExpert(program=program, expert=name), Empty
                )
            except (RpcError, nats.errors.Error) as exc:
                print(
                    f"warning: {name} is not in the assessment roster yet ({exc}); "
                    "add the user again once the stack runs",
                    file=sys.stderr,
                )
        if not link:
            return token, None
        try:
            return token, await _signin_link(settings, engine, nc, name)
        except AuditUnavailable as exc:  # the user stands: its token must still be shown
            print(
                f"warning: {exc}; 请稍后运行 navcycle user link --name {name} / issue one later"
                f" with navcycle user link --name {name}",
                file=sys.stderr,
            )
            return token, None

    try:
        token, signin = asyncio.run(_audited(settings, add))
    except (UserExists, AuditUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if signin is not None:
        _print_link(settings, signin)
    print(
        f"created {role} {name}, valid {_days(lifetime)}; the token is shown once"
        f" / 已创建，令牌仅显示一次:",
        file=sys.stderr,
    )
    print(token)
    return 0


async def _signin_link(settings: Settings, engine: Engine, nc: NatsClient, name: str) -> IssuedLink:
    """A one-time portal sign-in link for ``name``, audited (without the link) or not issued."""
    issued = issue_link(engine, name, lifetime=timedelta(minutes=settings.signin_link_minutes))
    event = audit.operator_action(
        actor=audit.cli_actor(),
        via="cli",
        action="user.link",
        target=f"user/{name}",
        arguments={"expires_at": issued.expires_at.isoformat()},
        program=issued.program,
    )
    try:
        await audit.record(nc.jetstream(), event)
    except nats.errors.Error as exc:
        discard_link(engine, issued.token)  # no record, no link
        raise AuditUnavailable(
            f"the audit record was not written, so no sign-in link was issued for {name}: {exc}"
        ) from None
    return issued


def _print_link(settings: Settings, issued: IssuedLink) -> None:
    print(
        f"one-time sign-in link, works once until {issued.expires_at.isoformat()}"
        " / 一次性登录链接（仅可使用一次）:",
        file=sys.stderr,
    )
    print(issued.url(settings.portal_url))


def user_link(settings: Settings, *, name: str) -> int:
    """A new one-time portal sign-in link for an existing active user (its token unchanged)."""
    engine = make_engine(settings.database_url_for("gateway"))
    upgrade(engine, GATEWAY_MIGRATIONS)

    async def issue(nc: NatsClient) -> IssuedLink:
        return await _signin_link(settings, engine, nc, name)

    try:
        issued = asyncio.run(_audited(settings, issue))
    except (NoActiveUser, AuditUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_link(settings, issued)
    return 0


def _lifetime(settings: Settings, expires_in: str | None) -> timedelta:
    if expires_in is None:
        return timedelta(days=settings.token_lifetime_days)
    return parse_lifetime(expires_in)


def _days(lifetime: timedelta) -> str:
    if lifetime % timedelta(days=1):
        return f"{lifetime.total_seconds() / 3600:g} hours"
    return f"{lifetime.days} days"


def user_rotate(settings: Settings, *, name: str, expires_in: str | None = None) -> int:
    """A new token for ``name``; the old one stops working at once."""
    try:
        lifetime = _lifetime(settings, expires_in)
    except BadLifetime as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url_for("gateway"))
    upgrade(engine, GATEWAY_MIGRATIONS)

    async def rotate(nc: NatsClient) -> str:
        rotated = rotate_token(engine, name, lifetime=lifetime)
        event = audit.operator_action(
            actor=audit.cli_actor(),
            via="cli",
            action="user.rotate",
            target=f"user/{name}",
            arguments={"expires_at": rotated.expires_at.isoformat()},
        )
        try:
            await audit.record(nc.jetstream(), event)
        except nats.errors.Error as exc:
            undo_rotation(engine, name, rotated)  # no record, no new token: the old one stands
            raise AuditUnavailable(
                f"the audit record was not written, so {name}'s token was not rotated: {exc}"
            ) from None
        return rotated.token

    try:
        token = asyncio.run(_audited(settings, rotate))
    except (NoActiveUser, AuditUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"rotated {name}'s token, valid {_days(lifetime)}; the old one no longer works; the new"
        " one is shown once / 令牌已更换，旧令牌立即失效，新令牌仅显示一次:",
        file=sys.stderr,
    )
    print(token)
    return 0


def user_list(settings: Settings, *, as_json: bool = False) -> int:
    """Every user ever made, revoked ones included (their names stay taken)."""
    engine = make_engine(settings.database_url_for("gateway"))
    upgrade(engine, GATEWAY_MIGRATIONS)
    print(user_table(list_users(engine), now=datetime.now(UTC), as_json=as_json))
    return 0


def user_revoke(settings: Settings, *, name: str) -> int:
    engine = make_engine(settings.database_url_for("gateway"))
    upgrade(engine, GATEWAY_MIGRATIONS)

    async def revoke(nc: NatsClient) -> bool:
        expert_of = _expert_program(engine, name)
        if not revoke_user(engine, name):
            return False
        event = audit.operator_action(
            actor=audit.cli_actor(), via="cli", action="user.revoke", target=f"user/{name}"
        )
        # A revocation stands even unrecorded: undoing it would be the greater harm.
        with unrecorded(f"{name} is revoked, but its audit record failed"):
            await audit.record(nc.jetstream(), event)
        if expert_of is not None:
            await _off_the_roster(settings, nc, program=expert_of, expert=name)
        return True

    try:
        revoked = asyncio.run(_audited(settings, revoke))
    except AuditUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not revoked:
        print(f"error: no active user {name!r}", file=sys.stderr)
        return 2
    print(f"revoked {name}")
    return 0


def _expert_program(engine: Engine, name: str) -> str | None:
    """The program of an active expert user, read before it is revoked."""
    with session_scope(engine) as session:
        row = session.exec(
            select(UserRow).where(UserRow.name == name, col(UserRow.revoked_at).is_(None))
        ).first()
        return row.program if row is not None and row.role == "expert" else None


async def _off_the_roster(settings: Settings, nc: NatsClient, *, program: str, expert: str) -> None:
    """A revoked expert leaves the roster; their undecided reviews go to the next experts."""
    try:
        removed = await RpcClient(nc, settings.rpc_timeout_s).call(
            "assessment",
            "experts.remove",
            RemoveExpert(program=program, expert=expert, by=audit.cli_actor()),
            ExpertRemoved,
        )
    except (RpcError, nats.errors.Error) as exc:
        print(
            f"warning: {expert} is revoked but still on the {program} roster ({exc});"
            " revoke again once the assessment service runs",
            file=sys.stderr,
        )
        return
    for ref in removed.reassigned:
        print(f"reassigned: {program}/{ref.year}/{ref.base} round {ref.round}")
    for ref in removed.unfilled:
        print(
            f"warning: {program}/{ref.year}/{ref.base} round {ref.round} keeps {expert}: "
            f"{ref.message}; add experts, then navcycle experts reassign",
            file=sys.stderr,
        )


def program_apply(settings: Settings, path: Path) -> int:
    try:
        rules = load_rules_file(path)
    except (RulesError, OSError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    document = rules.model_dump(mode="json", by_alias=True)

    async def apply(nc: NatsClient) -> RulesApplied:
        rpc = RpcClient(nc, settings.rpc_timeout_s)
        applied = await rpc.call(
            "registry", "rules.apply", ApplyRules(document=document), RulesApplied
        )
        pinned = await rpc.call(
            "registry", "rules.current", GetProgram(program=rules.id), PinnedRules
        )
        event = audit.operator_action(
            actor=audit.cli_actor(),
            via="cli",
            action="program.apply",
            target=f"program/{rules.id}",
            arguments={**audit.rules_applied(applied, pinned), "file": str(path)},
            program=rules.id,
        )
        with unrecorded(
            f"{rules.id} version {applied.version} is stored, but its audit record failed "
            "and its launch schedule was not updated"
        ):
            await audit.record(nc.jetstream(), event)
        client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
        await ensure_program_schedule(client, pinned.rules, settings.task_queue)
        return applied

    applied = run_audited(settings, apply)
    if isinstance(applied, Refused):
        return 2
    state = "new version" if applied.created else "unchanged, still version"
    print(f"{applied.program}: {state} {applied.version}")
    return 0


class AuditUnavailable(Exception):
    """The event log cannot be reached: the action is refused rather than left unrecorded."""


@contextmanager
def unrecorded(done: str) -> Iterator[None]:
    """An event log failure inside becomes :class:`AuditUnavailable` saying ``done`` (what stands
    and what failed) and the error: the command then answers that it was left unrecorded."""
    try:
        yield
    except nats.errors.Error as exc:
        raise AuditUnavailable(f"{done}: {exc}") from None


class Refused:
    """What :func:`run_audited` answers for an action refused (the reason already printed)."""


REFUSED = Refused()


def run_audited(
    settings: Settings,
    action: Callable[[NatsClient], Awaitable[T]],
    refusals: tuple[type[Exception], ...] = (),
) -> T | Refused:
    """Run an audited action; a refusal (by a service, by the event log, or one of
    ``refusals``) is printed as the error it is and answered :data:`REFUSED` (exit 2)."""
    try:
        return asyncio.run(_audited(settings, action))
    except RpcError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        for e in exc.details.get("errors", []):
            print(f"  {e['field']}: {e['message']}", file=sys.stderr)
    except Exception as exc:
        if not isinstance(exc, (AuditUnavailable, *refusals)):
            raise
        print(f"error: {exc}", file=sys.stderr)
    return REFUSED


async def _audited(settings: Settings, action: Callable[[NatsClient], Awaitable[T]]) -> T:
    """Run ``action`` with a connection to the event log, opened first: no audit, no action."""

    async def quiet(_: Exception) -> None:
        pass

    try:
        nc = await nats.connect(
            **nats_options(settings),
            connect_timeout=3,
            # nats-py retries forever when this is 0; 1 gives up after one retry per server.
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=quiet,
        )
    except (OSError, nats.errors.Error) as exc:
        raise AuditUnavailable(
            f"the event log (NATS) is unreachable, so nothing was changed: {exc}"
        ) from None
    try:
        return await action(nc)
    finally:
        await nc.close()
