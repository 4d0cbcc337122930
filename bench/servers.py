"""Throw-away engines for the benchmarks: the Temporal dev server and nats-server, on free ports,
with their data in the benchmark's temporary directory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from shared.binaries import find_binary
from shared.contracts import search_attributes as sa
from shared.embedded import free_port
from shared.supervisor import Supervisor


@asynccontextmanager
async def dev_server(root: Path | None = None) -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal CLI dev server with navcycle's search attributes; its SQLite database in a
    file under ``root`` as ``navcycle up`` runs it, or in memory without one."""
    if root is not None:
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_local(
        search_attributes=sa.ALL,
        dev_server_existing_path=find_binary("temporal"),
        dev_server_database_filename=None if root is None else str(root / "temporal.db"),
        dev_server_log_level="error",
        data_converter=pydantic_data_converter,
        port=free_port(),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@asynccontextmanager
async def serve(service: str, state: Path, **env: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    """``navcycle serve <service>`` in its own process, as deployed, until the block ends: its
    state (SQLite) in ``state``, JSON logs at WARNING to ``state/<service>.log``, and ``env`` as
    NAVCYCLE_* settings (``nats_url="..."`` sets NAVCYCLE_NATS_URL)."""
    settings = {f"NAVCYCLE_{k.upper()}": v for k, v in env.items()}
    supervisor = Supervisor(state)
    process = supervisor.start(
        service,
        [sys.executable, "-m", "services.cli.main", "serve", service],
        dict(
            os.environ,
            NAVCYCLE_STATE_DIR=str(state),
            NAVCYCLE_LOG_FORMAT="json",
            NAVCYCLE_LOG_LEVEL="WARNING",
            **settings,
        ),
    )
    try:
        yield process.proc
    finally:
        await asyncio.to_thread(supervisor.stop_all)
