"""The whole stack started by `navcycle up` for end-to-end tests, shared by the e2e modules.

The session fixture starts it for the first test that needs it, whichever file or selection that
is, and stops it in its finalizer the way an operator does (Ctrl-C), failing the run if the
shutdown is not clean: a non-zero exit, or a process of the stack still running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.settings import Settings
from tests.servers import free_port


@dataclass
class RunningStack:
    url: str
    nats_url: str
    temporal_address: str
    state_dir: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``navcycle ARGS`` against this stack, as an operator runs it."""
        return subprocess.run(
            [sys.executable, "-m", "services.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def token(self, name: str, role: str, **scope: str) -> str:
        """A user made with `navcycle user add`, as an operator would; returns auth headers."""
        argv = [
            sys.executable,
            "-m",
            "services.cli.main",
            "user",
            "add",
            "--name",
            name,
            "--role",
            role,
        ]
        for key, value in scope.items():
            argv += [f"--{key}", value]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    argv: list[str]


def processes_using(marker: str) -> dict[int, Process]:
    """Every process with ``marker`` in its environment or command line, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if marker.encode() in environ or marker.encode() in cmdline:
            ppid = int(stat.rpartition(")")[2].split()[1])  # after "pid (comm) state"
            argv = [a.decode(errors="replace") for a in cmdline.split(b"\0") if a]
            found[int(entry.name)] = Process(int(entry.name), ppid, argv)
    return found


def stop_cleanly(stack: RunningStack) -> None:
    """Ctrl-C, as an operator stops ``navcycle up``: it exits 0 and leaves no process behind."""
    marker = str(stack.state_dir)
    stack.proc.send_signal(signal.SIGINT)
    try:
        stack.proc.wait(60)
    except subprocess.TimeoutExpired:
        stack.proc.kill()
        pytest.fail("navcycle up did not stop within 60 s of Ctrl-C")
    assert stack.proc.returncode == 0, f"navcycle up exited with {stack.proc.returncode}"
    deadline = time.monotonic() + 10
    while (left := processes_using(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"still running after navcycle up stopped: {list(left.values())}"


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    state = tmp_path_factory.mktemp("e2e-state")
    http_port, nats_port = free_port(), free_port()
    env = dict(
        os.environ,
        NAVCYCLE_STATE_DIR=str(state),
        NAVCYCLE_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        NAVCYCLE_TEMPORAL_UI_PORT=str(free_port()),
        NAVCYCLE_NATS_URL=f"nats://127.0.0.1:{nats_port}",
        NAVCYCLE_NATS_MONITOR_PORT=str(free_port()),
        NAVCYCLE_HTTP_PORT=str(http_port),
        NAVCYCLE_UPLOAD_MAX_BYTES=str(2_000_000),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    stack = RunningStack(
        f"http://127.0.0.1:{http_port}",
        env["NAVCYCLE_NATS_URL"],
        env["NAVCYCLE_TEMPORAL_ADDRESS"],
        state,
        proc,
        env,
    )
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    output = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        output.append(line)
        if "navcycle is up" in line:
            break
        if not line and proc.poll() is not None:
            pytest.fail("navcycle up exited:\n" + "".join(output))
    else:
        proc.kill()
        pytest.fail("navcycle up did not come up:\n" + "".join(output))
    # navcycle up runs nats-server with users of its own: tests connect as its operator.
    stack.nats_url = Settings(state_dir=state, nats_url=stack.nats_url).nats_servers[0]
    yield stack
    stop_cleanly(stack)


@pytest.fixture(scope="session")
async def world(running_stack: RunningStack):  # type: ignore[no-untyped-def]
    """Programs, bases, users and cycles in known states (see tests/e2e/world.py)."""
    from tests.e2e import world as arrangement

    return await arrangement.build(running_stack)
