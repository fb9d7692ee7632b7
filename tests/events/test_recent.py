"""Each user's recent events (the feed's in-session history) include what the ingest API has just appended,
however late the tail's thread runs: a page asked for right after a POST of events sees them."""

from __future__ import annotations

import time

import pytest

from etalage.events import service
from etalage.events.log.embedded import EmbeddedEventLog
from etalage.events.recent import RecentHistory

pytestmark = pytest.mark.db_agnostic


def _events(user: str, n: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [{"type": "like", "event_id": f"{user}-{now}-{i}", "user": user, "client_ts": now + i, "ts": now + i,
             "recv": now, "video_id": f"vid_{i}"} for i in range(n)]  # fmt: skip


class SlowTail(RecentHistory):
    """A tail whose thread is busy (a loaded machine): each batch lands 300 ms after it is read."""

    def _add(self, batch):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        super()._add(batch)


def test_recent_events_wait_for_what_was_just_appended(tmp_path) -> None:
    log = EmbeddedEventLog(tmp_path / "log.db")
    history = SlowTail(log).start()
    try:
        appended = log.append(_events("psn_A", 3))
        history.note_appended(max(a.offset for a in appended))
        assert [e.data["video_id"] for e in history.recent("psn_A")] == ["vid_2", "vid_1", "vid_0"]
        # nothing noted: no waiting (another process's appends arrive within the tail's lag)
        log.append(_events("psn_B", 1))
        started = time.perf_counter()
        history.recent("psn_B")
        assert time.perf_counter() - started < 0.2
    finally:
        history.stop()
        log.close()


def test_the_ingest_path_notes_its_appends_for_the_same_log_only(tmp_path) -> None:
    log, other = EmbeddedEventLog(tmp_path / "a.db"), EmbeddedEventLog(tmp_path / "b.db")
    try:
        history = service.recent_history(log)
        service.notify_appended(other, other.append(_events("psn_C", 2)))
        assert history._appended == 0
        service.notify_appended(log, log.append(_events("psn_C", 2)))
        assert history._appended == log.last_offset()
        assert len(service.recent_events("psn_C", log=log)) == 2
    finally:
        service.stop_recent_histories()
        log.close()
        other.close()
