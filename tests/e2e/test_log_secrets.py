"""No token and no configured secret appears in any process log.

Runs after the full cycle and the guard tests (file order: test_api_guards.py,
test_full_cycle.py, then this, ..., test_stack.py whose Ctrl-C test stays last), so the stack's
logs hold a whole year of work and the requests of every role. A second gateway joins
the running stack with every kind of secret configured (a NATS password, S3 keys, a webhook
secret and a webhook URL with an access token) and logging at DEBUG, and is sent requests that
tempt a leak: valid, invalid and query-string tokens, an oversized body.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from shared.nats_auth import read_embedded_passwords
from tests.e2e.conftest import RunningStack, bearer
from tests.servers import free_port, moto_s3

TOKEN_SHAPE = re.compile(r"nvc_[A-Za-z0-9_-]{16,}")  # a bearer token; masked ones are nvc_***
SECRET_SETTINGS = ("NAVCYCLE_WEBHOOK_SECRET", "NAVCYCLE_S3_SECRET_KEY")
URL_SETTINGS = ("NAVCYCLE_NATS_URL", "NAVCYCLE_DATABASE_URL", "NAVCYCLE_WEBHOOK_URLS")


def configured_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """The secrets a process is configured with: secret settings, passwords in URLs, and
    access tokens in webhook URLs."""
    found = {name: env[name] for name in SECRET_SETTINGS if env.get(name)}
    for name in URL_SETTINGS:
        for n, url in enumerate(u for u in env.get(name, "").split(",") if u.strip()):
            parts = urlsplit(url.strip())
            if parts.password:
                found[f"{name}[{n}] password"] = parts.password
            for pair in parts.query.split("&"):
                key, _, value = pair.partition("=")
                if "token" in key.lower() and value:
                    found[f"{name}[{n}] {key}"] = value
    return found


def leaks(lines: Iterable[tuple[str, str]], secrets: Mapping[str, str]) -> list[str]:
    """``where: what`` for every line that holds a secret or anything shaped like a token."""
    found = []
    for where, line in lines:
        found += [f"{where}: {name}" for name, value in secrets.items() if value in line]
        if TOKEN_SHAPE.search(line):
            found.append(f"{where}: a bearer token")
    return found


def log_lines(*folders_or_files: Path) -> Iterator[tuple[str, str]]:
    for path in folders_or_files:
        for file in sorted(path.glob("*.log")) if path.is_dir() else [path]:
            text = file.read_text(encoding="utf-8", errors="replace")
            for n, line in enumerate(text.splitlines(), 1):
                yield f"{file.name}:{n}", line


def test_the_scanner_finds_a_token_or_a_secret_written_to_a_log(tmp_path: Path) -> None:
    token = "nvc_" + "Q" * 43
    log = tmp_path / "gateway.log"
    log.write_text(
        '{"event": "request", "level": "info"}\n'
        f'{{"event": "auth", "authorization": "Bearer {token}"}}\n'
        '{"event": "connect", "url": "nats://navcycle:pw-123@nats-1:4222"}\n'
        '{"event": "auth", "authorization": "***", "detail": "nvc_***"}\n'
    )
    secrets = configured_secrets({"NAVCYCLE_NATS_URL": "nats://navcycle:pw-123@nats-1:4222"})
    assert leaks(log_lines(tmp_path), secrets) == [
        "gateway.log:2: a bearer token",
        "gateway.log:3: NAVCYCLE_NATS_URL[0] password",
    ]


@pytest.fixture
def second_gateway(running_stack: RunningStack, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A second gateway on the running stack, configured with secrets of every kind."""
    nats = urlsplit(running_stack.nats_url)
    gateway_pw = read_embedded_passwords(running_stack.state_dir / "nats-auth")["gateway"]
    with moto_s3() as s3:
        port = free_port()
        (tmp_path / "state").mkdir()
        env = dict(
            running_stack.env,
            NAVCYCLE_STATE_DIR=str(tmp_path / "state"),
            NAVCYCLE_HTTP_PORT=str(port),
            # The gateway's own user on the stack's nats-server, with the password in the URL.
            NAVCYCLE_NATS_URL=f"nats://gateway:{gateway_pw}@{nats.hostname}:{nats.port}",
            NAVCYCLE_S3_ENDPOINT=s3,
            NAVCYCLE_S3_ACCESS_KEY="navcycle-access",
            NAVCYCLE_S3_SECRET_KEY="s3-secret-e2e-32",
            NAVCYCLE_WEBHOOK_SECRET="hook-secret-e2e-33",
            NAVCYCLE_WEBHOOK_URLS="https://oapi.dingtalk.com/robot/send?access_token=ding-e2e-34",
            NAVCYCLE_LOG_FORMAT="json",
            NAVCYCLE_LOG_LEVEL="DEBUG",
        )
        log = tmp_path / "second-gateway.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli.main", "serve", "gateway"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{url}/healthz", timeout=5)
                    break
                except httpx.HTTPError:
                    assert proc.poll() is None, log.read_text()
                    time.sleep(0.3)
            yield {**env, "url": url, "log": str(log)}
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _user(env: Mapping[str, str], name: str, role: str, *scope: str) -> str:
    argv = [sys.executable, "-m", "services.cli.main", "user", "add", "--name", name, "--role"]
    done = subprocess.run(
        [*argv, role, *scope], env=dict(env), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


async def test_no_token_or_secret_is_in_any_process_log(
    running_stack: RunningStack, second_gateway: dict[str, str]
) -> None:
    env = second_gateway
    tokens = {
        "viewer": _user(env, "secrets-viewer", "viewer"),
        "admin": _user(env, "secrets-admin", "province_admin", "--program", "demo-fast"),
        "invalid": "nvc_" + "x" * 43,
    }
    async with httpx.AsyncClient(base_url=env["url"], timeout=30) as http:
        assert (await http.get("/healthz")).status_code in (200, 503)
        for token in tokens.values():
            await http.get("/v1/programs/demo-fast", headers=bearer(token))
            await http.get(f"/v1/programs/demo-fast?access_token={token}")
            await http.get("/v1/programs/demo-fast", headers={"Authorization": token})
        big = {"id": "demo-fast", "padding": "x" * 2_000_000}
        too_large = await http.put(
            "/v1/programs/demo-fast", json=big, headers=bearer(tokens["admin"])
        )
        assert too_large.status_code == 413
        bad = await http.put("/v1/programs/demo-fast", json=[1], headers=bearer(tokens["admin"]))
        assert bad.status_code == 422

    secrets = {
        **configured_secrets(running_stack.env),
        **configured_secrets(env),
        **{f"token of {name}": t for name, t in tokens.items()},
    }
    # Tokens issued by earlier tests are not known here by value: the scanner flags anything
    # shaped like a token.
    assert len(secrets) >= 7
    lines = list(log_lines(running_stack.state_dir / "logs", Path(env["log"])))
    assert len(lines) > 100  # the stack's logs of a whole year, and the second gateway's
    assert leaks(lines, secrets) == []
