"""The portal's session cookie as a request carries it, for the pages and the API alike.

A person signed in to the portal sends the ``nvc_session`` cookie; the session's CSRF token
(derived from its id, see :mod:`services.gateway.identity.portal_sessions`) must come with
every unsafe request, in the ``X-CSRF-Token`` header (scripts) or the ``csrf_token`` field
(forms). Kept outside :mod:`services.gateway.portal` so :mod:`services.gateway.auth` reads it
without importing the pages.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import Request

from services.gateway.deps import Deps
from services.gateway.identity.portal_sessions import csrf_matches, csrf_token, session_user
from services.gateway.identity.tokens import Principal

SESSION_COOKIE = "nvc_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def cookie_session(deps: Deps, request: Request) -> Principal | None:
    """The person of the request's session cookie (None without one), with the session's CSRF
    token put in ``request.state.csrf``; :class:`SessionRefused` when the session is over."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    idle = timedelta(minutes=deps.settings.portal_idle_minutes)
    user = await asyncio.to_thread(session_user, deps.users, session_id, idle=idle)
    request.state.csrf = csrf_token(session_id)
    return user


def csrf_ok(request: Request, sent: str | None) -> bool:
    """Whether ``sent`` is the CSRF token of the request's session cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    return bool(session_id) and csrf_matches(session_id or "", sent)
