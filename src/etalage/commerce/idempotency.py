"""Idempotency keys for money-moving requests: one row per (user, key), written in the request's first
transaction, naming what the request created.

- First time: the row is inserted (``INSERT … ON CONFLICT DO NOTHING``); if the request then fails before
  committing, the row goes with it and a retry simply runs again.
- Replay with the same body: the caller answers from the resource's current state (same order, no
  second charge).
- Same key, different body: 422. A concurrent duplicate waits on the first insert's row lock
  (PostgreSQL) or on the write lock (SQLite), then sees it as a replay.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.commerce.errors import IdempotencyKeyRequired, IdempotencyKeyReused
from etalage.commerce.models import IdempotencyKey
from etalage.db import insert_unless_present, utcnow

_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")


def require_key(header: str | None) -> str:
    if header is None or header == "":
        raise IdempotencyKeyRequired(
            "Send an Idempotency-Key header (e.g. a UUID) so a retry can never charge twice.",
            header="Idempotency-Key",
        )
    if not _VALID.match(header):
        raise IdempotencyKeyRequired(
            "The Idempotency-Key must be 1–255 printable ASCII characters.", header="Idempotency-Key"
        )
    return header


def fingerprint(scope: str, body: object) -> str:
    return hashlib.sha256(
        scope.encode() + b"\n" + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


_t = IdempotencyKey.__table__
_CLAIM = insert_unless_present(_t, ["user_id", "key"], _t.c.resource_id)


@dataclass(frozen=True)
class Claim:
    fresh: bool
    resource_id: str
    created_at: object


def claim(session: Session, *, user_id: str, key: str, scope: str, fp: str, resource_id: str) -> Claim:
    """Record the key for ``resource_id``, or find what an earlier request with it created."""
    now = utcnow()
    inserted = (
        session.connection()
        .execute(
            _CLAIM[session.get_bind().dialect.name],
            dict(
                user_id=user_id, key=key, scope=scope, fingerprint=fp, resource_id=resource_id, created_at=now
            ),
        )
        .first()
    )
    if inserted is not None:
        return Claim(True, resource_id, now)
    row = session.execute(
        select(
            IdempotencyKey.scope,
            IdempotencyKey.fingerprint,
            IdempotencyKey.resource_id,
            IdempotencyKey.created_at,
        ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).one()
    if row.scope != scope or row.fingerprint != fp:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key for a new request.",
        )
    return Claim(False, row.resource_id, row.created_at)


def find(session: Session, *, user_id: str, key: str, scope: str, fp: str) -> str | None:
    """The resource an earlier identical request with this key created, if any (422 if the body differs)."""
    row = session.execute(
        select(IdempotencyKey.scope, IdempotencyKey.fingerprint, IdempotencyKey.resource_id).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    ).first()
    if row is None:
        return None
    if row.scope != scope or row.fingerprint != fp:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key."
        )
    return row.resource_id
