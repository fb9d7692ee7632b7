"""Cursor pagination: opaque cursors over a stable key (time-ordered ids, newest first)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from etalage.core.errors import BadRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    cursor: str | None
    limit: int


def page_params(
    cursor: str | None = Query(None, max_length=512, description="Opaque cursor from a previous page."),
    limit: int = Query(50, ge=1, le=200, description="Items per page."),
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int = 1) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("The cursor is not one this API issued.") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise BadRequest("The cursor is not one this API issued.")
    return values


def paginate(
    session: Session, stmt: Select[Any], key: InstrumentedAttribute[Any], params: PageParams
) -> tuple[list[Any], str | None]:
    """Keyset pagination on one unique, ordered column, newest (largest) first."""
    if params.cursor:
        (last,) = decode_cursor(params.cursor)
        if not isinstance(last, str | int):
            raise BadRequest("The cursor is not one this API issued.")
        stmt = stmt.where(key < last)
    rows = list(session.scalars(stmt.order_by(key.desc()).limit(params.limit + 1)))
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor(getattr(rows[-1], key.key))
    return rows, next_cursor
