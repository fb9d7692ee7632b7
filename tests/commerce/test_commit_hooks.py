"""What buying relies on from the data layer: after-commit work runs after the commit, with the connection
already back in the pool (so a subscriber opening its own session can never starve the pool)."""

from __future__ import annotations

from sqlalchemy import text

from etalage.db import on_commit


def test_callbacks_run_after_the_real_commit_with_the_connection_released(db):
    seen: list[object] = []
    with db.session() as s:
        s.execute(text("SELECT 1"))
        on_commit(s, lambda: seen.append(("first", db.engine.pool.checkedout())))
        with s.begin_nested():  # a SAVEPOINT released is not a commit
            s.execute(text("SELECT 2"))
        assert seen == []
    assert seen == [("first", 0)]
    try:
        with db.session() as s:
            s.execute(text("SELECT 1"))
            on_commit(s, lambda: seen.append("rolled back"))
            raise RuntimeError
    except RuntimeError:
        pass
    assert seen == [("first", 0)]
