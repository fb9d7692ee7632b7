"""A small demo marketplace (the real demo builder, scale 'small', with the feed's first snapshot) behind
the live test server, built once per test module: videos, products, shoppers with histories.

Modules import the ``demo_world`` fixture from here. It does not use the per-test ``db`` fixture (which
empties the database after every test); it empties the database and the snapshot folder itself when
the module is done. Each test takes fresh shoppers (``world.new_shopper()``) so tests do not share state.
"""

from __future__ import annotations

import itertools
import random
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from rich.console import Console
from rich.progress import Progress

_seq = itertools.count(1)


@dataclass
class DemoWorld:
    client: httpx.Client
    db: Any
    data: dict[str, Any]
    engine: Any  # the live test server's FeedEngine (other test servers in this process have their own)
    tokens: dict[str, str] = field(default_factory=dict)
    pseudonyms: dict[str, str] = field(default_factory=dict)

    def token_for(self, user_id: str) -> str:
        if user_id not in self.tokens:
            from etalage.accounts import service as accounts

            with self.db.session() as s:
                principal = accounts.principal_for_user(s, user_id)
                self.tokens[user_id], _ = accounts.create_api_token(s, principal, name="feed-tests")
                self.pseudonyms[user_id] = accounts.pseudonym_for(s, user_id)
        return self.tokens[user_id]

    def headers(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(user_id)}"}

    def new_shopper(self, *, birth_year: int = 1990, region: str = "BE") -> str:
        """A shopper with no history at all (cold start), with a name, e-mail and address like anyone."""
        from datetime import date

        from etalage.accounts import service as accounts

        n = next(_seq)
        with self.db.session() as s:
            user = accounts.register_user(
                s, email=f"feed.shopper{n}.{uuid.uuid4().hex[:6]}@example.org", password="correct-horse-battery",
                display_name=f"Feedy McShopper {n}", roles=["shopper"], birth_date=date(birth_year, 5, 5),
                region_code=region,
            )  # fmt: skip
            s.flush()
            return user.id

    def moderator(self) -> str:
        return self.data["moderator"]

    def page(self, user_id: str | None = None, **params: Any) -> dict[str, Any]:
        params.setdefault("region", "BE")
        r = self.client.get("/api/v1/feed", params=params, headers=self.headers(user_id) if user_id else {})
        assert r.status_code == 200, r.text
        return r.json()

    def send(self, user_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        now = datetime.now(UTC)
        for e in events:
            e.setdefault("event_id", uuid.uuid4().hex)
            e.setdefault("occurred_at", now.isoformat())
        r = self.client.post("/api/v1/events", json={"sent_at": now.isoformat(), "events": events},
                             headers=self.headers(user_id))  # fmt: skip
        assert r.status_code == 200, r.text
        return r.json()

    def watched(self, user_id: str, video_ids: list[str], *, like: bool = True) -> None:
        events: list[dict[str, Any]] = []
        for vid in video_ids:
            events += [{"type": "impression", "video_id": vid},
                       {"type": "view_end", "video_id": vid, "dwell_ms": 9000, "watch_ratio": 1.0}]  # fmt: skip
            if like:
                events.append({"type": "like", "video_id": vid})
        self.send(user_id, events)


def _empty(database: Any, settings: Any, engine: Any = None) -> None:
    from tests.conftest import _truncate_all

    if engine is not None:
        engine.served.flush()  # the served-page writer must not insert while the tables are emptied
    _truncate_all(database)
    shutil.rmtree(settings.data_dir / "models", ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):  # the demo's own test-PSP store, rebuilt with the same ids
        (settings.data_dir / f"psp.db{suffix}").unlink(missing_ok=True)


def build_small_demo(database: Any, settings: Any) -> Any:
    """Every step of the demo builder at the small scale (seed 11) into an empty database; its context."""
    from etalage import demo
    from etalage.demo import SCALES, DemoContext

    ctx = DemoContext(database, settings, SCALES["small"], random.Random(11),
                      Progress(console=Console(quiet=True)))  # fmt: skip
    for _order, _title, fn in demo._steps():
        fn(ctx)
    for wait in ctx.pending:
        wait()
    return ctx


@pytest.fixture(scope="module")
def demo_world(live_server, database, settings):  # type: ignore[no-untyped-def]
    engine = live_server.server.config.app.state.feed_engine
    _empty(database, settings, engine)
    ctx = build_small_demo(database, settings)
    from etalage.events import service as events

    events.stop_recent_histories()  # other test modules may have replaced the log file under the tail
    engine.reload()
    assert engine.wait_caught_up(30)
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield DemoWorld(client, database, ctx.data, engine)
    _empty(database, settings, engine)
    engine.reload()


def wait_for(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()
