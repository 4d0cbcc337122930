"""``navcycle``: one console script for everything an operator does.

The command tree, its options and its bilingual help, on Typer; the work of each command is in
its module (``ops``, ``admin``, ``bases_admin``, ``calendar``, ``notices``, ``stack``). Shell
completion comes with Typer: ``navcycle --install-completion``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer

from services.gateway.identity.tokens import Role
from shared.domain import stage_machine
from shared.logging import configure_logging
from shared.settings import Settings

Process = Literal["registry", "filings", "assessment", "notifier", "dashboard", "worker", "gateway"]
_PROCESSES = {  # the module whose serve(settings) runs each process
    "registry": "services.registry.main",
    "filings": "services.filings.main",
    "assessment": "services.assessment.main",
    "notifier": "services.notifier.main",
    "dashboard": "services.dashboard.main",
    "worker": "workflows.worker",
    "gateway": "services.gateway.main",
}
JSON = Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON for scripts")]
PROGRAM = Annotated[str, typer.Option(help="项目 / the program id")]
YEAR = Annotated[int, typer.Option(help="年度 / the year")]
BASE = Annotated[str, typer.Option(help="基地 / the base id")]
REASON = Annotated[str, typer.Option(help="理由（记入审计）/ why, recorded in the audit log")]
SOME_PROGRAM = Annotated[str | None, typer.Option("--program", help="项目 / the program id")]
SOME_YEAR = Annotated[int | None, typer.Option("--year", help="年度 / the year")]
WORKFLOW_IDS = Annotated[
    list[str] | None,
    typer.Option("--workflow-id", help="工作流 ID，可重复 / a workflow id (repeatable)"),
]
LIFETIME = Annotated[
    str | None,
    typer.Option(
        help="令牌有效期 / token lifetime: P90D, PT12H or days "
        "(default NAVCYCLE_TOKEN_LIFETIME_DAYS)"
    ),
]

app = typer.Typer(
    name="navcycle",
    help="navcycle：专利导航服务基地年度周期 / yearly cycles of patent navigation service bases",
    no_args_is_help=True,
    # Plain tracebacks: a pretty one would print local variables, settings and secrets among them.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
user_app = typer.Typer(help="用户及其令牌 / users and their bearer tokens", no_args_is_help=True)
program_app = typer.Typer(help="项目规则 / program rules", no_args_is_help=True)
calendar_app = typer.Typer(
    help="节假日安排，用于计算工作日 / holiday tables for working days", no_args_is_help=True
)
dashboard_app = typer.Typer(help="看板投影 / dashboard projections", no_args_is_help=True)
base_app = typer.Typer(
    help="基地状态：恢复被撤销的基地 / a base's status: reinstate a de-listed base, with a reason",
    no_args_is_help=True,
)
experts_app = typer.Typer(
    help="重新指派评审专家 / reassign the experts of an open review, with a reason",
    no_args_is_help=True,
)
notices_app = typer.Typer(
    help="通知投递：重新投递失败的通知 / notice deliveries: put dead-lettered ones back",
    no_args_is_help=True,
)
for sub, name in (
    (user_app, "user"),
    (program_app, "program"),
    (calendar_app, "calendar"),
    (dashboard_app, "dashboard"),
    (base_app, "base"),
    (experts_app, "experts"),
    (notices_app, "notices"),
):
    app.add_typer(sub, name=name)


def _one_shot() -> Settings:
    """Settings for a command that does one thing and exits. Its stdout is its output (tables,
    --json): the Temporal core's own warnings (a failing replay's, say) must not land in it."""
    from services.cli.ops import quiet_temporal_core

    quiet_temporal_core()
    settings = Settings()
    configure_logging(settings.log_format, "WARNING", service="cli")
    return settings


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


@app.command(help="在本机启动整套服务 / start the whole stack on this machine")
def up() -> None:
    from services.cli.stack import run_up

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level, service="up")
    _exit(run_up(settings))


@app.command(help="运行其中一个进程 / run one process of the stack")
def serve(name: Annotated[Process, typer.Argument(help="进程 / the process")]) -> None:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level, service=name)
    asyncio.run(_until_signalled(_serve(name, settings)))


@user_app.command("add", help="创建用户，最后一行是令牌 / create a user; prints its token last")
def user_add(
    name: Annotated[str, typer.Option(help="用户名 / the user's name")],
    role: Annotated[Role, typer.Option(help="角色 / the role")],
    program: SOME_PROGRAM = None,
    region: Annotated[str | None, typer.Option(help="地区代码 / region code")] = None,
    base: Annotated[str | None, typer.Option(help="基地 / the base id")] = None,
    documents: Annotated[
        bool,
        typer.Option(
            "--documents",
            help="可查阅基地文件（仅限其项目与地区）/ a viewer or operator may read the bases' "
            "documents (its program and region only)",
        ),
    ] = False,
    expires_in: LIFETIME = None,
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="另打印一次性登录链接（网页工作平台）/ also print a one-time sign-in link to the"
            " portal (NAVCYCLE_SIGNIN_LINK_MINUTES)",
        ),
    ] = False,
) -> None:
    from services.cli import admin

    settings = _one_shot()
    _exit(
        admin.user_add(
            settings,
            name=name,
            role=role,
            program=program,
            region=region,
            base=base,
            expires_in=expires_in,
            documents=documents,
            link=link,
        )
    )


@user_app.command(
    "link",
    help="签发一次性登录链接，仅可使用一次 / a new one-time sign-in link to the portal for an"
    " active user",
)
def user_link(name: Annotated[str, typer.Option(help="用户名 / the user's name")]) -> None:
    from services.cli import admin

    _exit(admin.user_link(_one_shot(), name=name))


@user_app.command(
    "revoke", help="撤销用户令牌，用户名不再复用 / revoke a user's token; the name stays taken"
)
def user_revoke(name: Annotated[str, typer.Option(help="用户名 / the user's name")]) -> None:
    from services.cli import admin

    _exit(admin.user_revoke(_one_shot(), name=name))


@user_app.command(
    "rotate", help="更换令牌，旧令牌立即失效 / a new token; the old one stops working"
)
def user_rotate(
    name: Annotated[str, typer.Option(help="用户名 / the user's name")],
    expires_in: LIFETIME = None,
) -> None:
    from services.cli import admin

    _exit(admin.user_rotate(_one_shot(), name=name, expires_in=expires_in))


@user_app.command(
    "list",
    help="用户：角色、范围、到期、最近使用、撤销 / users: role, scope, expiry, last use, revoked",
)
def user_list(as_json: JSON = False) -> None:
    from services.cli import admin

    _exit(admin.user_list(_one_shot(), as_json=as_json))


@program_app.command(
    "apply",
    help="应用规则文件，有变化则生成新版本 / apply a rules file: a new version if it changed",
)
def program_apply(file: Annotated[Path, typer.Argument(help="规则文件 / the rules file")]) -> None:
    from services.cli import admin

    _exit(admin.program_apply(_one_shot(), file))


@calendar_app.command(
    "apply", help="应用节假日表，所含年度替换已存 / apply a holiday table; its years replace stored"
)
def calendar_apply(
    file: Annotated[Path, typer.Argument(help="节假日表文件 / the table's file")],
) -> None:
    from services.cli.calendar import calendar_apply as apply

    _exit(apply(_one_shot(), file))


@calendar_app.command(
    "show", help="显示节假日表的当前版本 / print a holiday table's current version"
)
def calendar_show(
    id: Annotated[str, typer.Argument(help="节假日表 ID / the table's id, e.g. cn-statutory")],
    as_json: Annotated[
        bool, typer.Option("--json", help="以 JSON 输出已存版本 / the stored version as JSON")
    ] = False,
) -> None:
    from services.cli.calendar import calendar_show as show

    _exit(show(_one_shot(), id, as_json=as_json))


@app.command(help="用当前代码重放工作流历史 / replay workflow histories against this code")
def replay(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="历史 JSON 文件或目录 / history JSON files or folders"),
    ] = None,
    workflow_id: WORKFLOW_IDS = None,
    program: SOME_PROGRAM = None,
    year: SOME_YEAR = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help="服务器上所有周期与项目年度 / every cycle and program year"),
    ] = False,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            "--parallel",
            min=0,
            help="进程数，0 为每个 CPU 核一个 / worker processes, 0 for one per core",
        ),
    ] = 0,
    as_json: JSON = False,
) -> None:
    from services.cli import ops

    _exit(
        ops.replay_command(
            _one_shot(),
            workflow_ids=workflow_id or [],
            program=program,
            year=year,
            all_=all_,
            paths=paths or [],
            processes=processes,
            as_json=as_json,
        )
    )


@app.command(help="读取事件日志：tail 跟随，replay 回放 / read the event log: tail or replay")
def events(
    mode: Annotated[
        Literal["tail", "replay"],
        typer.Argument(help="tail 跟随新事件，replay 读出已有事件 / tail follows, replay reads"),
    ],
    program: SOME_PROGRAM = None,
    year: SOME_YEAR = None,
    base: Annotated[str | None, typer.Option(help="基地 / the base id")] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", help="事件类型 / event type, e.g. plan.filed")
    ] = None,
    since_seq: Annotated[
        int | None, typer.Option(help="起始序号 / from this stream sequence")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=datetime.fromisoformat,
            help="起始时间 / ISO time, e.g. 2026-03-01T00:00:00+08:00",
        ),
    ] = None,
    as_json: JSON = False,
) -> None:
    from services.cli import ops

    _exit(
        ops.events_command(
            _one_shot(),
            follow=mode == "tail",
            program=program,
            year=year,
            base=base,
            event_type=event_type,
            since_seq=since_seq,
            since=since,
            as_json=as_json,
        )
    )


@app.command(
    help="用虚拟人员模拟整个项目年度 / simulate a whole program year with synthetic people"
)
def demo(
    preset: Annotated[
        str | None,
        typer.Option(
            help="模拟项目（sim-<preset>，【模拟】）所依据的 deploy/programs 预设 / the preset a "
            "simulation program is made from; default demo-fast (a year in about two minutes), "
            "or with --virtual henan-nav-base (a real calendar of months, skipped through)"
        ),
    ] = None,
    program: Annotated[
        str | None,
        typer.Option(
            help="运行已有的模拟项目，其他项目一律拒绝 / play an existing simulation program "
            "(simulation: true); any other is refused"
        ),
    ] = None,
    bases: Annotated[int, typer.Option(help="基地数 / how many bases")] = 100,
    virtual: Annotated[
        bool,
        typer.Option(
            "--virtual", help="在时间跳跃服务器上运行 / run under the time-skipping server"
        ),
    ] = False,
    year: Annotated[
        int | None,
        typer.Option(help="年度，默认为第一个未启动的年度 / default: the first year not launched"),
    ] = None,
    seed: Annotated[int, typer.Option(help="随机种子 / random seed")] = 2026,
    as_json: JSON = False,
) -> None:
    from services.cli import ops

    if preset is not None and program is not None:
        raise typer.BadParameter(
            "--preset 与 --program 只能选一个 / not allowed with --preset", param_hint="--program"
        )
    _exit(
        ops.demo_command(
            _one_shot(),
            program=program,
            preset=preset or ("henan-nav-base" if virtual else "demo-fast"),
            year=year,
            bases=bases,
            virtual=virtual,
            seed=seed,
            as_json=as_json,
        )
    )


@app.command(help="将周期重置到某一阶段，并说明理由 / move cycles back to a stage, with a reason")
def reset(
    to: Annotated[
        str,
        typer.Option(help="目标阶段 / the stage: " + ", ".join(stage_machine.reset_targets())),
    ],
    reason: REASON,
    workflow_id: WORKFLOW_IDS = None,
    program: SOME_PROGRAM = None,
    year: SOME_YEAR = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只显示将会重置的周期 / only show what would reset")
    ] = False,
    as_json: JSON = False,
) -> None:
    from services.cli import ops

    _exit(
        ops.reset_command(
            _one_shot(),
            workflow_ids=workflow_id or [],
            program=program,
            year=year,
            to=to,
            reason=reason,
            dry_run=dry_run,
            as_json=as_json,
        )
    )


@dashboard_app.command(
    "rebuild", help="从事件日志重建看板投影 / rebuild the projections from the event log"
)
def dashboard_rebuild(as_json: JSON = False) -> None:
    from services.cli import ops

    _exit(ops.dashboard_rebuild_command(_one_shot(), as_json=as_json))


@app.command(help="按其他规则重新评定已结束的年度 / re-grade a finished year under other rules")
def whatif(
    program: PROGRAM,
    year: YEAR,
    rules: Annotated[Path, typer.Option(help="规则文件 / the rules file to grade by")],
    as_json: JSON = False,
) -> None:
    from services.cli import ops

    _exit(
        ops.whatif_command(
            _one_shot(), program=program, year=year, rules_file=rules, as_json=as_json
        )
    )


@base_app.command("reinstate", help="恢复被撤销的基地 / reinstate a de-listed base")
def base_reinstate(program: PROGRAM, base: BASE, reason: REASON) -> None:
    from services.cli import bases_admin

    _exit(bases_admin.base_reinstate(_one_shot(), program=program, base=base, reason=reason))


@experts_app.command("reassign", help="重新指派评审专家 / reassign a review's experts")
def experts_reassign(
    program: PROGRAM,
    year: YEAR,
    base: BASE,
    reason: REASON,
    replace: Annotated[
        list[str] | None,
        typer.Option(help="要替换的专家，可重复 / an expert to replace (repeatable)"),
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(help="或：留任的专家，可重复 / or: an expert who stays (repeatable)"),
    ] = None,
    round_: Annotated[
        int | None, typer.Option("--round", help="评审轮次，默认最新 / default: the latest round")
    ] = None,
) -> None:
    from services.cli import bases_admin

    _exit(
        bases_admin.experts_reassign(
            _one_shot(),
            program=program,
            year=year,
            base=base,
            replace=replace or None,
            keep=keep or None,
            reason=reason,
            round_=round_,
        )
    )


@notices_app.command("resend", help="重新投递失败的通知 / put dead-lettered deliveries back")
def notices_resend(
    delivery_id: Annotated[
        int | None, typer.Option("--id", help="一条失败投递 / one dead delivery")
    ] = None,
    all_dead: Annotated[
        bool, typer.Option("--all-dead", help="全部失败投递 / every dead delivery")
    ] = False,
    as_json: JSON = False,
) -> None:
    from services.cli import notices

    if (delivery_id is None) == (not all_dead):
        raise typer.BadParameter(
            "--id 与 --all-dead 必选其一 / one of --id or --all-dead is required",
            param_hint="--id / --all-dead",
        )
    _exit(
        notices.resend_command(
            _one_shot(), delivery_id=delivery_id, all_dead=all_dead, as_json=as_json
        )
    )


def _serve(name: str, settings: Settings) -> Coroutine[Any, Any, None]:
    # Imported on demand: each process loads only its own service.
    serve: Callable[[Settings], Coroutine[Any, Any, None]] = importlib.import_module(
        _PROCESSES[name]
    ).serve
    return serve(settings)


async def _until_signalled(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(coro)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def run(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; its exit code (2 for a usage error, as argparse)."""
    try:
        app(args=argv, prog_name="navcycle")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


def main(argv: list[str] | None = None) -> int:
    code = run(argv)
    if argv is None and (len(sys.argv) < 2 or sys.argv[1] not in ("up", "serve")):
        # One-shot commands end here: skip interpreter finalisation, where the Temporal core's
        # native threads can abort the process after the work is done and printed.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
