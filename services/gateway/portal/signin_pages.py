"""Signing in with a one-time link, the session cookie, and signing out.

- ``GET /portal/signin``: how to get a link, and why the person is here (``reason=``);
- ``GET /portal/signin/{token}``: a page with a sign-in button. A GET never uses the link: mail
  scanners and link previews open links;
- ``POST /portal/signin`` (fields ``token``, ``next``): uses the link once and starts the
  session (cookie ``nvc_session``: HttpOnly, SameSite=Strict, Path=/, Secure over https), then
  303 to ``next`` when it is a local ``/portal`` path;
- ``POST /portal/signout`` (field ``csrf_token``): ends the session and clears the cookie.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.deps import DepsDep
from services.gateway.identity.portal_sessions import (
    LinkRefused,
    SessionRefused,
    check_link,
    end_session,
    use_link,
)
from services.gateway.portal.render import page
from services.gateway.portal.session import (
    SIGNIN_PATH,
    CsrfFailed,
    FormCsrf,
    refusal_page,
)
from services.gateway.portal.words import words
from services.gateway.session_cookie import SESSION_COOKIE, cookie_session

router = APIRouter(include_in_schema=False)

HOME = "/portal"
# Why a person is on the sign-in page (``reason=``): the words that say it.
REASONS = {
    "session_expired": "signin.reason.session_expired",
    "signed_out": "signin.reason.signed_out",
    "session_ended": "signin.reason.session_ended",
    "account_revoked": "signin.reason.account_revoked",
    "invalid_token": "signin.reason.invalid_token",
    "token_expired": "signin.reason.token_expired",
}
ASK_AGAIN = ("signin.ask_again", SIGNIN_PATH)

words(
    {
        "signin.title": ("登录", "Sign in"),
        "signin.button": ("登录", "Sign in"),
        "signin.continue": ("继续", "Continue"),
        "signin.already": ("您已以 {name} 的身份登录。", "You are signed in as {name}."),
        "signin.how.title": ("如何登录", "How to sign in"),
        "signin.how.ask": (
            "向省知识产权局或系统管理员索取您的登录链接。",
            "Ask the provincial IP office or your administrator for your sign-in link.",
        ),
        "signin.how.open": (
            "在本浏览器中打开该链接，然后点击页面上的“登录”按钮。",
            "Open the link in this browser, then press the “Sign in” button on its page.",
        ),
        "signin.how.once": (
            "每个链接只能使用一次，并在有效期后失效；如已用过或过期，请索取新的链接。",
            "Each link works once and expires after a while; if it was used or has expired,"
            " ask for a new one.",
        ),
        "signin.how.machines": (
            "程序接口（API）请继续使用访问令牌。",
            "Programs calling the API keep using their bearer tokens.",
        ),
        "signin.reason.session_expired": (
            "您长时间未操作，已自动退出登录。请用新的登录链接重新登录。",
            "You were away too long and have been signed out. Sign in again with a new link.",
        ),
        "signin.reason.signed_out": ("您已退出登录。", "You have signed out."),
        "signin.reason.session_ended": (
            "此次登录已结束。请用新的登录链接重新登录。",
            "This session has ended. Sign in again with a new link.",
        ),
        "signin.reason.account_revoked": (
            "该账号已被停用。如有疑问，请联系省知识产权局或系统管理员。",
            "This account has been revoked. Ask the provincial IP office or your administrator"
            " if you think this is wrong.",
        ),
        "signin.reason.invalid_token": (
            "访问令牌无效或已被撤销。请用登录链接登录。",
            "The bearer token is unknown or revoked. Sign in with a sign-in link.",
        ),
        "signin.reason.token_expired": (
            "访问令牌已过期。请用登录链接登录，或请管理员更换令牌。",
            "The bearer token has expired. Sign in with a sign-in link, or ask for a new token.",
        ),
        "signin.reason.other": ("请先登录。", "Please sign in first."),
        "signin.link.explain": (
            "点击下面的按钮登录工作平台。登录后如连续 {minutes} 分钟未操作，将自动退出。",
            "Press the button below to sign in to the work portal. After {minutes} minutes"
            " without use you will be signed out.",
        ),
        "signin.link.once": (
            "此链接只能使用一次。请勿转发给他人。",
            "This link works once. Do not pass it on.",
        ),
        "signin.ask_again": ("如何获取新的登录链接", "How to get a new sign-in link"),
        "signin.refused.title": ("无法登录", "Cannot sign in"),
    }
)


def safe_next(value: str | None) -> str:
    """``value`` if it is a local path under ``/portal`` (not the sign-in pages), else ``/portal``:
    a sign-in link must not send anyone elsewhere."""
    if not value or len(value) > 2000 or value.startswith("//"):
        return HOME
    if any(c in value for c in "\\\r\n\t\x00"):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or ".." in parts.path.split("/"):
        return HOME
    if parts.path != HOME and not parts.path.startswith(HOME + "/"):
        return HOME
    if parts.path.startswith((SIGNIN_PATH, "/portal/signout")):
        return HOME
    return value


def is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def same_origin(request: Request) -> bool:
    """A sign-in post sent by another site (login CSRF) is refused: its Origin, when the
    browser sends one, names this host (or the host a proxy says it forwarded)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    hosts = {request.headers.get("host", "")}
    hosts |= {h.strip() for h in request.headers.get("x-forwarded-host", "").split(",")}
    return urlsplit(origin).netloc.lower() in {h.lower() for h in hosts if h}


