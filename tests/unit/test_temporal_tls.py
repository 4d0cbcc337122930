"""The Temporal client's TLS, from settings: none for the embedded dev server, mutual TLS when a
CA, a client certificate and its key are given."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import REPO_ROOT, Settings
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


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_compose_certificates_make_a_mutual_tls_handshake(tmp_path: Path) -> None:
    """deploy/tls/make-certs.sh: the client trusts the server named "temporal", and the server
    accepts only a client certificate signed by the same CA."""
    subprocess.run(
        ["sh", str(REPO_ROOT / "deploy" / "tls" / "make-certs.sh"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=tmp_path / "ca.pem")
    server.load_cert_chain(tmp_path / "server.pem", tmp_path / "server-key.pem")
    server.verify_mode = ssl.CERT_REQUIRED
    client = ssl.create_default_context(cafile=tmp_path / "ca.pem")
    client.load_cert_chain(tmp_path / "client.pem", tmp_path / "client-key.pem")
    anonymous = ssl.create_default_context(cafile=tmp_path / "ca.pem")

    assert handshake(server, client, "temporal") is None
    assert "certificate" in str(handshake(server, anonymous, "temporal")).lower()
    assert "hostname" in str(handshake(server, client, "elsewhere")).lower()


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, name: str) -> Exception | None:
    """The client's failure, if any; the server side runs in a thread.

    The server keeps its end open until the client is done: closed at once after refusing a
    certificate, the client's write could meet the closed socket (an EOF error) before it read the
    server's alert."""
    a, b = socket.socketpair()
    errors: list[Exception] = []
    client_done = threading.Event()

    def serve() -> None:
        # (a failed handshake inside wrap_socket would close the socket at once)
        tls = server.wrap_socket(a, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
            tls.recv(1)
            tls.sendall(b"y")
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)
        finally:
            client_done.wait(5)
            tls.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client.wrap_socket(b, server_hostname=name) as tls:
            tls.sendall(b"x")
            tls.recv(1)  # a refused client certificate shows up on the first read (TLS 1.3)
    except (ssl.SSLError, OSError) as exc:
        return exc
    finally:
        client_done.set()
        b.close()
        thread.join(5)
    return errors[0] if errors else None
