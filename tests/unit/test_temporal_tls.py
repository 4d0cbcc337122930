"""The Temporal client's TLS, from settings: none for the embedded dev server, mutual TLS when a
CA, a client certificate and its key are given."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import Settings
from shared.temporal import temporal_tls


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_no_tls_settings_means_plain_grpc() -> None:
    assert temporal_tls(settings()) is None


def test_a_ca_with_a_client_certificate_and_key_is_mutual_tls(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client-key.pem"):
        (tmp_path / name).write_bytes(f"-----{name}-----".encode())
    tls = temporal_tls(
        settings(
            temporal_tls_ca=tmp_path / "ca.pem",
            temporal_tls_cert=tmp_path / "client.pem",
            temporal_tls_key=tmp_path / "client-key.pem",
            temporal_tls_server_name="temporal",
        )
    )
    assert tls is not None
    assert tls.server_root_ca_cert == b"-----ca.pem-----"
    assert tls.client_cert == b"-----client.pem-----"
    assert tls.client_private_key == b"-----client-key.pem-----"
    assert tls.domain == "temporal"


def test_a_client_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="temporal_tls_key"):
        settings(temporal_tls_cert=tmp_path / "client.pem")
