"""``navcycle up`` runs its nats-server with the users of ``shared.nats_auth``: every process is
connected as itself, and nobody gets in without a password."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import nats
import nats.errors
import pytest

from tests.e2e.conftest import RunningStack

SERVED = {"registry", "filings", "assessment", "notifier", "dashboard", "worker", "gateway"}


def test_every_process_is_connected_as_its_own_nats_user(running_stack: RunningStack) -> None:
    monitor = running_stack.env["NAVCYCLE_NATS_MONITOR_PORT"]
    connz = httpx.get(f"http://127.0.0.1:{monitor}/connz?auth=true&limit=1000", timeout=10)
    users = {c.get("authorized_user") for c in connz.json()["connections"]}
    assert SERVED <= users, users
    assert None not in users and "" not in users, users


async def test_a_connection_without_credentials_is_refused(running_stack: RunningStack) -> None:
    address = urlsplit(running_stack.nats_url)

    async def quiet(_: Exception) -> None:
        pass

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            f"nats://{address.hostname}:{address.port}",
            allow_reconnect=False,
            connect_timeout=3,
            error_cb=quiet,
        )
