"""Portal sign-in links and sessions. Like tokens, only their sha256 is stored.

A link is issued to an active user (``navcycle user add --link``, ``navcycle user link``), shown
once, works once and expires. Using it starts a session: a random id carried in the
``nvc_session`` cookie, ended by sign-out, by being idle too long, or by the user's revocation.
The session's CSRF token is derived from its id (HMAC-SHA256 with a fixed label), so nothing
more is stored and a page or a script that holds it proves it was served to this session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from services.gateway.identity.tables import PortalSessionRow, SigninLinkRow, UserRow
from services.gateway.identity.tokens import NoActiveUser, Principal
from shared.db import session_scope

LINK_PREFIX = "nvl_"
CSRF_LABEL = b"navcycle portal csrf v1"
# A session's last_seen is written at most this often, so page views do not each become a write.
LAST_SEEN_EVERY = timedelta(minutes=1)

LinkCode = Literal[
    "signin_link_invalid", "signin_link_used", "signin_link_expired", "signin_user_revoked"
]
# The HTTP status each refusal of a link is answered with.
LINK_STATUS: dict[str, int] = {
    "signin_link_invalid": 404,
    "signin_link_used": 410,
    "signin_link_expired": 410,
    "signin_user_revoked": 403,
}
EndReason = Literal["signed_out", "session_expired", "account_revoked"]


class LinkRefused(Exception):
    """A sign-in link that does not sign in; ``code`` is stable, ``status`` its HTTP status."""

    def __init__(self, code: LinkCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = LINK_STATUS[code]
        self.message = message


class SessionRefused(Exception):
    """No session for this cookie (any more): ``reason`` says why, for the sign-in page."""

    def __init__(self, reason: Literal["", "session_ended", EndReason]) -> None:
        super().__init__(reason or "no such session")
        self.reason = reason


@dataclass(frozen=True)
class Started:
    """A new session: its id (for the cookie, never stored) and whose it is."""

    session_id: str
    user: Principal


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The CSRF token of a session, derived from its id: nothing else is stored."""
    return hmac.new(session_id.encode(), CSRF_LABEL, hashlib.sha256).hexdigest()


def csrf_matches(session_id: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(session_id), str(sent))


def _utc(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)


def _principal(row: UserRow) -> Principal:
    return Principal(
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        program=row.program,
        region=row.region,
        base=row.base,
        documents=row.documents,
    )


@dataclass(frozen=True)
class IssuedLink:
    """A new sign-in link: its token (shown once, never stored), its expiry, the user's
    program (where its issue is audited)."""

    token: str
    expires_at: datetime
    program: str | None

    def url(self, gateway_url: str) -> str:
        return f"{gateway_url.rstrip('/')}/portal/signin/{self.token}"


def issue_link(
    engine: Engine, name: str, *, lifetime: timedelta, now: datetime | None = None
) -> IssuedLink:
    """A new one-time sign-in link for the active user ``name``, working for ``lifetime``."""
    token, issued = LINK_PREFIX + secrets.token_urlsafe(32), _utc(now)
    with session_scope(engine) as session:
        user = session.exec(select(UserRow).where(UserRow.name == name)).first()
        if user is None or user.revoked_at is not None:
            raise NoActiveUser(f"no active user {name!r}")
        session.add(
            SigninLinkRow(
                link_sha256=digest(token),
                user_name=name,
                created_at=issued,
                expires_at=issued + lifetime,
            )
        )
        return IssuedLink(token, issued + lifetime, user.program)


def discard_link(engine: Engine, token: str) -> None:
    """Remove a link whose issue could not be recorded: it never existed."""
    with session_scope(engine) as session:
        row = session.exec(
            select(SigninLinkRow).where(SigninLinkRow.link_sha256 == digest(token))
        ).first()
        if row is not None:
            session.delete(row)


def _well_formed(token: str) -> bool:
    return token.startswith(LINK_PREFIX) and len(token) <= 200


def check_link(engine: Engine, token: str, *, now: datetime | None = None) -> None:
    """Raise :class:`LinkRefused` if ``token`` would not sign in now; uses nothing (a GET of
    the link, which a mail scanner may make, must leave it working)."""
    at = _utc(now)
    with session_scope(engine) as session:
        link, user = _link_and_user(session, token)
        _refusal(link, user, at)


