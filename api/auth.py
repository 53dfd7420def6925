"""Bearer-token auth with two scopes, `read` and `admin`.

Tokens are stored as SHA-256 digests in config, never in clear; a presented token is hashed and
compared in constant time with every configured digest, so timing says nothing about which
digest was close.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import HTTPException, Request, status

from costopt.config import ApiSettings

Scope = Literal["read", "admin"]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scopes_of(token: str, settings: ApiSettings) -> set[str] | None:
    digest = token_digest(token).encode()
    found: set[str] | None = None
    for configured in settings.tokens:
        if hmac.compare_digest(digest, configured.sha256.encode()):
            found = set(configured.scopes)
    return found


def check_scope(request: Request, scope: Scope) -> None:
    """Refuse the request (401, 403) unless its bearer token has `scope` (or admin)."""
    settings: ApiSettings = request.app.state.costopt.settings.api
    if not settings.auth_enabled:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    scopes = scopes_of(token.strip(), settings)
    if scopes is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token",
                            headers={"WWW-Authenticate": "Bearer"})
    if scope not in scopes and "admin" not in scopes:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this endpoint needs the "
                            f"'{scope}' scope")


def require(scope: Scope) -> Callable[[Request], Awaitable[None]]:
    """The dependency. Async (it does no I/O) so FastAPI runs it on the event loop instead
    of handing it to a thread: thread hops were most of a small request's cost."""
    async def check(request: Request) -> None:
        check_scope(request, scope)
    return check
