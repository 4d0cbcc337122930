"""No secret reaches a log line: settings, URLs with passwords, webhook URLs with access tokens,
bearer tokens, exceptions, and the standard library's records (uvicorn, temporalio, nats)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import configure_logging, get_logger
from shared.redact import redact
from shared.settings import Settings

TOKEN = "nvc_Zq3xY8pL2mN7vB4cK9dF1gH6jS5tR0wE"
SECRETS = {
    "nats": "nats-pw-4711",
    "database": "db-pw-4712",
    "s3": "s3-secret-4713",
    "webhook": "hook-secret-4714",
    "dingtalk": "ding-access-4715",
}


class Captured:
    """What was written to stderr since the test began (log lines go to ``sys.stderr`` as it is
    when they are written: here pytest's capture)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys, self._err = capsys, ""

    def getvalue(self) -> str:
        self._err += self._capsys.readouterr().err
        return self._err


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Captured]:
    """Logging configured as every process configures it, writing to stderr."""
    saved_config, saved_handlers = structlog.get_config(), logging.getLogger().handlers[:]
    saved_level = logging.getLogger().level
    # uvicorn cuts its access logger off when access_log=False; here it is on, as it would be
    # if anyone turned it on.
    access = logging.getLogger("uvicorn.access")
    saved_access = access.propagate, access.disabled, access.level
    access.propagate, access.disabled, access.level = True, False, logging.NOTSET
    capsys.readouterr()
    try:
        configure_logging("json", "DEBUG", service="redact-test")
        yield Captured(capsys)
    finally:
        access.propagate, access.disabled, access.level = saved_access
        structlog.configure(**saved_config)
        logging.getLogger().handlers[:] = saved_handlers
        logging.getLogger().setLevel(saved_level)
        structlog.contextvars.clear_contextvars()


def _settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        nats_url=f"nats://navcycle:{SECRETS['nats']}@nats-1:4222,nats://navcycle:{SECRETS['nats']}@nats-2:4222",
        database_url=f"postgresql://navcycle:{SECRETS['database']}@postgres:5432/navcycle",
        s3_endpoint="minio:9000",
        s3_access_key="navcycle",
        s3_secret_key=SECRETS["s3"],
        webhook_secret=SECRETS["webhook"],
        webhook_urls=f"https://oapi.dingtalk.com/robot/send?access_token={SECRETS['dingtalk']}",
    )


def test_nothing_secret_is_logged_whatever_the_way_it_is_logged(captured: Captured) -> None:
    settings, log = _settings(), get_logger("redact-test")
    log.info("settings.loaded", settings=settings)
    log.info("nats.existing", url=settings.nats_url)
    log.error("webhook.dead_lettered", url=settings.webhook_urls, error="HTTP 500")
    log.info("request", authorization=f"Bearer {TOKEN}", detail=f"token {TOKEN} was refused")
    try:
        raise ConnectionError(f"cannot reach {settings.database_url}")
    except ConnectionError:
        log.exception("db.failed")
    logging.getLogger("uvicorn.error").warning("connecting to %s", settings.nats_url)
    logging.getLogger("uvicorn.access").info('"GET /v1/x?access_token=%s HTTP/1.1" 401', TOKEN)

    lines = captured.getvalue().splitlines()
    assert len(lines) == 7
    leaked = [(name, line) for line in lines for name, s in SECRETS.items() if s in line]
    leaked += [("token", line) for line in lines if TOKEN in line]
    assert leaked == []
    # Masked, not dropped: an operator still sees which URL or field it was.
    assert "nats://navcycle:***@nats-1:4222" in captured.getvalue()
    assert "access_token=***" in captured.getvalue()
    assert '"s3_secret_key": "***"' in captured.getvalue()


def test_redaction_keeps_what_is_not_secret() -> None:
    assert redact("https://hooks.example/cb?program=demo&page=2") == (
        "https://hooks.example/cb?program=demo&page=2"
    )
    assert redact({"token_sha256": "abc", "base": "zz-biomed"}) == {
        "token_sha256": "***",  # named like a secret: masked all the same
        "base": "zz-biomed",
    }
    assert redact("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert redact({"password": ""}) == {"password": ""}
