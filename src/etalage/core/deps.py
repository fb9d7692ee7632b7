"""Request-scoped dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from etalage.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: HTTPConnection) -> Database:
    return request.app.state.db


def _session(request: HTTPConnection) -> Iterator[Session]:
    """One transaction per request, committed when the route returns and before the response is sent.

    Safe methods get a read transaction (on SQLite: deferred, never blocking writers); others get a
    write transaction (on SQLite: BEGIN IMMEDIATE, so concurrent writers queue instead of deadlocking).
    """
    db: Database = request.app.state.db
    method = request.scope.get("method", "GET")  # a WebSocket handshake reads like a GET
    with db.session(write=method not in SAFE_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(_session, scope="function")]
Db = Annotated[Database, Depends(get_database)]
