"""Users and bearer tokens. A token is shown once, when created; only its hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine
from sqlmodel import select

from services.gateway.identity.tables import UserRow
from shared.db import session_scope

Role = Literal["province_admin", "city_officer", "base_user", "expert", "operator", "viewer"]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
TOKEN_PREFIX = "nvc_"


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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(engine: Engine, principal: Principal) -> str:
    """Create the user and return its new bearer token."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        if session.exec(select(UserRow).where(UserRow.name == principal.name)).first():
            raise UserExists(
                f"user {principal.name!r} exists; revoke it first or pick another name"
            )
        session.add(UserRow(**principal.model_dump(), token_sha256=token_hash(token)))
    return token


def revoke_user(engine: Engine, name: str) -> bool:
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.name == name)).first()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = datetime.now(UTC)
        row.name = f"{row.name}#revoked-{row.id}"
        session.add(row)
    return True


def authenticate(engine: Engine, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with session_scope(engine) as session:
        row = session.exec(select(UserRow).where(UserRow.token_sha256 == token_hash(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(
            name=row.name,
            role=row.role,
            program=row.program,
            region=row.region,
            base=row.base,  # type: ignore[arg-type]
        )
