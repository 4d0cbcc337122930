"""Portal sign-in links and sessions on the gateway's migrated SQLite database, with the clock
given: a link works once and until it expires, a session's last use is written at most once a
minute, an idle or revoked session ends, and the CSRF token is derived, never stored."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from services.gateway.identity.portal_sessions import (
    LinkRefused,
    SessionRefused,
    csrf_matches,
    csrf_token,
    digest,
    end_session,
    issue_link,
    session_user,
    use_link,
)
from services.gateway.identity.tables import MIGRATIONS, PortalSessionRow
from services.gateway.identity.tokens import NoActiveUser, Principal, add_user, revoke_user
from shared.db import make_engine, session_scope
from shared.migrations import upgrade

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)
STAFF = Principal(name="wang", role="base_user", program="p", base="b1")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(engine, MIGRATIONS)
    add_user(engine, STAFF, now=T0)
    return engine


def last_seen(engine: Engine, session_id: str) -> datetime:
    with session_scope(engine) as session:
        row = session.exec(
            select(PortalSessionRow).where(PortalSessionRow.session_sha256 == digest(session_id))
        ).one()
        return row.last_seen_at.astimezone(UTC)


def test_a_link_works_once_until_it_expires(engine: Engine) -> None:
    issued = issue_link(engine, "wang", lifetime=timedelta(hours=1), now=T0)
    assert issued.expires_at == T0 + timedelta(hours=1) and issued.program == "p"
    assert issued.url("http://gw:8000/") == f"http://gw:8000/portal/signin/{issued.token}"
    started = use_link(engine, issued.token, now=T0 + timedelta(minutes=59))
    assert started.user == STAFF
    with pytest.raises(LinkRefused) as used:
        use_link(engine, issued.token, now=T0 + timedelta(minutes=59))
    assert (used.value.code, used.value.status) == ("signin_link_used", 410)

    late = issue_link(engine, "wang", lifetime=timedelta(hours=1), now=T0)
    with pytest.raises(LinkRefused) as expired:
        use_link(engine, late.token, now=T0 + timedelta(hours=1))
    assert (expired.value.code, expired.value.status) == ("signin_link_expired", 410)
    with pytest.raises(LinkRefused) as unknown:
        use_link(engine, "nvl_nothing", now=T0)
    assert (unknown.value.code, unknown.value.status) == ("signin_link_invalid", 404)
    with pytest.raises(NoActiveUser):
        issue_link(engine, "nobody", lifetime=timedelta(hours=1))


def test_of_racing_uses_of_one_link_exactly_one_starts_a_session(engine: Engine) -> None:
    issued = issue_link(engine, "wang", lifetime=timedelta(hours=1))

    def attempt(_: int) -> str:
        try:
            return use_link(engine, issued.token).session_id
        except LinkRefused as refused:
            return refused.code

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert sorted(o == "signin_link_used" for o in outcomes) == [False] + [True] * 7
    with session_scope(engine) as session:
        assert len(session.exec(select(PortalSessionRow)).all()) == 1


def test_last_seen_is_written_at_most_once_a_minute_and_idle_ends_the_session(
    engine: Engine,
) -> None:
    issued = issue_link(engine, "wang", lifetime=timedelta(hours=1), now=T0)
    session_id = use_link(engine, issued.token, now=T0).session_id
    assert session_user(engine, session_id, idle=IDLE, now=T0 + timedelta(seconds=59)) == STAFF
    assert last_seen(engine, session_id) == T0  # under a minute: not written
    at = T0 + timedelta(minutes=29)
    session_user(engine, session_id, idle=IDLE, now=at)
    assert last_seen(engine, session_id) == at  # kept alive by use
    session_user(engine, session_id, idle=IDLE, now=at + IDLE - timedelta(seconds=1))
    with pytest.raises(SessionRefused) as idle:
        session_user(engine, session_id, idle=IDLE, now=at + 2 * IDLE)
    assert idle.value.reason == "session_expired"
    with pytest.raises(SessionRefused) as ended:  # and stays ended
        session_user(engine, session_id, idle=IDLE, now=at + 2 * IDLE)
    assert ended.value.reason == "session_ended"


def test_a_revoked_users_session_ends_and_sign_out_ends_it_once(engine: Engine) -> None:
    first = use_link(engine, issue_link(engine, "wang", lifetime=timedelta(hours=1)).token)
    second = use_link(engine, issue_link(engine, "wang", lifetime=timedelta(hours=1)).token)
    assert end_session(engine, first.session_id) is True
    assert end_session(engine, first.session_id) is False
    with pytest.raises(SessionRefused):
        session_user(engine, first.session_id, idle=IDLE)
    assert revoke_user(engine, "wang")
    with pytest.raises(SessionRefused) as revoked:
        session_user(engine, second.session_id, idle=IDLE)
    assert revoked.value.reason == "account_revoked"
    with pytest.raises(SessionRefused) as unknown:
        session_user(engine, "not-a-session", idle=IDLE)
    assert unknown.value.reason == ""


def test_the_csrf_token_is_derived_from_the_session_and_differs_between_sessions() -> None:
    assert csrf_token("a") == csrf_token("a") != csrf_token("b")
    assert len(csrf_token("a")) == 64 and "a" not in {csrf_token("a")}
    assert csrf_matches("a", csrf_token("a"))
    assert not csrf_matches("a", csrf_token("b")) and not csrf_matches("a", None)
    assert not csrf_matches("a", "")
