"""The process supervisor with real child processes: ready on a port, stopped in reverse order
by SIGINT, killed, restarted, and an early exit reported with its log."""

from __future__ import annotations

import functools
import signal
import sys
from pathlib import Path

import pytest

from shared.embedded import free_port
from shared.supervisor import ProcessExited, Supervisor, answers, port_probe

# Listens on argv[1]; on SIGINT writes "<name> stopped" to argv[2] and exits 0.
LISTENER = """
import signal, socket, sys, time
port, record, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def stopped(*_):
    with open(record, "a") as f:
        f.write(name + " stopped\\n")
    sys.exit(0)
signal.signal(signal.SIGINT, stopped)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen()
print(name, "listening", flush=True)
while True:
    time.sleep(0.1)
"""


def listener(port: int, record: Path, name: str) -> list[str]:
    return [sys.executable, "-c", LISTENER, str(port), str(record), name]


async def test_ready_then_stopped_in_reverse_order_by_sigint(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs")
    record = tmp_path / "record.txt"
    ports = {"first": free_port(), "second": free_port()}
    try:
        for name, port in ports.items():
            sup.start(name, listener(port, record, name))
            await sup.wait_ready(name, port_probe("127.0.0.1", port), 20)
        assert all(answers("127.0.0.1", p) for p in ports.values())
        assert sup.exited() == []
    finally:
        sup.stop_all()
    assert record.read_text().splitlines() == ["second stopped", "first stopped"]
    assert sup.processes == {}
    assert "first listening" in (tmp_path / "logs" / "first.log").read_text()


async def test_kill_and_restart_by_name(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs")
    record = tmp_path / "record.txt"
    ports = {"a": free_port(), "b": free_port()}
    try:
        for name, port in ports.items():
            sup.start(name, listener(port, record, name))
            sup.wait_ready_blocking(name, functools.partial(answers, "127.0.0.1", port), 20)
        assert sup.kill("a") == -signal.SIGKILL
        assert list(sup.processes) == ["b"]
        old = sup.pid("b")
        sup.restart("b")
        assert sup.pid("b") != old
        await sup.wait_ready("b", port_probe("127.0.0.1", ports["b"]), 20)
    finally:
        sup.stop_all()
    # SIGKILL leaves no record; b was stopped twice by SIGINT (restart, then stop_all).
    assert record.read_text().splitlines() == ["b stopped", "b stopped"]


async def test_restart_keeps_the_stopping_order(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs")
    for name in ("x", "y", "z"):
        sup.start(name, [sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        sup.restart("x")
        assert list(sup.processes) == ["x", "y", "z"]
    finally:
        sup.stop_all(timeout=5)


async def test_an_early_exit_is_reported_with_its_log(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs")
    sup.start(
        "broken", [sys.executable, "-c", "print('无法启动 / cannot start'); raise SystemExit(3)"]
    )
    try:
        with pytest.raises(ProcessExited, match=r"(?s)broken exited with 3.*cannot start"):
            await sup.wait_ready("never", port_probe("127.0.0.1", free_port()), 20)
        with pytest.raises(ProcessExited, match="broken exited with 3"):
            sup.wait_ready_blocking("never", lambda: False, 20)
    finally:
        assert sup.stop("broken") == 3


async def test_a_probe_that_never_answers_times_out_naming_what(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs")
    with pytest.raises(TimeoutError, match="the thing"):
        await sup.wait_ready("the thing", port_probe("127.0.0.1", free_port()), 1)
    with pytest.raises(TimeoutError, match="the thing"):
        sup.wait_ready_blocking("the thing", lambda: False, 1)
