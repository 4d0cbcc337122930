"""Users and bearer tokens. A token is shown once, when created or rotated; only its hash is
stored. A token lives until its expiry; a name, once given, is never given again."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine, or_, update
from sqlmodel import col, select

from services.gateway.identity.tables import UserRow
from shared.db import session_scope
from shared.settings import Settings

Role = Literal["province_admin", "city_officer", "base_user", "expert", "operator", "viewer"]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
TOKEN_PREFIX = "nvc_"
DEFAULT_LIFETIME = timedelta(days=Settings.model_fields["token_lifetime_days"].default)
# A token's last use is written at most this often, so reads do not become a write each.
LAST_USED_EVERY = timedelta(minutes=1)
# Rows revoked before names were kept were renamed "<name>#revoked-<id>": still taken.
_LEGACY_REVOKED = "#revoked-"


class Principal(BaseModel):
    name: str
    role: Role
    program: str | None = None
    region: str | None = Field(None, pattern=r"^\d{6}$")
    base: str | None = None
    documents: bool = Field(False, description="A viewer or operator granted base documents")

    @model_validator(mode="after")
    def _scope(self) -> Principal:
        needs = {
            "province_admin": ["program"],
            "city_officer": ["region"],
            "base_user": ["program", "base"],
            "expert": ["program"],
        }.get(self.role, [])
        missing = [f for f in needs if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.role} needs --{' and --'.join(missing)}")
        return self


class UserExists(ValueError):
    pass


class NoActiveUser(LookupError):
    pass


class TokenRefused(Exception):
    """A token that does not authenticate; ``code`` is the API's stable error code."""

    def __init__(self, code: Literal["invalid_token", "token_expired"], message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class UserListing:
    name: str
    role: str
    program: str | None
    region: str | None
    base: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Rotated:
    token: str
    expires_at: datetime
    previous_sha256: str
    previous_expires_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _utc(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC)


def add_user(
    engine: Engine,
    principal: Principal,
    *,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
) -> str:
    """Create the user and return its new bearer token, valid for ``lifetime`` from ``now``."""
    token, issued = _new_token(), _utc(now)
    with session_scope(engine) as session:
        taken = session.exec(
            select(UserRow).where(
                or_(
                    col(UserRow.name) == principal.name,
                    col(UserRow.name).startswith(principal.name + _LEGACY_REVOKED, autoescape=True),
                )
            )
        ).first()
        if taken is not None and taken.revoked_at is None:
            raise UserExists(f"user {principal.name!r} exists; pick another name")
        if taken is not None:
            raise UserExists(
                f"user {principal.name!r} was revoked; names are never reused (a new user must"
                " not inherit its assignments): pick another name"
            )
        session.add(
            UserRow(
                **principal.model_dump(),
                token_sha256=token_hash(token),
                created_at=issued,
                expires_at=issued + lifetime,
            )
        )
    return token


def discard_unrecorded_user(engine: Engine, name: str) -> None:
    """Remove a user whose creation could not be recorded: it never existed, its name is free."""
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.name == name)).first()
        if row is not None and row.last_used_at is None:
            session.delete(row)


def revoke_user(engine: Engine, name: str, *, now: datetime | None = None) -> bool:
    """Revoke an active user; its name stays taken. False if there is no active user ``name``."""
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.name == name)).first()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = _utc(now)
        session.add(row)
    return True


def rotate_token(
    engine: Engine,
    name: str,
    *,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
) -> Rotated:
    """Give an active user a new token (the old one stops working at once) with a new expiry."""
    token, issued = _new_token(), _utc(now)
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.name == name)).first()
        if row is None or row.revoked_at is not None:
            raise NoActiveUser(f"no active user {name!r}")
        rotated = Rotated(token, issued + lifetime, row.token_sha256, row.expires_at)
        row.token_sha256 = token_hash(token)
        row.expires_at = rotated.expires_at
        row.rotated_at = issued
        session.add(row)
    return rotated


def undo_rotation(engine: Engine, name: str, rotated: Rotated) -> None:
    """Put the previous token back, if the rotation is still the latest one."""
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.name == name)).first()
        if row is not None and row.token_sha256 == token_hash(rotated.token):
            row.token_sha256 = rotated.previous_sha256
            row.expires_at = rotated.previous_expires_at
            session.add(row)


def identify(engine: Engine, token: str, *, now: datetime | None = None) -> Principal:
    """The user a token belongs to, or :class:`TokenRefused` saying why not."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise TokenRefused("invalid_token", "the token is unknown or has been revoked")
    at = _utc(now)
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.token_sha256 == token_hash(token))).first()
        if row is None or row.revoked_at is not None:
            raise TokenRefused("invalid_token", "the token is unknown or has been revoked")
        if row.expires_at is not None and _utc(row.expires_at) <= at:
            raise TokenRefused(
                "token_expired",
                f"the token expired at {_utc(row.expires_at).isoformat()}; ask an operator for"
                " a new one (navcycle user rotate)",
            )
        if row.last_used_at is None or _utc(row.last_used_at) <= at - LAST_USED_EVERY:
            # Conditional, so gateways racing on one token write it once a minute at most.
            session.exec(
                update(UserRow)
                .where(
                    col(UserRow.id) == row.id,
                    or_(
                        col(UserRow.last_used_at).is_(None),
                        col(UserRow.last_used_at) <= at - LAST_USED_EVERY,
                    ),
                )
                .values(last_used_at=at)
            )
        return Principal(
            name=row.name,
            role=row.role,  # type: ignore[arg-type]
            program=row.program,
            region=row.region,
            base=row.base,
            documents=row.documents,
        )


def authenticate(engine: Engine, token: str, *, now: datetime | None = None) -> Principal | None:
    """The user a token belongs to; None when it is unknown, revoked or expired."""
    try:
        return identify(engine, token, now=now)
    except TokenRefused:
        return None


def list_users(engine: Engine) -> list[UserListing]:
    with session_scope(engine) as session:
        rows = session.exec(select(UserRow).order_by(col(UserRow.name))).all()
        return [
            UserListing(
                name=row.name.split(_LEGACY_REVOKED)[0] if row.revoked_at else row.name,
                role=row.role,
                program=row.program,
                region=row.region,
                base=row.base,
                created_at=_utc(row.created_at),
                expires_at=row.expires_at and _utc(row.expires_at),
                last_used_at=row.last_used_at and _utc(row.last_used_at),
                revoked_at=row.revoked_at and _utc(row.revoked_at),
            )
            for row in rows
        ]
