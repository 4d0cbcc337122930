"""A service whose NATS server goes away: it waits quietly, comes back when the server does, and
leaves on SIGTERM while the server is gone.

Before its broker reconnected for good, FastStream gave up after 60 tries (about two minutes);
the closed connection then made each pull consumer's fetch fail at once, in a loop that never
yielded: measured on this machine, 54 % of a core two minutes after the server went, and SIGTERM
unheard (its handler runs on the loop the consumer held). This test runs each service as a real
process (`navcycle serve <service>`) against a nats-server it starts, kills and starts again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from shared.binaries import find_binary
from shared.embedded import free_port, wait_port
from shared.events.subjects import rpc_subject
from shared.settings import REPO_ROOT
from tests.helpers import until

GONE_S = 4  # past the first reconnect tries; the check is on what the process does then
CPU_WINDOW_S = 5.0
MAX_CPU_SHARE = 0.2  # of one core, while NATS is gone (the loop spun at 0.5-0.65)


class Nats:
    """One nats-server on a fixed port and store, to kill and start again as the same server."""

    def __init__(self, store: Path) -> None:
        self.port, self.store = free_port(), store
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [find_binary("nats-server"), "-js", "-a", "127.0.0.1", "-p", str(self.port)]
        self.proc = subprocess.Popen(
            [*argv, "-sd", str(self.store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.port)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Nats]:
    found = Nats(tmp_path / "js")
    found.start()
    yield found
    found.kill()


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, after the state field


SERVICES = ["registry", "filings", "assessment", "notifier", "dashboard"]


async def _healthy(url: str, service: str) -> bool:
    try:
        nc = await nats.connect(url, connect_timeout=1, max_reconnect_attempts=0)
    except Exception:
        return False
    try:
        await nc.request(rpc_subject(service, "health"), b"{}", timeout=2)
        return True
    except Exception:
        return False
    finally:
        await nc.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
@pytest.mark.parametrize("name", SERVICES)
async def test_a_service_without_nats_waits_quietly_reconnects_and_leaves_on_sigterm(
    name: str, server: Nats, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "NAVCYCLE_NATS_URL": server.url,
        "NAVCYCLE_STATE_DIR": str(tmp_path / "state"),
    }
    env.pop("NAVCYCLE_DATABASE_URL", None)
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("wb")
    service = subprocess.Popen(  # noqa: ASYNC220 (started once; its output goes to a file)
        [sys.executable, "-m", "services.cli.main", "serve", name],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        await until(
            lambda: _healthy(server.url, name),
            what="the service answers health",
            limit_s=60,
            every=0.5,
        )

        server.kill()
        await asyncio.sleep(GONE_S)
        assert service.poll() is None, "the service left when NATS went away"
        before, started = _cpu_ticks(service.pid), time.monotonic()
        await asyncio.sleep(CPU_WINDOW_S)
        ticks, elapsed = _cpu_ticks(service.pid) - before, time.monotonic() - started
        share = ticks / os.sysconf("SC_CLK_TCK") / elapsed
        assert share < MAX_CPU_SHARE, f"{share:.0%} of a core while NATS is gone"

        server.start()  # the same server again: the service reconnects by itself
        await until(
            lambda: _healthy(server.url, name),
            what="health after NATS is back",
            limit_s=60,
            every=0.5,
        )

        server.kill()  # gone for good: SIGTERM still ends it, cleanly
        await asyncio.sleep(2)
        service.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(service.wait, 30)
        assert code == 0, log_path.read_text()[-2000:]
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(10)
        log.close()
