"""After-commit callbacks wait for the real commit: a SAVEPOINT released or rolled back inside the
transaction neither runs them early nor drops them."""

from __future__ import annotations

from sqlalchemy import text

from etalage.db import on_commit


def test_savepoints_neither_run_nor_drop_after_commit_callbacks(db):
    ran: list[str] = []
    with db.session() as s:
        s.execute(text("SELECT 1"))
        on_commit(s, lambda: ran.append("outer"))
        with s.begin_nested():
            s.execute(text("SELECT 2"))
        assert ran == []  # released savepoint: not yet committed
        try:
            with s.begin_nested():
                raise ValueError
        except ValueError:
            pass
        assert ran == []
    assert ran == ["outer"]

    with db.session() as s:
        s.execute(text("SELECT 1"))
        on_commit(s, lambda: ran.append("rolled back"))
        s.rollback()
    assert ran == ["outer"]
