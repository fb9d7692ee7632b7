"""The typed auth dependency: every route states what caller it needs, in its signature."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from etalage.accounts import service
from etalage.accounts.authz import Principal, require_role, require_scope
from etalage.core.auth import set_principal_resolver
from etalage.core.deps import SAFE_METHODS, DbSession
from etalage.core.errors import Forbidden, Unauthorized
from etalage.db import utcnow

SESSION_COOKIE = "etalage_session"
CSRF_HEADER = "x-csrf-token"
bearer = _bearer = HTTPBearer(auto_error=False, description="An API token created at /api/v1/auth/tokens.")

# last_used_at is bookkeeping, not security: noted at most every few minutes per token and process, and
# written by a background flusher in one transaction per round, so no request waits for the writer lock
# (on SQLite every first request of a token was a write: 2,000 new tokens cost 2,000 serial transactions).
_TOUCH_EVERY = 300.0
_FLUSH_SECONDS = 2.0
_touched: dict[str, float] = {}
_pending: dict[tuple[int, str], tuple[Any, datetime]] = {}  # (id(db), token id) -> (db, when)
_touch_lock = threading.Lock()
_flusher: threading.Thread | None = None


def _maybe_touch(request: Request, session: Session, token_id: str) -> None:
    global _flusher
    now = time.monotonic()
    db = request.app.state.db
    with _touch_lock:
        if now - _touched.get(token_id, -1e9) < _TOUCH_EVERY:
            return
        _touched[token_id] = now
        _pending[(id(db), token_id)] = (db, utcnow())
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_loop, name="etalage-token-touches", daemon=True)
            _flusher.start()


def flush_touches() -> None:
    """Write the noted last-use times (the flusher does every couple of seconds; tests may call it)."""
    with _touch_lock:
        batch = dict(_pending)
        _pending.clear()
    by_db: dict[int, tuple[Any, dict[str, datetime]]] = {}
    for (key, token_id), (db, when) in batch.items():
        by_db.setdefault(key, (db, {}))[1][token_id] = when
    for db, times in by_db.values():
        try:
            with db.session() as s:
                service.touch_tokens(s, times)
        except Exception:  # never fail anything for bookkeeping (a disposed test database, say)
            pass


def _flush_loop() -> None:
    while True:
        time.sleep(_FLUSH_SECONDS)
        flush_touches()


def optional_principal(
    request: Request,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    principal = resolve_principal(request, session, credentials)
    # FastAPI runs this dependency and the route in different worker threads. A request waiting between the
    # two must not hold a pooled connection: under load every worker thread can end up waiting for a
    # connection that only parked requests hold (a deadlock until the pool times out). Ending the read-only
    # auth transaction returns the connection; the route takes one again when it needs it.
    session.commit()
    return principal


def resolve_principal(
    request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Principal | None:
    """The caller of ``request`` (bearer token, or session cookie with CSRF for writes), or None. For routes
    that authenticate inside their own handler thread instead of through the ``CurrentPrincipal`` chain."""
    if credentials is not None:
        if credentials.scheme.lower() != "bearer":
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        principal = service.principal_for_token(session, credentials.credentials)
        _maybe_touch(request, session, principal.token_id or "")
        return principal
    header = request.headers.get("authorization")
    if header:  # present but not a parseable bearer header
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    principal = service.principal_for_session(session, cookie)
    if request.method not in SAFE_METHODS and not service.csrf_matches(
        principal, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden("Missing or wrong CSRF token (send the X-CSRF-Token header from your session).")
    return principal


def current_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise Unauthorized("Sign in, or send 'Authorization: Bearer <token>'.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def scoped(scope: str) -> Callable[[Principal], Principal]:
    """``Annotated[Principal, Depends(scoped("shop"))]``: authenticated and holding ``scope``."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        require_scope(principal, scope)
        return principal

    return dependency


def with_role(role: str) -> Callable[[Principal], Principal]:
    def dependency(principal: CurrentPrincipal) -> Principal:
        require_role(principal, role)
        return principal

    return dependency


Shopper = Annotated[Principal, Depends(scoped("shop"))]
MerchantReader = Annotated[Principal, Depends(scoped("merchant:read"))]
MerchantWriter = Annotated[Principal, Depends(scoped("merchant:write"))]
Moderator = Annotated[Principal, Depends(scoped("moderation"))]
Admin = Annotated[Principal, Depends(scoped("admin"))]


def _resolve_from_request(request: Request, session: Session) -> Principal | None:
    """The same rules as ``optional_principal``, for ``core.auth.Viewer`` (domains behind the privacy wall)."""
    header = request.headers.get("authorization")
    credentials = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=value.strip())
    return resolve_principal(request, session, credentials)


set_principal_resolver(_resolve_from_request)
