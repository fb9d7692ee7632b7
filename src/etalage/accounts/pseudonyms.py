"""Pseudonyms: the stable keys under which a user's interactions are recorded, so the feed never sees who
anyone is. Erasing the mapping leaves those interactions unlinkable to anyone."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from etalage.accounts.models import Pseudonym
from etalage.db import new_id

_PSEUDONYM_OF = select(Pseudonym.__table__.c.key).where(Pseudonym.__table__.c.user_id == bindparam("user"))


def existing_pseudonym(session: Session, user_id: str) -> str | None:
    # a prebuilt statement: this runs on every purchase (the purchase event is keyed by the pseudonym)
    return session.connection().execute(_PSEUDONYM_OF, {"user": user_id}).scalar()


def pseudonym_for(session: Session, user_id: str) -> str:
    """The stable pseudonymous key for a user, created on first use."""
    key = existing_pseudonym(session, user_id)
    if key is None:
        key = new_id("psn")
        session.add(Pseudonym(user_id=user_id, key=key))
        session.flush()
    return key


# The pseudonyms of users who signed a request in this process in the last minute. A purchase is recorded for
# the buyer's pseudonym just after the buyer's own checkout request resolved it, so this saves a transaction
# per purchase. Erasure forgets the entry here; another process may still hold it for up to the TTL, and a
# purchase event recorded then carries a key that no longer maps to anyone (unlinkable, as erasure intends).
_PSEUDONYM_TTL_SECONDS, _PSEUDONYMS_KEPT = 60.0, 50_000
_pseudonyms: OrderedDict[str, tuple[str, float]] = OrderedDict()
_pseudonyms_lock = threading.Lock()


def remember_pseudonym(user_id: str, key: str | None) -> str | None:
    if key is not None:
        with _pseudonyms_lock:
            _pseudonyms[user_id] = (key, time.monotonic() + _PSEUDONYM_TTL_SECONDS)
            _pseudonyms.move_to_end(user_id)
            if len(_pseudonyms) > _PSEUDONYMS_KEPT:
                _pseudonyms.popitem(last=False)
    return key


def recent_pseudonym(user_id: str) -> str | None:
    """The user's pseudonym if a request of theirs resolved it here within the last minute, else None."""
    with _pseudonyms_lock:
        hit = _pseudonyms.get(user_id)
    if hit is None or hit[1] < time.monotonic():
        return None
    return hit[0]


def erase_pseudonym(session: Session, user_id: str) -> None:
    with _pseudonyms_lock:
        _pseudonyms.pop(user_id, None)
    row = session.get(Pseudonym, user_id)
    if row is not None:
        session.delete(row)
