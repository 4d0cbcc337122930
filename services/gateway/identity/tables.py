"""The gateway's own tables: users and the hashes of their bearer tokens, and the hashes of the
portal's one-time sign-in links and sessions.

A name, once given, stays taken: a revoked user keeps its row and its name, so a new user can
never inherit what was assigned to that name (an expert's reviews)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import false
from sqlmodel import Field, SQLModel

from shared.migrations import ServiceMigrations


def _now() -> datetime:
    return datetime.now(UTC)


class UserRow(SQLModel, table=True):
    __tablename__ = "gateway_users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    role: str = Field(max_length=32)
    program: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=6)
    base: str | None = Field(default=None, max_length=64)
    token_sha256: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=_now)
    revoked_at: datetime | None = None
    # Null only for tokens issued before lifetimes existed and not yet given one.
    expires_at: datetime | None = None
    # Written at most once a minute per token, so busy clients do not turn reads into writes.
    last_used_at: datetime | None = None
    rotated_at: datetime | None = None
    # A viewer or operator granted the bases' documents (navcycle user add --documents).
    documents: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class SigninLinkRow(SQLModel, table=True):
    """A one-time sign-in link to the portal: only its hash is kept; it works once, until
    ``expires_at`` (``navcycle user add --link`` / ``navcycle user link``)."""

    __tablename__ = "gateway_signin_links"

    id: int | None = Field(default=None, primary_key=True)
    link_sha256: str = Field(index=True, unique=True, max_length=64)
    user_name: str = Field(index=True, max_length=100)
    created_at: datetime = Field(default_factory=_now)
    expires_at: datetime
    used_at: datetime | None = None


class PortalSessionRow(SQLModel, table=True):
    """A portal session: the hash of the random id its cookie carries, whose it is, when it was
    last seen (written at most once a minute) and when and why it ended."""

    __tablename__ = "gateway_portal_sessions"

    id: int | None = Field(default=None, primary_key=True)
    session_sha256: str = Field(index=True, unique=True, max_length=64)
    user_name: str = Field(index=True, max_length=100)
    created_at: datetime = Field(default_factory=_now)
    last_seen_at: datetime = Field(default_factory=_now)
    ended_at: datetime | None = None
    # signed_out, session_expired (idle) or account_revoked
    end_reason: str | None = Field(default=None, max_length=32)


TABLES: list[type[SQLModel]] = [UserRow, SigninLinkRow, PortalSessionRow]

# What the shared migration runner migrates for this service (tables gateway_*).
MIGRATIONS = ServiceMigrations("gateway", Path(__file__).parent / "migrations", TABLES)
