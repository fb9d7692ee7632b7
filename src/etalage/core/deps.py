"""Request-scoped dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from etalage.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    return request.app.state.db


def _session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the route returns and before the response is sent.

    Safe methods get a read transaction (on SQLite: deferred, never blocking writers); others get a
    write transaction (on SQLite: BEGIN IMMEDIATE, so concurrent writers queue instead of deadlocking).
    """
    db: Database = request.app.state.db
    with db.session(write=request.method not in SAFE_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(_session, scope="function")]
Db = Annotated[Database, Depends(get_database)]
