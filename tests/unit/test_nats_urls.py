"""The NATS URL setting lists a cluster, comma-separated: blanks are stripped, an empty entry is
refused with a stable message that names its position and never the URL's password."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.cli.stack import nats_host_ports
from shared.service import url_inbox_prefix
from shared.settings import Settings, split_nats_urls


def settings(tmp_path: Path, nats_url: str) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, nats_url=nats_url)  # type: ignore[call-arg]


def test_blanks_around_each_url_are_stripped() -> None:
    assert split_nats_urls(" nats://a:4222 ,\tnats://b:4223,nats://c:4224\n") == [
        "nats://a:4222",
        "nats://b:4223",
        "nats://c:4224",
    ]
    assert split_nats_urls("nats://a:4222") == ["nats://a:4222"]


@pytest.mark.parametrize(
    ("value", "entry", "of"),
    [("", 1, 1), (" ", 1, 1), ("nats://a:4222,,nats://b:4222", 2, 3), ("nats://a:4222, ", 2, 2)],
)
def test_an_empty_entry_is_refused_by_its_position(value: str, entry: int, of: int) -> None:
    with pytest.raises(ValueError) as refused:
        split_nats_urls(value)
    assert str(refused.value) == (
        f"nats_url_empty_entry: entry {entry} of {of} in the NATS URL list is empty;"
        f" separate URLs with single commas / NATS 地址列表第 {entry} 项（共 {of} 项）"
        "为空，请用单个逗号分隔各地址"
    )


def test_settings_refuse_an_empty_entry_without_echoing_the_password(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(tmp_path, "nats://navcycle:s3cret-pw@a:4222,,nats://b:4222")
    text = str(refused.value)
    assert "nats_url_empty_entry: entry 2 of 3" in text
    assert "s3cret-pw" not in text


def test_navcycle_up_knows_every_listed_server(tmp_path: Path) -> None:
    s = settings(tmp_path, "nats://n1:4222, n2:5222,nats://navcycle:pw@n3")
    assert nats_host_ports(s) == [("n1", 4222), ("n2", 5222), ("n3", 4222)]


def test_a_service_answers_in_the_inbox_of_the_first_url_user() -> None:
    own = url_inbox_prefix("nats://dashboard:pw@a:4222, nats://b:4222")
    assert own == url_inbox_prefix(["nats://dashboard:pw@a:4222", "nats://b:4222"])
    assert own != "_INBOX"
    assert url_inbox_prefix("nats://a:4222,nats://dashboard:pw@b:4222") == "_INBOX"
