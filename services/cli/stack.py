"""``navcycle up``: the whole stack on one machine, from embedded defaults.

Servers that already answer at their configured address are used as they are; everything this
command starts, it stops on Ctrl-C (or SIGTERM), children first, then the servers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)

from shared.binaries import BinaryMissing, find_binary
from shared.clients import nats_options
from shared.contracts import search_attributes as sa
from shared.embedded import temporal_dev_server_argv
from shared.logging import get_logger
from shared.nats_auth import CONFIG_FILE, read_embedded_passwords, write_embedded_auth
from shared.retrying import retrying
from shared.settings import Settings, split_nats_urls
from shared.supervisor import Supervisor, answers, http_probe, port_probe
from shared.temporal import connect_temporal

log = get_logger("up")
SERVICES = ["registry", "filings", "assessment", "notifier", "dashboard", "worker", "gateway"]
_KINDS = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
}


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def nats_host_ports(settings: Settings) -> list[tuple[str, int]]:
    """Host and port of every NATS server the setting lists (a cluster's, comma-separated)."""
    parsed = [
        urlparse(u if "://" in u else f"nats://{u}") for u in split_nats_urls(settings.nats_url)
    ]
    return [(url.hostname or "127.0.0.1", url.port or 4222) for url in parsed]


def running_nats(settings: Settings) -> tuple[str, int] | None:
    """The first listed NATS server that answers, if any: ``navcycle up`` then uses the
    servers as they are rather than start one of its own."""
    return next((server for server in nats_host_ports(settings) if answers(*server)), None)


def child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        NAVCYCLE_STATE_DIR=str(settings.state_dir.resolve()),
        NAVCYCLE_TEMPORAL_ADDRESS=settings.temporal_address,
        NAVCYCLE_NATS_URL=settings.nats_url,
        NAVCYCLE_HTTP_HOST=settings.http_host,
        NAVCYCLE_HTTP_PORT=str(settings.http_port),
        NAVCYCLE_LOG_FORMAT="json",
    )
    return env


def service_env(env: dict[str, str], name: str, passwords: dict[str, str]) -> dict[str, str]:
    """A service's environment: its own NATS user, when ``navcycle up`` has one for it."""
    if name not in passwords:
        return env
    return {**env, "NAVCYCLE_NATS_USER": name, "NAVCYCLE_NATS_PASSWORD": passwords[name]}


def start_nats(settings: Settings, stack: Supervisor, env: dict[str, str]) -> dict[str, str]:
    """A nats-server of our own, with new passwords for its users; returns them."""
    state = settings.state_dir.resolve()
    host, port = nats_host_ports(settings)[0]
    # The monitoring port (the e2e tests read /connz) is in the config, on the loopback only.
    passwords = write_embedded_auth(settings.nats_auth_dir, monitor_port=settings.nats_monitor_port)
    stack.start(
        "nats",
        [
            find_binary("nats-server"),
            "-c",
            str(settings.nats_auth_dir.resolve() / CONFIG_FILE),
            "-js",
            "-a",
            host,
            "-p",
            str(port),
            "-sd",
            str(state / "nats"),
        ],
        env,
    )
    return passwords


async def ensure_search_attributes(settings: Settings) -> None:
    client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=settings.temporal_namespace)
    )
    missing = {
        key.name: _KINDS[key.indexed_value_type.name]
        for key in sa.ALL
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=settings.temporal_namespace, search_attributes=missing
            )
        )


async def bring_up(settings: Settings, stack: Supervisor) -> None:
    state = settings.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    env = child_env(settings)

    t_host, t_port = _host_port(settings.temporal_address)
    if answers(t_host, t_port):
        log.info("temporal.existing", address=settings.temporal_address)
    else:
        argv = temporal_dev_server_argv(
            t_host,
            t_port,
            state / "temporal.db",
            ui_port=settings.temporal_ui_port,
            namespace=settings.temporal_namespace,
        )
        stack.start("temporal", argv, env)

    live = running_nats(settings)
    n_host, n_port = live or nats_host_ports(settings)[0]
    if live:
        # Used as it is. The users written by an earlier start are passed on: a server of ours
        # still running knows them, and a server without authentication ignores them.
        passwords = read_embedded_passwords(settings.nats_auth_dir)
        log.info("nats.existing", url=settings.nats_url, users=sorted(passwords))
    else:
        passwords = start_nats(settings, stack, env)
        log.info("nats.users", users=sorted(passwords), dir=str(settings.nats_auth_dir))

    await stack.wait_ready("nats-server", port_probe(n_host, n_port), 30)
    await stack.wait_ready("Temporal", port_probe(t_host, t_port), 90)
    await retrying(on=Exception, seconds=60, step=0.5, growing=False)(
        ensure_search_attributes, settings
    )

    for name in SERVICES:
        argv = [sys.executable, "-m", "services.cli.main", "serve", name]
        stack.start(name, argv, service_env(env, name, passwords))

    url = f"{settings.gateway_url}/healthz"
    await stack.wait_ready("the gateway health check", http_probe(url), 120)
    await sync_schedules(settings)


async def sync_schedules(settings: Settings) -> list[str]:
    """One yearly launch Schedule per registered program, matching its current rules."""
    import nats

    from shared.contracts.registry import ProgramList
    from shared.rpc import Empty, RpcClient
    from shared.schedules import ensure_program_schedule

    nc = await nats.connect(**nats_options(settings))  # the operator's user, if any
    try:
        programs = await RpcClient(nc).call("registry", "programs.list", Empty(), ProgramList)
    finally:
        await nc.close()
    client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
    ids = [
        await ensure_program_schedule(client, p.rules, settings.task_queue)
        for p in programs.programs
    ]
    log.info("schedules.synced", schedules=ids)
    return ids


def banner(settings: Settings) -> str:
    t_host, _ = _host_port(settings.temporal_address)
    return "\n".join(
        [
            "navcycle is up / navcycle 已启动",
            f"  API        {settings.gateway_url}/v1   (OpenAPI: {settings.gateway_url}/docs)",
            f"  health     {settings.gateway_url}/healthz",
            f"  Temporal   {settings.temporal_address}   UI: http://{t_host}:{settings.temporal_ui_port}",
            f"  NATS       {settings.nats_url}   stream NAVCYCLE_EVENTS",
            f"  state      {Path(settings.state_dir).resolve()}",
            "Press Ctrl-C to stop / 按 Ctrl-C 停止",
        ]
    )


def run_up(settings: Settings) -> int:
    stack = Supervisor(settings.state_dir / "logs")
    stop = asyncio.Event()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        up = asyncio.create_task(bring_up(settings, stack))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({up, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if up in done:
            if exc := up.exception():
                log.error("up.failed", error=str(exc))
                if isinstance(exc, BinaryMissing):  # what to install, plainly, not only logged
                    print(exc, file=sys.stderr, flush=True)
                return 1
            print(banner(settings), flush=True)
            while not stop.is_set():
                if failed := stack.exited(tail=15):
                    log.error("process.exited", detail="\n".join(failed))
                    return 1
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                except TimeoutError:
                    pass
        else:
            up.cancel()
        return 0

    try:
        code = asyncio.run(main())
    finally:
        stack.stop_all(timeout=15.0)
        print("navcycle stopped / 已停止", flush=True)
    return code
