"""Signing in to the portal: one-time links, the session cookie, CSRF, the idle timeout and
sign-out. The gateway in process on the test stack (registry on a real nats-server), its users,
links and sessions in a SQLite file of the test's own; cookies are sent by hand, as a browser
would, so that every request says which session it carries."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine, text, update
from sqlmodel import col, select

from services.gateway.identity.portal_sessions import LinkRefused, issue_link, use_link
from services.gateway.identity.tables import PortalSessionRow, SigninLinkRow
from services.gateway.identity.tokens import Principal, revoke_user
from services.gateway.portal.session import PortalUser
from shared.db import make_engine, session_scope
from shared.settings import Settings
from tests.conftest import Stack
from tests.helpers import demo_rules
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway, problem
from tests.integration.test_audit import _audit_events, _cli_env, _run, _secret_free

PROGRAM = "portal-signin"
BASE = "zz-biomed"
USERS = {
    "admin": Principal(name="ps-admin", role="province_admin", program=PROGRAM),
    "staff": Principal(name="ps-staff", role="base_user", program=PROGRAM, base=BASE),
    "gone": Principal(name="ps-gone", role="base_user", program=PROGRAM, base=BASE),
}
COOKIE = "nvc_session"
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
PROBLEM_CODE = re.compile(r'data-problem-code="([^"]+)"')


@pytest.fixture
async def api(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[Api]:
    driver.register(stack, demo_rules(id=PROGRAM), [BASE])
    async with gateway(stack, nc, tmp_path, USERS) as api:
        # A page behind PortalUser that exists whatever pages the portal has: says who it sees.
        probe = APIRouter()

        @probe.get("/portal/probe-signed-in")
        async def signed_in(user: PortalUser) -> dict[str, str]:
            return {"name": user.name}

        api.app.include_router(probe)
        yield api


def link(api: Api, who: str, *, minutes: int = 60, now: datetime | None = None) -> str:
    issued = issue_link(api.users, USERS[who].name, lifetime=timedelta(minutes=minutes), now=now)
    return issued.token


def cookie(session_id: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={session_id}"}


async def sign_in(api: Api, token: str, **form: str) -> httpx.Response:
    resp = await api.http.post("/portal/signin", data={"token": token, **form})
    api.http.cookies.clear()  # each request below names its session itself
    return resp


def session_of(resp: httpx.Response) -> str:
    assert resp.status_code == 303, resp.text
    found = re.search(rf"{COOKIE}=([^;]+)", resp.headers["set-cookie"])
    assert found, resp.headers["set-cookie"]
    return found[1]


async def signed_in(api: Api, who: str) -> tuple[str, str]:
    """A new session of ``who``: its id (the cookie) and the CSRF token its pages carry."""
    session_id = session_of(await sign_in(api, link(api, who)))
    page = await api.http.get("/portal/signin", headers=cookie(session_id))
    found = META_CSRF.search(page.text)
    assert found and found[1], page.text
    return session_id, found[1]


def refused_page(resp: httpx.Response, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    found = PROBLEM_CODE.search(resp.text)
    assert found and found[1] == code, resp.text
    assert f"{COOKIE}=" not in resp.headers.get("set-cookie", "")  # no session started
    return resp.text


def link_row(api: Api, token: str) -> SigninLinkRow:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with session_scope(api.users) as session:
        row = session.exec(select(SigninLinkRow).where(SigninLinkRow.link_sha256 == digest)).one()
        session.expunge(row)
        return row


def session_row(api: Api, session_id: str) -> PortalSessionRow:
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    with session_scope(api.users) as session:
        row = session.exec(
            select(PortalSessionRow).where(PortalSessionRow.session_sha256 == digest)
        ).one()
        session.expunge(row)
        return row


def registration(base: str) -> dict[str, Any]:
    return {
        "id": base,
        "name": f"基地 {base}",
        "region": "410100",
        "domain": "新材料",
        "staff": {"total": 10, "senior_full_time": 3},
    }


async def listed(api: Api, url: str) -> list[str]:
    resp = await api.http.get(url, headers=api.auth("admin"))
    assert resp.status_code == 200, resp.text
    return [b["id"] for b in resp.json()["bases"]]


async def test_opening_a_link_does_not_use_it_and_signing_in_sets_a_strict_cookie(
    api: Api,
) -> None:
    token = link(api, "staff")
    for _ in range(2):  # a mail scanner, then the person: a GET leaves the link working
        page = await api.http.get(f"/portal/signin/{token}", params={"next": "/portal/base"})
        assert page.status_code == 200, page.text
        assert f'name="token" value="{token}"' in page.text
        assert 'name="next" value="/portal/base"' in page.text
        assert page.headers["referrer-policy"] == "same-origin"  # never to another site
        assert "set-cookie" not in page.headers
    assert link_row(api, token).used_at is None

    resp = await sign_in(api, token, next="/portal/base")
    assert resp.status_code == 303 and resp.headers["location"] == "/portal/base"
    attributes = [a.strip().lower() for a in resp.headers["set-cookie"].split(";")]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    assert "secure" not in attributes  # plain http here; see the https test
    session_id = session_of(resp)
    assert link_row(api, token).used_at is not None

    seen = await api.http.get("/portal/probe-signed-in", headers=cookie(session_id))
    assert seen.status_code == 200 and seen.json() == {"name": "ps-staff"}
    home = await api.http.get("/portal/signin", headers=cookie(session_id))
    assert "ps-staff" in home.text  # the layout names who is signed in


async def test_a_link_used_twice_is_refused_and_two_racing_uses_have_one_winner(
    api: Api,
) -> None:
    token = link(api, "staff")
    session_of(await sign_in(api, token))
    text_ = refused_page(await sign_in(api, token), 410, "signin_link_used")
    assert "只能使用一次" in text_  # in words, with what to do: ask for a new link
    english = await api.http.post("/portal/signin?lang=en", data={"token": token})
    assert "works once" in refused_page(english, 410, "signin_link_used")
    gone = await api.http.get(f"/portal/signin/{token}")
    refused_page(gone, 410, "signin_link_used")

    racing = link(api, "staff")
    answers = await asyncio.gather(*(sign_in(api, racing) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [303, 410, 410, 410]
    with session_scope(api.users) as session:
        sessions = len(
            session.exec(
                select(PortalSessionRow).where(PortalSessionRow.user_name == "ps-staff")
            ).all()
        )
    assert sessions == 2  # the first link's and the race winner's


async def test_expired_unknown_and_revoked_links_are_refused_in_words(api: Api) -> None:
    old = link(api, "staff", minutes=60, now=datetime.now(UTC) - timedelta(minutes=61))
    refused_page(await api.http.get(f"/portal/signin/{old}"), 410, "signin_link_expired")
    assert "过期" in refused_page(await sign_in(api, old), 410, "signin_link_expired")
    assert link_row(api, old).used_at is None

    unknown = "nvl_" + "x" * 43
    refused_page(await sign_in(api, unknown), 404, "signin_link_invalid")
    refused_page(await api.http.get(f"/portal/signin/{unknown}"), 404, "signin_link_invalid")
    refused_page(await sign_in(api, ""), 404, "signin_link_invalid")
    refused_page(await sign_in(api, "nvl_" + "x" * 5000), 404, "signin_link_invalid")

    token = link(api, "gone")
    assert revoke_user(api.users, "ps-gone")
    refused_page(await sign_in(api, token), 403, "signin_user_revoked")


async def test_over_https_the_cookie_is_secure_and_next_stays_in_the_portal(api: Api) -> None:
    resp = await sign_in(api, link(api, "staff"), next="/portal/inbox")
    assert resp.headers["location"] == "/portal/inbox"
    secure = await api.http.post(
        "/portal/signin",
        data={"token": link(api, "staff")},
        headers={"X-Forwarded-Proto": "https"},
    )
    api.http.cookies.clear()
    assert "secure" in [a.strip().lower() for a in secure.headers["set-cookie"].split(";")]
    for elsewhere in ("https://evil.example/portal", "//evil.example/portal", "/v1/programs",
                      "/portal/../v1", "/portalx", "/portal/signout", "\\\\evil"):  # fmt: skip
        resp = await sign_in(api, link(api, "staff"), next=elsewhere)
        assert resp.headers["location"] == "/portal", elsewhere


async def test_a_sign_in_posted_from_another_site_is_refused(api: Api) -> None:
    token = link(api, "staff")
    resp = await api.http.post(
        "/portal/signin", data={"token": token}, headers={"Origin": "https://evil.example"}
    )
    refused_page(resp, 403, "csrf_failed")
    assert link_row(api, token).used_at is None
    proxied = await api.http.post(
        "/portal/signin",
        data={"token": token},
        headers={"Origin": "https://portal.example", "X-Forwarded-Host": "portal.example"},
    )
    assert proxied.status_code == 303  # behind a proxy that says which host it forwarded
    same = await api.http.post(
        "/portal/signin", data={"token": link(api, "staff")}, headers={"Origin": "http://gateway"}
    )
    assert same.status_code == 303


async def test_the_database_holds_only_hashes_of_links_and_sessions(api: Api) -> None:
    token = link(api, "staff")
    session_id = session_of(await sign_in(api, token))
    assert link_row(api, token).link_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert session_row(api, session_id).user_name == "ps-staff"
    with api.users.connect() as conn:
        stored = [
            str(value)
            for table in ("gateway_signin_links", "gateway_portal_sessions")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
            for value in row
        ]
    assert stored and not any(token in v or session_id in v for v in stored)
    csrf = META_CSRF.search((await api.http.get("/portal/signin", headers=cookie(session_id))).text)
    assert csrf and not any(csrf[1] in v for v in stored)  # derived, not stored


async def test_an_idle_session_is_ended_and_the_person_sent_to_sign_in(api: Api) -> None:
    session_id, _ = await signed_in(api, "staff")
    ok = await api.http.get("/portal/probe-signed-in", headers=cookie(session_id))
    assert ok.status_code == 200
    idle = api.app.state.deps.settings.portal_idle_minutes
    with session_scope(api.users) as session:
        session.exec(  # type: ignore[call-overload]
            update(PortalSessionRow)
            .where(col(PortalSessionRow.session_sha256)
                   == hashlib.sha256(session_id.encode()).hexdigest())
            .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=idle + 1))
        )  # fmt: skip
    resp = await api.http.get("/portal/probe-signed-in?x=1", headers=cookie(session_id))
    assert resp.status_code == 303
    assert resp.headers["location"] == (
        "/portal/signin?next=/portal/probe-signed-in%3Fx%3D1&reason=session_expired"
    )
    assert f'{COOKIE}=""' in resp.headers["set-cookie"]  # the browser forgets it
    ended = session_row(api, session_id)
    assert ended.ended_at is not None and ended.end_reason == "session_expired"
    page = await api.http.get(resp.headers["location"])
    assert "长时间未操作" in page.text and 'data-reason="session_expired"' in page.text
    # Ended is ended: the API refuses the cookie too.
    problem(
        await api.http.get(f"/v1/programs/{PROGRAM}/bases", headers=cookie(session_id)),
        401,
        "unauthenticated",
    )


async def test_the_api_answers_an_idle_session_401_session_expired(api: Api) -> None:
    session_id, _ = await signed_in(api, "admin")
    with session_scope(api.users) as session:
        session.exec(  # type: ignore[call-overload]
            update(PortalSessionRow)
            .where(col(PortalSessionRow.session_sha256)
                   == hashlib.sha256(session_id.encode()).hexdigest())
            .values(last_seen_at=datetime.now(UTC) - timedelta(days=1))
        )  # fmt: skip
    problem(
        await api.http.get(f"/v1/programs/{PROGRAM}/bases", headers=cookie(session_id)),
        401,
        "session_expired",
    )


async def test_sign_out_without_its_token_is_refused_and_with_it_ends_the_session(
    api: Api,
) -> None:
    session_id, csrf = await signed_in(api, "staff")
    refused = await api.http.post("/portal/signout", headers=cookie(session_id))
    refused_page(refused, 403, "csrf_failed")
    wrong = await api.http.post(
        "/portal/signout", data={"csrf_token": "0" * 64}, headers=cookie(session_id)
    )
    refused_page(wrong, 403, "csrf_failed")
    assert session_row(api, session_id).ended_at is None  # nothing changed
    still = await api.http.get("/portal/probe-signed-in", headers=cookie(session_id))
    assert still.status_code == 200

    out = await api.http.post(
        "/portal/signout", data={"csrf_token": csrf}, headers=cookie(session_id)
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/portal/signin?reason=signed_out"
    assert f'{COOKIE}=""' in out.headers["set-cookie"]
    ended = session_row(api, session_id)
    assert ended.ended_at is not None and ended.end_reason == "signed_out"
    after = await api.http.get("/portal/probe-signed-in", headers=cookie(session_id))
    assert after.status_code == 303 and "reason=session_ended" in after.headers["location"]
    page = await api.http.get(out.headers["location"])
    assert "您已退出登录" in page.text


async def test_the_api_via_the_cookie_needs_the_csrf_token_and_via_a_bearer_token_not(
    api: Api,
) -> None:
    session_id, csrf = await signed_in(api, "admin")
    url = f"/v1/programs/{PROGRAM}/bases"
    base = f"ps-{session_id[:6].lower().replace('_', 'x').replace('-', 'x')}"

    problem(
        await api.http.post(url, json=registration(base), headers=cookie(session_id)),
        403,
        "csrf_failed",
    )
    problem(
        await api.http.post(
            url, json=registration(base), headers={**cookie(session_id), "X-CSRF-Token": "x"}
        ),
        403,
        "csrf_failed",
    )
    assert base not in await listed(api, url)  # nothing changed: the base was not registered
    # A read through the cookie needs no token; a write with it is the API's as usual.
    assert (await api.http.get(url, headers=cookie(session_id))).status_code == 200
    made = await api.http.post(
        url, json=registration(base), headers={**cookie(session_id), "X-CSRF-Token": csrf}
    )
    assert made.status_code == 201, made.text
    assert base in await listed(api, url)
    # A machine's bearer token needs no CSRF token, with or without a cookie beside it.
    by_token = await api.http.post(url, json=registration(base + "-t"), headers=api.auth("admin"))
    assert by_token.status_code == 201, by_token.text
    # An upload through the cookie is refused before its body is read, without the token.
    upload = await api.http.post(
        f"/v1/programs/{PROGRAM}/years/2031/bases/{BASE}/plan",
        files={"document": ("plan.pdf", b"%PDF-1.4", "application/pdf")},
        headers=cookie(session_id),
    )
    problem(upload, 403, "csrf_failed")


async def test_a_revoked_users_session_ends(api: Api) -> None:
    session_id, _ = await signed_in(api, "gone")
    assert revoke_user(api.users, "ps-gone")
    resp = await api.http.get("/portal/probe-signed-in", headers=cookie(session_id))
    assert resp.status_code == 303 and "reason=account_revoked" in resp.headers["location"]
    assert session_row(api, session_id).end_reason == "account_revoked"


async def test_the_cli_prints_a_one_time_link_and_audits_it_without_the_link(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, nats_url, NAVCYCLE_SIGNIN_LINK_MINUTES="90", NAVCYCLE_HTTP_PORT="8765")
    added = await _run(
        env, "user", "add", "--name", "ps-cli-wang", "--role", "base_user",
        "--program", "portal-cli", "--base", "b1", "--link",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    *_, url, token = added.stdout.strip().splitlines()
    assert token.startswith("nvc_")  # the API token stays the last line
    found = re.fullmatch(r"http://127\.0\.0\.1:8765/portal/signin/(nvl_\S+)", url)
    assert found, added.stdout
    first = found[1]
    users = make_engine(Settings(_env_file=None, state_dir=tmp_path).database_url_for("gateway"))  # type: ignore[call-arg]
    lifetime = link_expiry(users, first) - datetime.now(UTC)
    assert timedelta(minutes=89) < lifetime <= timedelta(minutes=90)

    again = await _run(env, "user", "link", "--name", "ps-cli-wang")
    assert again.returncode == 0, again.stderr
    second = again.stdout.strip().rsplit("/", 1)[-1]
    assert second.startswith("nvl_") and second != first
    for issued in (first, second):  # each works once
        assert use_link(users, issued).user.name == "ps-cli-wang"
        with pytest.raises(LinkRefused) as refused:
            use_link(users, issued)
        assert refused.value.code == "signin_link_used"

    add, link_1, link_2 = await _audit_events(nc, "portal-cli", "user/ps-cli-wang")
    assert [e.data["action"] for e in (add, link_1, link_2)] == [
        "user.add", "user.link", "user.link",
    ]  # fmt: skip
    assert set(link_1.data["arguments"]) == {"expires_at"}
    assert all(_secret_free(e, token, first, second) for e in (add, link_1, link_2))

    assert (await _run(env, "user", "revoke", "--name", "ps-cli-wang")).returncode == 0
    for name in ("ps-cli-wang", "nobody"):
        refused_cli = await _run(env, "user", "link", "--name", name)
        assert refused_cli.returncode == 2 and f"no active user {name!r}" in refused_cli.stderr
        assert "nvl_" not in refused_cli.stdout
    assert len(await _audit_events(nc, "portal-cli", "user/ps-cli-wang")) == 3


def link_expiry(users: Engine, token: str) -> datetime:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with session_scope(users) as session:
        row = session.exec(select(SigninLinkRow).where(SigninLinkRow.link_sha256 == digest)).one()
        return row.expires_at.astimezone(UTC)
