"""Throw-away servers on free ports: what tests and simulations start for themselves."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from shared.binaries import find_binary
from shared.contracts import search_attributes as sa


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    try:
        Retrying(
            stop=stop_after_delay(timeout),
            wait=wait_fixed(0.05),
            retry=retry_if_exception_type(OSError),
            reraise=True,
        )(_connect, port)
    except OSError:
        raise TimeoutError(f"nothing listens on port {port}") from None


def _connect(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
        pass


@contextmanager
def nats_server(store_dir: Path, config: Path | None = None) -> Iterator[str]:
    """A nats-server with JetStream on a free port; ``config`` adds a configuration file (the
    users of ``shared.nats_auth``, for one)."""
    port = free_port()
    argv = [
        find_binary("nats-server"),
        "-js",
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-sd",
        str(store_dir),
    ]
    if config is not None:
        argv += ["-c", str(config)]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def temporal_dev_server_argv(
    host: str,
    port: int,
    db_file: Path,
    *,
    ui_port: int | None = None,
    namespace: str | None = None,
) -> list[str]:
    """``temporal server start-dev`` on ``host:port`` with its state in ``db_file`` and
    navcycle's search attributes; headless unless a ``ui_port`` is given."""
    argv = [find_binary("temporal"), "server", "start-dev", "--ip", host, "--port", str(port)]
    argv += ["--ui-port", str(ui_port)] if ui_port is not None else ["--headless"]
    argv += ["--db-filename", str(db_file), "--log-level", "warn"]
    if namespace is not None:
        argv += ["--namespace", namespace]
    for key in sa.ALL:
        argv += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.capitalize()}"]
    return argv
