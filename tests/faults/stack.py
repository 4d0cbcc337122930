"""The whole stack, one process per part, so a test can kill or restart any one of them.

``navcycle up`` stops everything when one child dies, which is right for an operator and wrong
for a fault test; here each part is started as ``navcycle serve <name>`` (or its server binary),
on free ports, with the services on a fresh PostgreSQL database and the documents in moto's S3
server behind a proxy that can be cut.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from minio import Minio
from pydantic import SecretStr

from shared.binaries import find_binary
from shared.embedded import temporal_dev_server_argv
from shared.objectstore import S3ObjectStore
from shared.settings import Settings
from shared.supervisor import Supervisor, answers
from tests.faults.proxy import TcpProxy
from tests.helpers import fresh_database
from tests.servers import free_port, moto_s3

SERVICES = ["registry", "filings", "assessment", "notifier", "dashboard", "worker", "gateway"]


def terminate_connections(server_url: str, database: str) -> int:
    """Drop every connection the stack holds to ``database``; returns how many were cut."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)


@dataclass
class FaultStack:
    root: Path
    database: str
    database_url: str
    server_url: str
    s3: TcpProxy
    s3_direct: str
    nats_port: int = field(default_factory=free_port)
    temporal_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    bucket: str = "navcycle-faults"
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.root / "logs")

    @property
    def processes(self) -> list[str]:
        """The names of the running parts, in order of start."""
        return list(self.supervisor.processes)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NAVCYCLE_")}
        env.update(
            NAVCYCLE_STATE_DIR=str(self.state_dir),
            NAVCYCLE_TEMPORAL_ADDRESS=self.temporal_address,
            NAVCYCLE_NATS_URL=self.nats_url,
            NAVCYCLE_HTTP_PORT=str(self.http_port),
            NAVCYCLE_DATABASE_URL=self.database_url,
            NAVCYCLE_S3_ENDPOINT=self.s3.address,
            NAVCYCLE_S3_ACCESS_KEY="test",
            NAVCYCLE_S3_SECRET_KEY="test",
            NAVCYCLE_S3_BUCKET=self.bucket,
            NAVCYCLE_LOG_FORMAT="json",
        )
        return env

    def settings(self) -> Settings:
        """What a process of this stack reads from its environment."""
        return Settings(
            state_dir=self.state_dir,
            temporal_address=self.temporal_address,
            nats_url=self.nats_url,
            http_port=self.http_port,
            database_url=self.database_url,
            s3_endpoint=self.s3.address,
            s3_access_key=SecretStr("test"),
            s3_secret_key=SecretStr("test"),
            s3_bucket=self.bucket,
        )

    def direct_objects(self) -> S3ObjectStore:
        """The document store as it is, not through the proxy the stack goes through."""
        client = Minio(self.s3_direct, access_key="test", secret_key="test", secure=False)
        return S3ObjectStore(client, self.bucket)

    # ------------------------------------------------------------------ processes

    def start(self, name: str, argv: list[str]) -> None:
        self.supervisor.start(name, argv, self.env)

    def pid(self, name: str) -> int:
        return self.supervisor.pid(name)

    def stop(self, name: str, sig: int = signal.SIGINT, timeout: float = 20.0) -> int | None:
        """Stop one process (``SIGKILL`` for a crash); returns its exit code."""
        return self.supervisor.stop(name, sig, timeout)

    def stop_all(self) -> None:
        """The gateway and the services first, the servers they use last."""
        order = [*reversed(SERVICES), "temporal", "nats"]
        for name in sorted(self.processes, key=lambda n: order.index(n) if n in order else -1):
            self.stop(name)

    def exited(self) -> list[str]:
        return self.supervisor.exited()

    def log_tail(self, name: str, lines: int = 40) -> str:
        return self.supervisor.tail(name, lines)

    # ------------------------------------------------------------------ the parts

    def start_nats(self) -> None:
        self.start(
            "nats",
            [
                find_binary("nats-server"),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.nats_port),
                "-sd",
                str(self.state_dir / "nats"),
            ],
        )
        self.supervisor.wait_ready_blocking(
            "nats-server", lambda: answers("127.0.0.1", self.nats_port), 30
        )

    def start_temporal(self) -> None:
        argv = temporal_dev_server_argv(
            "127.0.0.1", self.temporal_port, self.state_dir / "temporal.db"
        )
        self.start("temporal", argv)
        self.supervisor.wait_ready_blocking(
            "Temporal", lambda: answers("127.0.0.1", self.temporal_port), 90
        )

    def start_service(self, name: str) -> None:
        self.start(name, [sys.executable, "-m", "services.cli.main", "serve", name])

    async def health(self) -> dict[str, object]:
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                return dict((await http.get(f"{self.url}/healthz")).json())
        except (httpx.HTTPError, ValueError):
            return {"status": "unreachable", "components": {}}

    async def wait_healthy(self, limit_s: float = 180.0, *components: str) -> None:
        """Until ``/healthz`` says ok (for the named components, or all of them)."""
        body: dict[str, object] = {}

        async def healthy() -> bool:
            nonlocal body
            body = await self.health()
            parts = body.get("components") or {}
            assert isinstance(parts, dict)
            if components:
                return all((parts.get(c) or {}).get("status") == "ok" for c in components)
            return body.get("status") == "ok"

        try:
            await self.supervisor.wait_ready("the stack's /healthz", healthy, limit_s)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}: {body}") from None

    async def up(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.start_nats()
        self.start_temporal()
        for name in SERVICES:
            self.start_service(name)
        await self.wait_healthy()


@contextmanager
def fault_stack(root: Path, server_url: str) -> Iterator[FaultStack]:
    """Everything that must be stopped is stopped, whatever happens in between."""
    with ExitStack() as cleanup:
        database, database_url = cleanup.enter_context(fresh_database(server_url))
        s3_direct = cleanup.enter_context(moto_s3())
        proxy = TcpProxy(int(s3_direct.rpartition(":")[2])).start()
        cleanup.callback(proxy.stop)
        stack = FaultStack(root, database, database_url, server_url, proxy, s3_direct)
        cleanup.callback(stack.stop_all)
        yield stack
