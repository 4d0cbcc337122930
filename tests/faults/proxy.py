"""A TCP proxy that can be cut: the stack reaches a server through it, and a test takes the server
away (new connections refused, open ones reset) and gives it back, without touching the server.

The proxy runs as a process of its own (``python -m tests.faults.proxy PORT TARGET_PORT``), so a
test process busy playing a year never slows the bytes down. SIGUSR1 cuts it, SIGUSR2 restores it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import free_port, wait_port

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]


class _Proxy:
    def __init__(self, port: int, target_port: int) -> None:
        self.port, self.target_port = port, target_port
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, HOST, self.port, reuse_address=True
            )

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        if server is not None:
            await server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            client_w.transport.abort()
            return
        self._open.update((client_w, server_w))
        try:
            await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))
        finally:
            for writer in (client_w, server_w):
                self._open.discard(writer)
                writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.write_eof()


async def _run(port: int, target_port: int) -> None:
    proxy = _Proxy(port, target_port)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(proxy.close()))
    loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(proxy.listen()))
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await proxy.listen()
    await stop.wait()
    await proxy.close()


def _refused(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return False
    except OSError:
        return True


class TcpProxy:
    """The proxy process, as the test sees it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self) -> TcpProxy:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.proxy", str(self.port), str(self.target_port)],
            cwd=REPO,
        )
        wait_port(self.port, 30)
        return self

    def refuse(self) -> None:
        """Until :meth:`allow`, the server behind the proxy is unreachable."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not _refused(self.port):
            if time.monotonic() > deadline:
                raise TimeoutError("the proxy still accepts connections")
            time.sleep(0.05)

    def allow(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGUSR2)
        wait_port(self.port, 10)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)


if __name__ == "__main__":
    asyncio.run(_run(int(sys.argv[1]), int(sys.argv[2])))
