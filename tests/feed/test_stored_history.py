"""A shopper's latest interactions outlive the in-memory tail: the feed's consumer stores them per pseudonym
(idempotently, capped) and a page reads them when the tail has too few."""

from __future__ import annotations

from sqlalchemy import select

from etalage.events.log import StoredEvent
from etalage.feed.learner import HISTORY_KEEP, apply_marks
from etalage.feed.models import FeedHistory
from etalage.feed.pages import with_stored_history


def _event(offset: int, user: str, ts: int, **extra: object) -> StoredEvent:
    data = {"type": "view_end", "user": user, "ts": ts, "video_id": f"vid_{offset}", "watch_ratio": 1.0,
            "event_id": f"e{offset}", "platform": "ios", **extra}  # fmt: skip
    return StoredEvent(offset, data)


def test_the_consumer_keeps_each_pseudonyms_latest_events_once_and_capped(db):
    first = [_event(i, "psn_a" if i % 2 else "psn_b", 1_000 + i) for i in range(1, 11)]
    with db.session() as s:
        apply_marks(s, first)
    with db.session() as s:
        apply_marks(s, first[5:])  # a replay from an earlier offset adds nothing twice
    with db.read() as s:
        rows = {r.pseudonym: r for r in s.scalars(select(FeedHistory))}
    assert [e["video_id"] for e in rows["psn_a"].events] == ["vid_1", "vid_3", "vid_5", "vid_7", "vid_9"]
    assert rows["psn_a"].upto == 9 and rows["psn_b"].upto == 10
    assert "user" not in rows["psn_a"].events[0] and "platform" not in rows["psn_a"].events[0]  # only what ranks
    many = [_event(100 + i, "psn_a", 5_000 + i) for i in range(HISTORY_KEEP + 20)]
    with db.session() as s:
        apply_marks(s, many)
    with db.read() as s:
        events = s.scalar(select(FeedHistory.events).where(FeedHistory.pseudonym == "psn_a"))
    assert len(events) == HISTORY_KEEP and events[-1]["video_id"] == f"vid_{100 + HISTORY_KEEP + 19}"


def test_a_page_reads_the_stored_history_behind_the_tail(db):
    with db.session() as s:
        apply_marks(s, [_event(i, "psn_c", 1_000 + i) for i in range(1, 6)])
    recent = [_event(50, "psn_c", 9_000), _event(4, "psn_c", 1_004)]  # the tail still has one older event
    with db.read() as s:
        merged = with_stored_history(s, "psn_c", recent, limit=5)
        assert [e.data["video_id"] for e in merged] == ["vid_50", "vid_4", "vid_3", "vid_2", "vid_1"]
        assert with_stored_history(s, "psn_c", recent, limit=2) == recent
        assert [e.data["video_id"] for e in with_stored_history(s, "psn_c", [], limit=3)] == ["vid_5", "vid_4", "vid_3"]
        assert with_stored_history(s, "psn_nobody", [], limit=3) == []
