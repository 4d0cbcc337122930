"""One process supervisor: what ``navcycle up``, the fault tests and the benchmarks start.

A ``Supervisor`` starts named processes (each with its log file under ``log_dir``), waits until
one is ready (a port that listens, an HTTP health URL that answers 200), says which ones exited
early with the tail of their log, kills or restarts one by name, and stops them all in reverse
order of start: SIGINT, then SIGTERM, then SIGKILL, each after a timeout.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from shared.logging import get_logger
from shared.retrying import polled

log = get_logger("supervisor")
Probe = Callable[[], Awaitable[bool]]


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts a TCP connection at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_probe(host: str, port: int) -> Probe:
    async def probe() -> bool:
        return answers(host, port)

    return probe


def http_probe(url: str) -> Probe:
    """Ready when ``url`` answers 200."""

    async def probe() -> bool:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] | None
    proc: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid


class ProcessExited(RuntimeError):
    pass


class Supervisor:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: dict[str, Process] = {}  # in order of start

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        """Starts ``name`` (in its own session, output appended to its log); a name started
        again (a restart) keeps its place in the stopping order."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path(name), "ab")  # closed in stop()
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = Process(name, argv, env, proc, out)
        log.info("process.started", name=name, pid=proc.pid, log=str(self.log_path(name)))
        return self.processes[name]

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def exited(self, tail: int = 0) -> list[str]:
        """One line per process that is no longer running (and ``tail`` lines of its log)."""
        found = []
        for p in self.processes.values():
            if p.proc.poll() is not None:
                line = f"{p.name} exited with {p.proc.returncode}; see {self.log_path(p.name)}"
                found.append(f"{line}\n{self.tail(p.name, tail)}" if tail else line)
        return found

    async def wait_ready(self, what: str, probe: Probe, seconds: float) -> None:
        """Until ``probe()`` says yes; ``ProcessExited`` as soon as any process has exited."""

        async def ready() -> bool:
            if failed := self.exited(tail=15):
                raise ProcessExited("\n".join(failed))
            return await probe()

        await polled(ready, what=what, every=0.3, seconds=seconds)

    def wait_ready_blocking(self, what: str, check: Callable[[], bool], seconds: float) -> None:
        """``wait_ready`` for a caller without an event loop (or inside one, as a short wait)."""

        def ready() -> bool:
            if failed := self.exited(tail=15):
                raise ProcessExited("\n".join(failed))
            return check()

        def gave_up(state: object) -> None:
            raise TimeoutError(f"{what} was not ready after {seconds:.0f}s")

        Retrying(
            stop=stop_after_delay(seconds),
            wait=wait_fixed(0.05),
            retry=retry_if_result(lambda ok: not ok),
            retry_error_callback=gave_up,
        )(ready)

    def stop(self, name: str, sig: int = signal.SIGINT, timeout: float = 10.0) -> int | None:
        """Stops one process: ``sig`` (SIGKILL for a crash), then SIGTERM, then SIGKILL, each
        after ``timeout`` seconds; returns its exit code."""
        process = self.processes.pop(name)
        proc = process.proc
        for signal_ in dict.fromkeys([sig, signal.SIGTERM, signal.SIGKILL]):
            if proc.poll() is not None:
                break
            proc.send_signal(signal_)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("process.unstopped", name=name, pid=proc.pid, signal=int(signal_))
        process.log.close()
        log.info("process.stopped", name=name, code=proc.returncode)
        return proc.returncode

    def kill(self, name: str) -> int | None:
        """A crash: SIGKILL, nothing to clean up after itself."""
        return self.stop(name, signal.SIGKILL)

    def restart(self, name: str, sig: int = signal.SIGINT) -> Process:
        """The same command and environment again, after stopping it with ``sig``."""
        old = self.processes[name]
        position = list(self.processes).index(name)
        self.stop(name, sig)
        self.start(name, old.argv, old.env)
        names = list(self.processes)
        names.insert(position, names.pop())
        self.processes = {n: self.processes[n] for n in names}
        return self.processes[name]

    def stop_all(self, timeout: float = 10.0) -> None:
        """In reverse order of start: what depends on a server goes before it."""
        for name in reversed(list(self.processes)):
            self.stop(name, timeout=timeout)
