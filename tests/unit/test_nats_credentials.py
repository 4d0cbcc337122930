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