@router.get("/portal/signin", response_class=HTMLResponse)
async def signin_start(
    request: Request, deps: DepsDep, next: str = HOME, reason: str = ""
) -> HTMLResponse:
    try:
        user = await cookie_session(deps, request)
    except SessionRefused:
        user = None
    reason_key = REASONS.get(reason, "signin.reason.other") if reason else ""
    return page(
        request,
        "signin_start.html",
        user=user,
        reason=reason,
        reason_key=reason_key,
        signed_in_as=user,
        next=safe_next(next),
    )


def _link_refused(request: Request, refused: LinkRefused) -> HTMLResponse:
    return refusal_page(
        request, refused.code, "signin.refused.title", status=refused.status, link=ASK_AGAIN
    )


@router.get("/portal/signin/{token}", response_class=HTMLResponse)
async def signin_link(request: Request, deps: DepsDep, token: str, next: str = HOME) -> Response:
    try:
        await asyncio.to_thread(check_link, deps.users, token)
    except LinkRefused as refused:
        response: Response = _link_refused(request, refused)
    else:
        response = page(
            request,
            "signin_link.html",
            user=None,
            token=token,
            next=safe_next(next),
            idle_minutes=deps.settings.portal_idle_minutes,
        )
    # The token is in this page's address: it must not travel on in a Referer to another site.
    # same-origin, not no-referrer: under no-referrer Chromium sends the sign-in post with
    # "Origin: null", which the login-CSRF check cannot tell from a post by another site.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@router.post("/portal/signin", response_class=HTMLResponse)
async def signin(
    request: Request,
    deps: DepsDep,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = HOME,
) -> Response:
    if not same_origin(request):
        raise CsrfFailed()
    try:
        started = await asyncio.to_thread(use_link, deps.users, token)
    except LinkRefused as refused:
        return _link_refused(request, refused)
    if previous := request.cookies.get(SESSION_COOKIE):
        await asyncio.to_thread(end_session, deps.users, previous)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        started.session_id,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/portal/signout", dependencies=[FormCsrf])
async def signout(request: Request, deps: DepsDep) -> RedirectResponse:
    if session_id := request.cookies.get(SESSION_COOKIE):
        await asyncio.to_thread(end_session, deps.users, session_id)
    response = RedirectResponse(f"{SIGNIN_PATH}?reason=signed_out", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request)
    )
    return response
