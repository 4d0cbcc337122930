"""Who is signed in to the portal, or a redirect to the sign-in page.

A person signs in with a one-time link and then carries a session cookie; a machine may send its
bearer token instead. Either way the page gets the same :class:`Principal` the API would, and
asks the same access policy.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.gateway.deps import DepsDep
from services.gateway.identity.portal_sessions import SessionRefused
from services.gateway.identity.tokens import Principal, TokenRefused, identify
from services.gateway.portal.problem_words import PROBLEM_WORDS
from services.gateway.portal.render import lang_of, page
from services.gateway.portal.words import words
from services.gateway.session_cookie import CSRF_HEADER, SESSION_COOKIE, cookie_session, csrf_ok

SIGNIN_PATH = "/portal/signin"


class SignInNeeded(Exception):
    """No valid session: the person is sent to sign in, and back to ``next`` afterwards."""

    def __init__(self, next_path: str, reason: str = "", *, forget_session: bool = False) -> None:
        super().__init__(reason or "sign in")
        self.next_path = next_path
        self.reason = reason
        self.forget_session = forget_session


class CsrfFailed(Exception):
    """A portal form posted without its session's CSRF token: refused, nothing changed."""


def _next_of(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def portal_user(request: Request, deps: DepsDep) -> Principal:
    """The signed-in person: the session cookie first, then a bearer token (machines, tests)."""
    try:
        user = await cookie_session(deps, request)
    except SessionRefused as refused:
        raise SignInNeeded(_next_of(request), refused.reason, forget_session=True) from None
    if user is not None:
        return user
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return await asyncio.to_thread(identify, deps.users, token.strip())
        except TokenRefused as refused:
            raise SignInNeeded(_next_of(request), refused.code) from None
    raise SignInNeeded(_next_of(request))


PortalUser = Annotated[Principal, Depends(portal_user)]


async def form_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every portal form a person posts carries its session's CSRF token (field ``csrf_token``
    or header ``X-CSRF-Token``); without it the post is refused (403 csrf_failed)."""
    if not (csrf_ok(request, csrf_token) or csrf_ok(request, request.headers.get(CSRF_HEADER))):
        raise CsrfFailed()


FormCsrf = Depends(form_csrf)


words(
    {
        "signin.csrf.title": ("表单已失效", "This form has expired"),
        "signin.back_home": ("返回首页", "Back to the home page"),
    }
)


# The refusals of signing in, said here too in case the table of every code lacks one.
FALLBACK_WORDS: dict[str, tuple[str, str]] = {
    "csrf_failed": (
        "表单缺少本次登录的安全校验码，未作任何更改。请刷新页面后重试；如仍失败，请退出后重新登录。",
        "The form lacks this session's security code, so nothing was changed. Reload the page"
        " and try again; if that fails, sign out and sign in again.",
    ),
    "signin_link_invalid": (
        "这个登录链接无效。请核对链接是否完整，或联系省知识产权局或系统管理员获取新的登录链接。",
        "This sign-in link is not valid. Check that it was copied whole, or ask the provincial"
        " IP office or your administrator for a new link.",
    ),
    "signin_link_used": (
        "这个登录链接已经使用过，每个链接只能使用一次。请联系省知识产权局或系统管理员获取新的登录链接。",
        "This sign-in link has been used already; each link works once. Ask the provincial IP"
        " office or your administrator for a new link.",
    ),
    "signin_link_expired": (
        "这个登录链接已过期。请联系省知识产权局或系统管理员获取新的登录链接。",
        "This sign-in link has expired. Ask the provincial IP office or your administrator for"
        " a new link.",
    ),
    "signin_user_revoked": (
        "该账号已被停用，不能登录。如有疑问，请联系省知识产权局或系统管理员。",
        "This account has been revoked and cannot sign in. Ask the provincial IP office or your"
        " administrator if you think this is wrong.",
    ),
}


def refusal_page(
    request: Request, code: str, title_key: str, *, status: int, link: tuple[str, str]
) -> HTMLResponse:
    """A refusal said in words: what happened and what to do next (:data:`PROBLEM_WORDS`)."""
    return page(
        request,
        "signin_message.html",
        user=None,
        status=status,
        code=code,
        title_key=title_key,
        body=(PROBLEM_WORDS.get(code) or FALLBACK_WORDS[code])[
            0 if lang_of(request) == "zh" else 1
        ],
        link=link,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, exc: CsrfFailed) -> HTMLResponse:
        return refusal_page(
            request, "csrf_failed", "signin.csrf.title", status=403,
            link=("signin.back_home", "/portal"),
        )  # fmt: skip

    @app.exception_handler(SignInNeeded)
    async def _to_signin(request: Request, exc: SignInNeeded) -> RedirectResponse:
        target = f"{SIGNIN_PATH}?next={quote(exc.next_path, safe='/')}"
        if exc.reason:
            target += f"&reason={quote(exc.reason)}"
        response = RedirectResponse(target, status_code=303)
        if exc.forget_session:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response
