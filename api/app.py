"""The FastAPI application: routers, limits, and errors that never leak a stack trace."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routes import (
    bills,
    clusters,
    costs,
    export,
    forecasts,
    health,
    jobs,
    metrics,
    plan,
    recommendations,
    reconciliation,
    reports,
    topics,
    whatif,
)
from api.state import AppState
from costopt import __version__
from costopt.config import Settings
from costopt.pricing.catalog import CatalogError
from costopt.store import Store, StoreError

log = logging.getLogger("costopt.api")


class BodyLimit:
    """Refuse request bodies over the limit with 413, whether or not they declare a length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send, self.max_bytes)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail": "request body larger than {limit} bytes"}}'.encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def app_from_environment() -> FastAPI:
    """For uvicorn's worker processes (`costopt serve --workers N`): config from
    $COSTOPT_CONFIG, like every other entry point."""
    from costopt.config import load_settings

    return create_app(load_settings())


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: AppState = app.state.costopt
        if settings.api.warm_at_start:
            state.warm()
        else:
            state.warmed = "on first request"
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="costopt", version=__version__,
        description="Kafka cost and capacity optimization: what each cluster, topic and team "
                    "costs, why, and what to change to spend less. Money fields are decimal "
                    "text with `currency` and `period` beside them.",
    )
    app.state.costopt = AppState(settings, store or Store.open(settings.store_url))
    for module in (clusters, topics, costs, recommendations, plan, whatif, forecasts, reports,
                   jobs, health, metrics, bills, reconciliation, export):
        app.include_router(module.router)
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["authorization",
                                                                         "content-type"])
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)

    @app.exception_handler(OperationalError)
    async def store_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("store unreachable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return JSONResponse({"detail": "the store is unreachable"}, status_code=503)

    @app.exception_handler(StoreError)
    async def nothing_stored(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(CatalogError)
    async def bad_catalog(_request: Request, exc: CatalogError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)

    return app
