"""RFC 9457 problem+json errors with a stable ``code``. Nothing a client sends becomes a 500."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.logging import get_logger

log = get_logger("gateway")
PROBLEM_BASE = "https://navcycle.dev/problems/"

TITLES = {
    "bad_request": "Bad request",
    "invalid_request": "The request is malformed",
    "invalid_targets": "The targets are malformed",
    "invalid_upload": "The upload is malformed",
    "file_too_large": "The file is too large",
    "unsupported_media_type": "The file type is not accepted",
    "cycle_not_found": "No such cycle",
    "program_not_found": "No such program",
    "document_not_found": "No such document",
    "not_found": "Not found",
    "wrong_stage": "Not accepted at this stage",
    "deadline_passed": "The deadline has passed",
    "duplicate_filing": "Already filed",
    "invalid_scores": "The scores are invalid",
    "computed_indicator": "The indicator is computed from its target, not scored",
    "already_scored": "Already scored",
    "invalid_extension": "The extension is invalid",
    "worker_unavailable": "The workflow worker is not answering",
    "service_unavailable": "A service is not answering",
    "object_store_unavailable": "Document storage is unavailable",
    "database_unavailable": "The database is unavailable",
    "internal_error": "Internal error",
    "csrf_failed": "The request lacks the session's CSRF token",
    "session_expired": "The portal session has expired",
    "signin_link_invalid": "No such sign-in link",
    "signin_link_used": "The sign-in link has been used",
    "signin_link_expired": "The sign-in link has expired",
    "signin_user_revoked": "The user has been revoked",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


def problem(status: int, code: str, detail: str, instance: str = "", **extra: Any) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + code,
        "title": TITLES.get(code, code.replace("_", " ").capitalize()),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = problem(exc.status, exc.code, exc.detail, request.url.path, **exc.extra)
        if exc.status in (429, 503) and "retry_after" in exc.extra:
            response.headers["Retry-After"] = str(exc.extra["retry_after"])
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid_request", detail, request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return problem(exc.status_code, code, str(exc.detail), request.url.path)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        # A dropped or refused connection (a restart, a failover): the pool reconnects for the
        # next request, so this one is a 503 to retry, not a 500.
        log.warning("database.unavailable", path=request.url.path, error=str(exc).splitlines()[0])
        return problem(
            503, "database_unavailable", "the database did not answer; try again", request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.failed", path=request.url.path)
        return problem(
            500, "internal_error", "an unexpected error; it has been logged", request.url.path
        )
