"""``navcycle``: one console script for everything an operator does."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from services.gateway.identity.tokens import ROLES
from shared.domain import stage_machine
from shared.logging import configure_logging
from shared.settings import Settings


def _serve(name: str, settings: Settings) -> Coroutine[Any, Any, None]:
    if name == "registry":
        from services.registry.main import serve as registry

        return registry(settings)
    if name == "filings":
        from services.filings.main import serve as filings

        return filings(settings)
    if name == "assessment":
        from services.assessment.main import serve as assessment

        return assessment(settings)
    if name == "notifier":
        from services.notifier.main import serve as notifier

        return notifier(settings)
    if name == "dashboard":
        from services.dashboard.main import serve as dashboard

        return dashboard(settings)
    if name == "worker":
        from workflows.worker import serve as worker

        return worker(settings)
    from services.gateway.main import serve as gateway

    return gateway(settings)


async def _until_signalled(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(coro)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> int:
    code = _main(argv)
    if argv is None and (len(sys.argv) < 2 or sys.argv[1] not in ("up", "serve")):
        # One-shot commands end here: skip interpreter finalisation, where the Temporal core's
        # native threads can abort the process after the work is done and printed.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="navcycle", description="navcycle: 专利导航服务基地年度周期"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the whole stack on this machine")
    serve = sub.add_parser("serve", help="run one process of the stack")
    serve.add_argument(
        "name",
        choices=["registry", "filings", "assessment", "notifier", "dashboard", "worker", "gateway"],
    )
    user = sub.add_parser("user", help="users and their bearer tokens")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="create a user; prints its token as the last line")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--program")
    add.add_argument("--region")
    add.add_argument("--base")
    add.add_argument(
        "--documents",
        action="store_true",
        help="a viewer or operator may read the bases' documents (its program and region only)",
    )
    lifetime_help = "token lifetime: P90D, PT12H or days (default NAVCYCLE_TOKEN_LIFETIME_DAYS)"
    add.add_argument("--expires-in", help=lifetime_help)
    revoke = user_sub.add_parser("revoke", help="revoke a user's token; the name stays taken")
    revoke.add_argument("--name", required=True)
    rotate = user_sub.add_parser("rotate", help="a new token for a user; the old one stops working")
    rotate.add_argument("--name", required=True)
    rotate.add_argument("--expires-in", help=lifetime_help)
    listing = user_sub.add_parser("list", help="users: role, scope, expiry, last use, revoked")
    listing.add_argument("--json", action="store_true")
    program = sub.add_parser("program", help="program rules")
    program_sub = program.add_subparsers(dest="action", required=True)
    apply = program_sub.add_parser("apply", help="apply a rules file: a new version if it changed")
    apply.add_argument("file", type=Path)
    cal = sub.add_parser("calendar", help="holiday tables (节假日安排) for working days")
    cal_sub = cal.add_subparsers(dest="action", required=True)
    cal_apply = cal_sub.add_parser("apply", help="apply a holiday table; its years replace stored")
    cal_apply.add_argument("file", type=Path)
    cal_show = cal_sub.add_parser("show", help="print a holiday table's current version")
    cal_show.add_argument("id", help="the table's id, e.g. cn-statutory")
    cal_show.add_argument("--json", action="store_true", help="the stored version as JSON")
    rp = sub.add_parser("replay", help="replay workflow histories against this code")
    rp.add_argument("paths", nargs="*", type=Path, help="history JSON files or folders")
    rp.add_argument("--workflow-id", action="append", default=[])
    rp.add_argument("--program")
    rp.add_argument("--year", type=int)
    rp.add_argument("--all", action="store_true", help="every cycle and program year on the server")
    rp.add_argument("--parallel", type=int, default=4)
    rp.add_argument("--json", action="store_true")
    ev = sub.add_parser("events", help="read the event log")
    ev.add_argument("mode", choices=["tail", "replay"])
    ev.add_argument("--program")
    ev.add_argument("--year", type=int)
    ev.add_argument("--base")
    ev.add_argument("--type", dest="event_type")
    ev.add_argument("--since-seq", type=int)
    ev.add_argument(
        "--since", type=datetime.fromisoformat, help="ISO time, e.g. 2026-03-01T00:00:00+08:00"
    )
    ev.add_argument("--json", action="store_true")
    demo = sub.add_parser("demo", help="simulate a whole program year with synthetic people")
    demo_program = demo.add_mutually_exclusive_group()
    demo_program.add_argument(
        "--preset",
        help="the preset in deploy/programs a simulation program (sim-<preset>, 【模拟】) is made "
        "from; default demo-fast (a year in about two minutes), or with --virtual henan-nav-base "
        "(a real calendar of months, skipped through)",
    )
    demo_program.add_argument(
        "--program",
        help="play an existing simulation program (simulation: true); any other is refused",
    )
    demo.add_argument("--bases", type=int, default=100)
    demo.add_argument("--virtual", action="store_true", help="run under the time-skipping server")
    demo.add_argument("--year", type=int, help="default: the first year not launched yet")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--json", action="store_true")
    rs = sub.add_parser("reset", help="move cycles back to a stage, with a reason")
    rs.add_argument("--workflow-id", action="append", default=[])
    rs.add_argument("--program")
    rs.add_argument("--year", type=int)
    rs.add_argument(
        "--to",
        required=True,
        help=", ".join(stage_machine.reset_targets()),
    )
    rs.add_argument("--reason", required=True)
    rs.add_argument("--dry-run", action="store_true")
    rs.add_argument("--json", action="store_true")
    dash = sub.add_parser("dashboard", help="dashboard projections")
    dash.add_argument("action", choices=["rebuild"])
    dash.add_argument("--json", action="store_true")
    wi = sub.add_parser("whatif", help="re-grade a finished year under other rules")
    wi.add_argument("--program", required=True)
    wi.add_argument("--year", type=int, required=True)
    wi.add_argument("--rules", type=Path, required=True)
    wi.add_argument("--json", action="store_true")
    bs = sub.add_parser("base", help="a base's status: reinstate a de-listed base, with a reason")
    bs.add_argument("action", choices=["reinstate"])
    bs.add_argument("--program", required=True)
    bs.add_argument("--base", required=True)
    bs.add_argument("--reason", required=True)
    ex = sub.add_parser("experts", help="reassign the experts of an open review, with a reason")
    ex.add_argument("action", choices=["reassign"])
    ex.add_argument("--program", required=True)
    ex.add_argument("--year", type=int, required=True)
    ex.add_argument("--base", required=True)
    ex.add_argument("--replace", action="append", help="an expert to replace (repeatable)")
    ex.add_argument("--keep", action="append", help="or: an expert who stays (repeatable)")
    ex.add_argument("--round", type=int, help="default: the latest round")
    ex.add_argument("--reason", required=True)
    nt = sub.add_parser("notices", help="notice deliveries: put dead-lettered ones back")
    nt.add_argument("action", choices=["resend"])
    nt_which = nt.add_mutually_exclusive_group(required=True)
    nt_which.add_argument("--id", type=int, help="one dead delivery")
    nt_which.add_argument("--all-dead", action="store_true", help="every dead delivery")
    nt.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command not in ("up", "serve"):
        # A one-shot command's stdout is its output (tables, --json): the Temporal core's own
        # warnings (a failing replay's, say) must not land in it.
        from services.cli.ops import quiet_temporal_core

        quiet_temporal_core()

    settings = Settings()
    if args.command == "up":
        configure_logging(settings.log_format, settings.log_level, service="up")
        from services.cli.stack import run_up

        return run_up(settings)
    if args.command == "serve":
        configure_logging(settings.log_format, settings.log_level, service=args.name)
        asyncio.run(_until_signalled(_serve(args.name, settings)))
        return 0
    configure_logging(settings.log_format, "WARNING", service="cli")
    return _one_shot(args, settings)


def _one_shot(args: argparse.Namespace, settings: Settings) -> int:
    """The operator commands that do one thing and exit."""
    from services.cli import admin, bases_admin, notices, ops
    from services.cli.calendar import command as calendar_command

    def user() -> int:
        if args.action == "revoke":
            return admin.user_revoke(settings, name=args.name)
        if args.action == "rotate":
            return admin.user_rotate(settings, name=args.name, expires_in=args.expires_in)
        if args.action == "list":
            return admin.user_list(settings, as_json=args.json)
        return admin.user_add(
            settings,
            name=args.name,
            role=args.role,
            program=args.program,
            region=args.region,
            base=args.base,
            expires_in=args.expires_in,
            documents=args.documents,
        )

    commands: dict[str, Callable[[], int]] = {
        "notices": lambda: notices.resend_command(
            settings, delivery_id=args.id, all_dead=args.all_dead, as_json=args.json
        ),
        "user": user,
        "program": lambda: admin.program_apply(settings, args.file),
        "calendar": lambda: calendar_command(settings, args),
        "replay": lambda: ops.replay_command(
            settings,
            workflow_ids=args.workflow_id,
            program=args.program,
            year=args.year,
            all_=args.all,
            paths=args.paths,
            parallel=args.parallel,
            as_json=args.json,
        ),
        "events": lambda: ops.events_command(
            settings,
            follow=args.mode == "tail",
            program=args.program,
            year=args.year,
            base=args.base,
            event_type=args.event_type,
            since_seq=args.since_seq,
            since=args.since,
            as_json=args.json,
        ),
        "demo": lambda: ops.demo_command(
            settings,
            program=args.program,
            preset=args.preset or ("henan-nav-base" if args.virtual else "demo-fast"),
            year=args.year,
            bases=args.bases,
            virtual=args.virtual,
            seed=args.seed,
            as_json=args.json,
        ),
        "whatif": lambda: ops.whatif_command(
            settings, program=args.program, year=args.year, rules_file=args.rules, as_json=args.json
        ),
        "reset": lambda: ops.reset_command(
            settings,
            workflow_ids=args.workflow_id,
            program=args.program,
            year=args.year,
            to=args.to,
            reason=args.reason,
            dry_run=args.dry_run,
            as_json=args.json,
        ),
        "dashboard": lambda: ops.dashboard_rebuild_command(settings, as_json=args.json),
        "base": lambda: bases_admin.base_reinstate(
            settings, program=args.program, base=args.base, reason=args.reason
        ),
        "experts": lambda: bases_admin.experts_reassign(
            settings,
            program=args.program,
            year=args.year,
            base=args.base,
            replace=args.replace,
            keep=args.keep,
            reason=args.reason,
            round_=args.round,
        ),
    }
    return commands[args.command]()


if __name__ == "__main__":
    sys.exit(main())
