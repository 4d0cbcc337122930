"""``navcycle user list``: every user, revoked ones included, as a table people read (times in
Beijing time, Chinese first) or as JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from services.gateway.identity.tokens import UserListing
from shared.domain.wording import moment_zh
from shared.text_table import text_table

HEADERS = (
    "用户 name",
    "角色 role",
    "范围 scope",
    "到期 expires",
    "最近使用 last used",
    "已撤销 revoked",
)


def _scope(user: UserListing) -> str:
    parts = [f"{k}={v}" for k, v in (("program", user.program), ("region", user.region),
                                      ("base", user.base)) if v]  # fmt: skip
    return " ".join(parts) or "-"


def _moment(at: datetime | None, never: str) -> str:
    return moment_zh(at.replace(second=0, microsecond=0)) if at else never


def _expiry(user: UserListing, now: datetime) -> str:
    if user.expires_at is None:
        return "不过期 never"
    text = _moment(user.expires_at, "")
    return f"{text} 已过期 expired" if user.expires_at <= now else text


def _row(user: UserListing, now: datetime) -> tuple[str, ...]:
    return (
        user.name,
        user.role,
        _scope(user),
        _expiry(user, now),
        _moment(user.last_used_at, "从未 never"),
        _moment(user.revoked_at, "否 no"),
    )


def user_table(users: Sequence[UserListing], *, now: datetime, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(
            [
                {
                    "name": u.name,
                    "role": u.role,
                    "program": u.program,
                    "region": u.region,
                    "base": u.base,
                    "created_at": u.created_at.isoformat(),
                    "expires_at": u.expires_at and u.expires_at.isoformat(),
                    "expired": u.expires_at is not None and u.expires_at <= now,
                    "last_used_at": u.last_used_at and u.last_used_at.isoformat(),
                    "revoked_at": u.revoked_at and u.revoked_at.isoformat(),
                }
                for u in users
            ],
            ensure_ascii=False,
            indent=2,
        )
    lines = text_table(HEADERS, [_row(u, now) for u in users], rule=False).splitlines()
    note = "时间为北京时间 / times are Beijing time" if users else "尚无用户 / no users yet"
    return "\n".join([*lines, note])
