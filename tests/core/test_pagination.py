from __future__ import annotations

import pytest
from sqlalchemy import select

from etalage.accounts.models import User
from etalage.core.errors import BadRequest
from etalage.core.pagination import PageParams, decode_cursor, encode_cursor, paginate


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor("usr_1")) == ["usr_1"]
    for garbage in ("%%%", "bm90IGpzb24", encode_cursor(1, 2)):
        with pytest.raises(BadRequest):
            decode_cursor(garbage)


def test_keyset_pagination_walks_every_row_once(db, factory):
    ids = {factory.user().id for _ in range(7)}
    seen: list[str] = []
    cursor = None
    with db.read() as s:
        while True:
            rows, cursor = paginate(s, select(User), User.id, PageParams(cursor=cursor, limit=3))
            seen += [r.id for r in rows]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == ids
    assert seen == sorted(seen, reverse=True)
