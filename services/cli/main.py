"""``navcycle``: one console script for everything an operator does."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from services.gateway.identity.tokens import ROLES
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
    parser = argparse.ArgumentParser(
        prog="navcycle", description="navcycle: 专利导航服务基地年度周期"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the whole stack on this machine")
    serve = sub.add_parser("serve", help="run one process of the stack")
    serve.add_argument(
        "name", choices=["registry", "filings", "assessment", "notifier", "worker", "gateway"]
    )
    user = sub.add_parser("user", help="users and their bearer tokens")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="create a user; prints its token as the last line")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--program")
    add.add_argument("--region")
    add.add_argument("--base")
    revoke = user_sub.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("--name", required=True)
    program = sub.add_parser("program", help="program rules")
    program_sub = program.add_subparsers(dest="action", required=True)
    apply = program_sub.add_parser("apply", help="apply a rules file: a new version if it changed")
    apply.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command in ("user", "program"):
        configure_logging(settings.log_format, "WARNING", service="cli")
        from services.cli import admin

        if args.command == "program":
            return admin.program_apply(settings, args.file)
        if args.action == "revoke":
            return admin.user_revoke(settings, name=args.name)
        return admin.user_add(
            settings,
            name=args.name,
            role=args.role,
            program=args.program,
            region=args.region,
            base=args.base,
        )
    if args.command == "up":
        configure_logging(settings.log_format, settings.log_level, service="up")
        from services.cli.stack import run_up

        return run_up(settings)
    configure_logging(settings.log_format, settings.log_level, service=args.name)
    asyncio.run(_until_signalled(_serve(args.name, settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
