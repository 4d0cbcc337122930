"""Bearer tokens with a lifetime: expiry (401 ``token_expired``), rotation, last use, names never
reused, and ``navcycle user list``. On a SQLite file with the gateway's migrations; the HTTP
checks go through the real gateway app with the token lookup and nothing behind it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.identity.lifetime import BadLifetime, parse_lifetime
from services.gateway.identity.tables import MIGRATIONS as GATEWAY_MIGRATIONS
from services.gateway.identity.tables import UserRow
from services.gateway.identity.tokens import (
    DEFAULT_LIFETIME,
    NoActiveUser,
    Principal,
    TokenRefused,
    UserExists,
    add_user,
    authenticate,
    identify,
    list_users,
    revoke_user,
    rotate_token,
    undo_rotation,
)
from services.gateway.identity.user_table import user_table
from shared.db import make_engine, session_scope
from shared.migrations import upgrade
from shared.rpc import RpcError
from shared.settings import Settings

T0 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
VIEWER = Principal(name="li-viewer", role="viewer")
EXPERT = Principal(name="expert-wang", role="expert", program="demo")


@pytest.fixture
def users(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(engine, GATEWAY_MIGRATIONS)
    return engine


def _row(engine: Engine, name: str) -> UserRow:
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.name == name)).one()
        session.expunge(row)
        return row


def _refusal(engine: Engine, token: str, now: datetime) -> str:
    with pytest.raises(TokenRefused) as refused:
        identify(engine, token, now=now)
    return refused.value.code


def test_a_token_works_until_its_expiry_and_then_is_refused_as_expired(users: Engine) -> None:
    token = add_user(users, VIEWER, lifetime=timedelta(days=30), now=T0)
    assert _row(users, VIEWER.name).expires_at == T0 + timedelta(days=30)
    assert identify(users, token, now=T0 + timedelta(days=30) - timedelta(seconds=1)) == VIEWER
    assert _refusal(users, token, T0 + timedelta(days=30)) == "token_expired"
    assert authenticate(users, token, now=T0 + timedelta(days=31)) is None


def test_the_default_lifetime_is_the_settings_default(users: Engine) -> None:
    add_user(users, VIEWER, now=T0)
    assert DEFAULT_LIFETIME == timedelta(days=Settings(_env_file=None).token_lifetime_days)  # type: ignore[call-arg]
    assert _row(users, VIEWER.name).expires_at == T0 + DEFAULT_LIFETIME


def test_rotation_stops_the_old_token_at_once_and_gives_a_new_lifetime(users: Engine) -> None:
    old = add_user(users, VIEWER, lifetime=timedelta(days=1), now=T0)
    later = T0 + timedelta(days=5)  # the old token has expired: rotation renews it
    rotated = rotate_token(users, VIEWER.name, lifetime=timedelta(days=90), now=later)
    assert rotated.token != old and rotated.expires_at == later + timedelta(days=90)
    assert _refusal(users, old, later) == "invalid_token"
    assert identify(users, rotated.token, now=later) == VIEWER
    assert _row(users, VIEWER.name).rotated_at == later


def test_an_undone_rotation_puts_the_previous_token_back(users: Engine) -> None:
    old = add_user(users, VIEWER, now=T0)
    rotated = rotate_token(users, VIEWER.name, now=T0)
    undo_rotation(users, VIEWER.name, rotated)
    assert identify(users, old, now=T0) == VIEWER
    assert authenticate(users, rotated.token, now=T0) is None


def test_a_revoked_or_unknown_user_cannot_be_rotated(users: Engine) -> None:
    add_user(users, VIEWER, now=T0)
    revoke_user(users, VIEWER.name, now=T0)
    for name in (VIEWER.name, "nobody"):
        with pytest.raises(NoActiveUser):
            rotate_token(users, name, now=T0)


def test_last_use_is_recorded_at_most_once_a_minute(users: Engine) -> None:
    token = add_user(users, VIEWER, now=T0)
    assert _row(users, VIEWER.name).last_used_at is None
    identify(users, token, now=T0 + timedelta(seconds=10))
    assert _row(users, VIEWER.name).last_used_at == T0 + timedelta(seconds=10)
    identify(users, token, now=T0 + timedelta(seconds=69))  # within the minute: no write
    assert _row(users, VIEWER.name).last_used_at == T0 + timedelta(seconds=10)
    identify(users, token, now=T0 + timedelta(seconds=70))
    assert _row(users, VIEWER.name).last_used_at == T0 + timedelta(seconds=70)
    _refusal(users, token, T0 + timedelta(days=365))  # a refused token is not a use
    assert _row(users, VIEWER.name).last_used_at == T0 + timedelta(seconds=70)


def test_a_revoked_name_is_never_given_again(users: Engine) -> None:
    token = add_user(users, EXPERT, now=T0)
    assert revoke_user(users, EXPERT.name, now=T0)
    assert _refusal(users, token, T0) == "invalid_token"
    with pytest.raises(UserExists, match="never reused"):
        add_user(users, Principal(name=EXPERT.name, role="expert", program="demo"))
    add_user(users, VIEWER)
    with pytest.raises(UserExists, match="exists"):
        add_user(users, VIEWER)
    assert not revoke_user(users, EXPERT.name)  # revoked once; nothing more to do


def test_a_name_revoked_before_names_were_kept_stays_taken(users: Engine) -> None:
    add_user(users, EXPERT, now=T0)
    with session_scope(users) as session:  # how revocation used to free the name
        row = session.exec(select(UserRow).where(UserRow.name == EXPERT.name)).one()
        row.name, row.revoked_at = f"{EXPERT.name}#revoked-{row.id}", T0
        session.add(row)
    with pytest.raises(UserExists, match="never reused"):
        add_user(users, EXPERT)
    assert [u.name for u in list_users(users)] == [EXPERT.name]
    add_user(users, Principal(name="expert", role="expert", program="demo"))  # only a prefix


def test_the_list_shows_role_scope_expiry_last_use_and_revocation(users: Engine) -> None:
    viewer = add_user(users, VIEWER, lifetime=timedelta(days=1), now=T0)
    identify(users, viewer, now=T0 + timedelta(hours=1))
    add_user(users, EXPERT, lifetime=timedelta(days=90), now=T0)
    revoke_user(users, EXPERT.name, now=T0 + timedelta(days=2))
    now = T0 + timedelta(days=3)

    lines = user_table(list_users(users), now=now).splitlines()
    assert lines[0].split() == [
        "用户", "name", "角色", "role", "范围", "scope", "到期", "expires",
        "最近使用", "last", "used", "已撤销", "revoked",
    ]  # fmt: skip
    expert, viewer_line = lines[1], lines[2]
    assert expert.split()[:4] == ["expert-wang", "expert", "program=demo", "2027年5月30日10时"]
    assert expert.split()[4:] == ["从未", "never", "2027年3月3日10时"]
    assert viewer_line.split() == [
        "li-viewer", "viewer", "-", "2027年3月2日10时", "已过期", "expired",
        "2027年3月1日11时", "否", "no",
    ]  # fmt: skip
    assert "北京时间" in lines[-1]

    listed = {
        u["name"]: u for u in json.loads(user_table(list_users(users), now=now, as_json=True))
    }
    assert listed["li-viewer"]["expired"] is True
    assert listed["expert-wang"]["revoked_at"] == (T0 + timedelta(days=2)).isoformat()
    assert listed["expert-wang"]["program"] == "demo"


@pytest.mark.parametrize(
    ("text", "lifetime"),
    [("P90D", timedelta(days=90)), ("PT12H", timedelta(hours=12)), ("30", timedelta(days=30))],
)
def test_a_lifetime_is_an_iso_duration_or_days(text: str, lifetime: timedelta) -> None:
    assert parse_lifetime(text) == lifetime


@pytest.mark.parametrize("text", ["P0D", "-3", "90 days", "P99999D", ""])
def test_a_lifetime_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(BadLifetime):
        parse_lifetime(text)


class _Behind:
    """What the gateway reaches once the token is accepted: answers who asked."""

    async def call(self, service: str, action: str, body: Any, reply: Any) -> Any:
        raise RpcError("reached", f"{action} for {body.recipient}", status=409)


@pytest.fixture
async def http(users: Engine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(settings, None, None, _Behind(), None, users)  # type: ignore[arg-type]

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def _inbox(http: httpx.AsyncClient, token: str) -> tuple[int, str, str]:
    resp = await http.get("/v1/inbox", headers={"Authorization": f"Bearer {token}"})
    body = resp.json()
    return resp.status_code, body["code"], body.get("detail") or body.get("message") or ""


async def test_an_expired_token_is_401_token_expired(
    users: Engine, http: httpx.AsyncClient
) -> None:
    expired = add_user(
        users, VIEWER, lifetime=timedelta(days=1), now=datetime.now(UTC) - timedelta(days=2)
    )
    status, code, _ = await _inbox(http, expired)
    assert (status, code) == (401, "token_expired")


async def test_over_http_a_rotated_token_is_401_and_its_successor_works(
    users: Engine, http: httpx.AsyncClient
) -> None:
    old = add_user(users, VIEWER)
    assert (await _inbox(http, old))[:2] == (409, "reached")
    new = rotate_token(users, VIEWER.name).token
    assert (await _inbox(http, old))[:2] == (401, "invalid_token")
    status, code, message = await _inbox(http, new)
    assert (status, code) == (409, "reached") and VIEWER.name in message
    assert _row(users, VIEWER.name).last_used_at is not None


def test_tokens_issued_before_lifetimes_get_the_default_from_the_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, GATEWAY_MIGRATIONS, "gateway_0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO gateway_users (name, role, token_sha256, created_at)"
            " VALUES ('old-viewer', 'viewer', 'x', '2026-01-01 00:00:00')"
        )
    before = datetime.now(UTC)
    upgrade(engine, GATEWAY_MIGRATIONS)
    expires_at = _row(engine, "old-viewer").expires_at
    assert expires_at is not None
    assert before + timedelta(days=90) <= expires_at <= datetime.now(UTC) + timedelta(days=90)
