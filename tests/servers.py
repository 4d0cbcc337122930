"""Test-only servers: moto's S3 server. (NATS comes from shared.embedded.)"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from shared.embedded import free_port, nats_server, wait_port

__all__ = ["free_port", "moto_s3", "nats_server", "wait_port"]


@contextmanager
def moto_s3() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, 30)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
