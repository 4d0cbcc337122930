"""A NATS URL setting that lists a cluster, one of whose servers is down: the service and the
client built from it both reach the live one, and the service answers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from services.cli.stack import running_nats
from services.registry.app import build_broker
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from shared.clients import connect_nats
from shared.contracts.registry import ProgramList
from shared.db import make_engine
from shared.embedded import free_port, nats_server
from shared.migrations import upgrade
from shared.rpc import Empty, RpcClient, ServiceHealth
from shared.settings import Settings
from tests.helpers import event_stream_on


def _settings(tmp_path: Path, nats_url: str) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, nats_url=nats_url)  # type: ignore[call-arg]


async def test_a_list_with_a_dead_server_reaches_the_live_one(tmp_path: Path) -> None:
    # A server of its own: on the session's server the shared stack's registry answers
    # programs.list too (a queue group), with every program the other tests made.
    with nats_server(tmp_path / "nats") as nats_url:
        await _reach_the_live_one(nats_url, tmp_path)


async def _reach_the_live_one(nats_url: str, tmp_path: Path) -> None:
    live = urlsplit(nats_url).port
    dead = free_port()  # nothing listens there
    settings = _settings(tmp_path, f"nats://127.0.0.1:{dead} , nats://127.0.0.1:{live}")
    assert settings.nats_servers == [f"nats://127.0.0.1:{dead}", f"nats://127.0.0.1:{live}"]
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(engine, REGISTRY_MIGRATIONS)
    await event_stream_on(nats_url)  # the registry's outcome consumer reads the log
    broker = build_broker(settings.nats_servers, engine)
    await broker.start()
    nc = await connect_nats(settings, "test")
    try:
        assert nc.connected_url is not None and nc.connected_url.port == live
        rpc = RpcClient(nc)
        health = await rpc.call("registry", "health", Empty(), ServiceHealth)
        assert (health.status, health.error) == ("ok", None)
        programs = await rpc.call("registry", "programs.list", Empty(), ProgramList)
        assert programs.programs == []
    finally:
        await nc.drain()
        await broker.stop()
        await broker.stop()
        engine.dispose()


def test_navcycle_up_uses_a_listed_server_that_answers(nats_url: str, tmp_path: Path) -> None:
    live, dead = urlsplit(nats_url).port, free_port()
    listed = _settings(tmp_path, f"nats://127.0.0.1:{dead},nats://127.0.0.1:{live}")
    assert running_nats(listed) == ("127.0.0.1", live)
    assert running_nats(_settings(tmp_path, f"nats://127.0.0.1:{dead}")) is None
