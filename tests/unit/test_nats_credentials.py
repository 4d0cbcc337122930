"""Which NATS user a process connects as: its own when configured, else the operator user that
`navcycle up` generated in the state directory, else none."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from shared.nats_auth import USERS, read_embedded_passwords, write_embedded_auth
from shared.settings import Settings, with_credentials


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, **values)  # type: ignore[call-arg]


def test_no_user_and_nothing_generated_means_no_credentials(tmp_path: Path) -> None:
    s = settings(tmp_path, nats_url="nats://a:4222, nats://b:4222")
    assert s.nats_servers == ["nats://a:4222", "nats://b:4222"]


def test_a_configured_user_travels_in_every_url(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        nats_url="nats://a:4222,nats://b:4222",
        nats_user="gateway",
        nats_password=SecretStr("p@ss/word"),
    )
    assert s.nats_servers == [
        "nats://gateway:p%40ss%2Fword@a:4222",
        "nats://gateway:p%40ss%2Fword@b:4222",
    ]


def test_the_cli_falls_back_to_the_generated_operator(tmp_path: Path) -> None:
    passwords = write_embedded_auth(tmp_path / "nats-auth")
    assert set(passwords) == set(USERS)
    assert read_embedded_passwords(tmp_path / "nats-auth") == passwords
    assert (tmp_path / "nats-auth" / "nats-users.json").stat().st_mode & 0o077 == 0
    s = settings(tmp_path, nats_url="nats://127.0.0.1:4222")
    assert s.nats_servers == [f"nats://operator:{passwords['operator']}@127.0.0.1:4222"]


def test_a_url_with_its_own_user_is_kept() -> None:
    url = "nats://navcycle:secret@n1:4222"
    assert with_credentials(url, "gateway", "other") == url


def test_the_generated_server_config_binds_monitoring_to_the_loopback(tmp_path: Path) -> None:
    write_embedded_auth(tmp_path, monitor_port=8222)
    lines = (tmp_path / "nats-auth.conf").read_text().splitlines()
    assert [line for line in lines if line.startswith("http")] == ['http: "127.0.0.1:8222"']
    write_embedded_auth(tmp_path)
    assert "http" not in (tmp_path / "nats-auth.conf").read_text().split("authorization")[0]


def test_every_user_has_an_inbox_of_its_own_and_may_read_no_other() -> None:
    from shared.nats_auth import PERMISSIONS, inbox_prefix

    prefixes = {inbox_prefix(user) for user in USERS}
    assert len(prefixes) == len(USERS) and "_INBOX" not in prefixes
    for user in USERS:
        perms = PERMISSIONS[user]
        inboxes = [s for s in perms.subscribe if s.startswith("_INBOX")]
        assert inboxes == ([] if user == "operator" else [f"{inbox_prefix(user)}.>"]), user
        deletes = [p for p in perms.publish if p.startswith("$JS.API.CONSUMER.DELETE")]
        own = ["$JS.API.CONSUMER.DELETE.NAVCYCLE_EVENTS.dashboard"]
        assert deletes == (own if user == "dashboard" else []), user
