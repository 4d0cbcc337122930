"""The gateway's FastAPI application: the one HTTP entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.gateway import openapi_doc, portal, problems, staging_sweep, warm_exports
from services.gateway.arrival_stamp import ArrivalStamp
from services.gateway.deps import Deps
from services.gateway.limits import BodyLimit
from services.gateway.routes import (
    bases_admin,
    calendars,
    cycles,
    dashboard,
    documents,
    forwardings,
    health,
    inbox,
    objections,
    pages,
    programs,
    targets,
)
from services.gateway.upload_gate import UploadGate


def create_app(
    build_deps: Callable[[], Awaitable[Deps]], close_deps: Callable[[Deps], Awaitable[None]]
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.deps = await build_deps()
        stop_warming = await warm_exports.start(app.state)  # PDFs rendered on publication
        stop_sweeping = await staging_sweep.start(app.state.deps.objects)  # a crash's uploads
        try:
            yield
        finally:
            await stop_sweeping()
            await stop_warming()
            await close_deps(app.state.deps)

    app = FastAPI(
        title="navcycle",
        version="0.1.0",
        description=(
            "专利导航服务基地年度建设周期 — yearly cycles of patent navigation service bases"
        ),
        lifespan=lifespan,
    )
    problems.install(app)
    openapi_doc.install(app)
    app.add_middleware(UploadGate)  # inside the size limit: a token before any upload byte
    app.add_middleware(BodyLimit, upload_max_bytes=lambda: _upload_max_bytes(app))
    app.add_middleware(ArrivalStamp)  # outermost: the arrival before any byte is read
    app.include_router(health.router)
    app.include_router(programs.router)
    app.include_router(calendars.router)
    app.include_router(bases_admin.router)
    app.include_router(cycles.router)
    app.include_router(objections.router)
    app.include_router(targets.router)
    app.include_router(forwardings.router)
    app.include_router(documents.router)
    app.include_router(inbox.router)
    app.include_router(dashboard.router)
    app.include_router(pages.router)
    portal.install(app)  # the work portal's pages, under /portal
    return app


def _upload_max_bytes(app: FastAPI) -> int:
    deps: Deps = app.state.deps  # built at startup, before any request
    return deps.settings.upload_max_bytes
