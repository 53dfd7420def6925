"""The FastAPI application: routers, limits, and errors that never leak a stack trace."""

from __future__ import annotations

import asyncio
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
    anomalies,
    bills,
    budgets,
    changes,
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
from costopt.base.errors import BadData, CostoptError, InvalidInput, NotFound, Unreachable
from costopt.config import Settings
from costopt.store import Store

log = logging.getLogger("costopt.api")
ERROR_STATUS: dict[type[CostoptError], int] = {
    NotFound: 404, InvalidInput: 422, Unreachable: 503, BadData: 502,
}


def _answer_with(status: int) -> Any:
    async def answer(_request: Request, exc: Exception) -> JSONResponse:
        if status >= 500:
            log.error("%s: %s", type(exc).__name__, exc)
        return JSONResponse({"detail": str(exc)}, status_code=status)
    return answer


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
        # Read the whole body here (it is bounded) and hand it on: a limit raised from inside
        # the app's own body reading would be caught there and answered as a 400.
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks),
                                        "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive that gives `messages`, then whatever `then` gives (a disconnect)."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}
    return receive


class TimeBudget:
    """Answer 503 when a request takes longer than its budget (`api.request_timeout_seconds`):
    no request holds a client, or a load balancer's connection, indefinitely. The handler's
    thread cannot be stopped; its late answer is dropped."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.seconds:
            await self.app(scope, receive, send)
            return
        started = timed_out = False

        async def guarded(message: Message) -> None:
            nonlocal started
            if timed_out:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, guarded), self.seconds)
        except TimeoutError:
            timed_out = True
            log.warning("%s %s took longer than %g s: answered 503", scope.get("method"),
                        scope.get("path"), self.seconds)
            if not started:
                body = (f'{{"detail": "the request took longer than {self.seconds:g} s"}}'
                        ).encode()
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})


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
                   jobs, health, metrics, bills, reconciliation, export, budgets, anomalies,
                   changes):
        app.include_router(module.router)
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["authorization",
                                                                         "content-type"])
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(TimeBudget, seconds=settings.api.request_timeout_seconds)

    @app.exception_handler(OperationalError)
    async def store_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("store unreachable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return JSONResponse({"detail": "the store is unreachable"}, status_code=503)

    # costopt's errors by what happened (costopt/base/errors.py): one status each.
    for error, status in ERROR_STATUS.items():
        app.add_exception_handler(error, _answer_with(status))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:  # noqa: ARG001
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)

    return app