def _link_and_user(session: Session, token: str) -> tuple[SigninLinkRow | None, UserRow | None]:
    if not _well_formed(token):
        return None, None
    link = session.exec(
        select(SigninLinkRow).where(SigninLinkRow.link_sha256 == digest(token))
    ).first()
    if link is None:
        return None, None
    user = session.exec(select(UserRow).where(UserRow.name == link.user_name)).first()
    return link, user


def _refusal(link: SigninLinkRow | None, user: UserRow | None, at: datetime) -> None:
    if link is None or user is None:
        raise LinkRefused("signin_link_invalid", "this sign-in link is not known")
    if link.used_at is not None:
        raise LinkRefused("signin_link_used", "this sign-in link has been used already")
    if _utc(link.expires_at) <= at:
        raise LinkRefused(
            "signin_link_expired", f"this sign-in link expired at {_utc(link.expires_at)}"
        )
    if user.revoked_at is not None:
        raise LinkRefused("signin_user_revoked", f"the user {user.name!r} has been revoked")


def use_link(engine: Engine, token: str, *, now: datetime | None = None) -> Started:
    """Use a sign-in link, once: a conditional UPDATE, so of two racing uses one wins and the
    other is refused as used. Starts the session it signs in to."""
    at = _utc(now)
    session_id = secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        link, user = _link_and_user(session, token)
        _refusal(link, user, at)
        assert link is not None and user is not None
        won = session.exec(
            update(SigninLinkRow)
            .where(
                col(SigninLinkRow.id) == link.id,
                col(SigninLinkRow.used_at).is_(None),
                col(SigninLinkRow.expires_at) > at,
            )
            .values(used_at=at)
        )
        if won.rowcount != 1:
            raise LinkRefused("signin_link_used", "this sign-in link has been used already")
        session.add(
            PortalSessionRow(
                session_sha256=digest(session_id),
                user_name=user.name,
                created_at=at,
                last_seen_at=at,
            )
        )
        return Started(session_id, _principal(user))


def session_user(
    engine: Engine, session_id: str, *, idle: timedelta, now: datetime | None = None
) -> Principal:
    """Whose session this is, or :class:`SessionRefused`. A session idle longer than ``idle``
    or of a revoked user is ended here; last_seen is written at most once a minute."""
    at = _utc(now)
    if not session_id or len(session_id) > 200:
        raise SessionRefused("")
    with session_scope(engine) as session:
        row = session.exec(
            select(PortalSessionRow).where(PortalSessionRow.session_sha256 == digest(session_id))
        ).first()
        if row is None:
            raise SessionRefused("")
        if row.ended_at is not None:
            raise SessionRefused("session_ended")
        user = session.exec(select(UserRow).where(UserRow.name == row.user_name)).first()
        ending: EndReason | None = None
        if user is None or user.revoked_at is not None:
            ending = "account_revoked"
        elif _utc(row.last_seen_at) <= at - idle:
            ending = "session_expired"
        if ending is not None:
            _end(session, row.id, at, ending)
        elif _utc(row.last_seen_at) <= at - LAST_SEEN_EVERY:
            session.exec(
                update(PortalSessionRow)
                .where(
                    col(PortalSessionRow.id) == row.id,
                    col(PortalSessionRow.ended_at).is_(None),
                    col(PortalSessionRow.last_seen_at) <= at - LAST_SEEN_EVERY,
                )
                .values(last_seen_at=at)
            )
        principal = None if user is None or ending else _principal(user)
    if principal is None:  # the session's end is committed first
        raise SessionRefused(ending or "account_revoked")
    return principal


def _end(session: Session, row_id: int | None, at: datetime, reason: EndReason) -> None:
    session.exec(
        update(PortalSessionRow)
        .where(col(PortalSessionRow.id) == row_id, col(PortalSessionRow.ended_at).is_(None))
        .values(ended_at=at, end_reason=reason)
    )


def end_session(
    engine: Engine,
    session_id: str,
    *,
    reason: EndReason = "signed_out",
    now: datetime | None = None,
) -> bool:
    """End a session (sign-out); False if there was no open session with this id."""
    with session_scope(engine) as session:
        row = session.exec(
            select(PortalSessionRow).where(PortalSessionRow.session_sha256 == digest(session_id))
        ).first()
        if row is None or row.ended_at is not None:
            return False
        _end(session, row.id, _utc(now), reason)
        return True
