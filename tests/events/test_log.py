"""The log interface, on both backends: offsets, reads from any point, de-duplication, waiting readers."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from etalage.events.log.dedup import RecentKeys

pytestmark = pytest.mark.db_agnostic


def make(n: int, user: str = "psn_A", prefix: str = "e", ts: int | None = None) -> list[dict]:
    now = ts or int(time.time() * 1000)
    return [
        {"type": "impression", "event_id": f"{prefix}{i}", "user": user, "client_ts": now + i, "ts": now + i,
         "recv": now, "video_id": "vid_X"}
        for i in range(n)
    ]  # fmt: skip


def read_all(log, start: int = 1) -> list:
    out = []
    while batch := log.read(start, 1000):
        out += batch
        start = batch[-1].offset + 1
    return out


def test_offsets_grow_and_reads_start_anywhere(event_log):
    assert event_log.last_offset() == 0 and event_log.read(1) == []
    first = event_log.append(make(700))
    assert [a.offset for a in first] == list(range(1, 701)) and not any(a.duplicate for a in first)
    second = event_log.append(make(5, prefix="f"))
    assert [a.offset for a in second] == [701, 702, 703, 704, 705]
    assert event_log.last_offset() == 705
    assert [e.offset for e in event_log.read(690, 10)] == list(range(690, 700))
    assert [e.event_id for e in event_log.read(703)] == ["f2", "f3", "f4"]
    assert [e.offset for e in read_all(event_log)] == list(range(1, 706))
    assert event_log.read(706) == []


def test_duplicates_within_and_across_batches_are_not_stored(event_log):
    batch = make(3)
    event_log.append(batch)
    again = event_log.append([batch[1], *make(1, prefix="new"), batch[1]])
    assert [a.duplicate for a in again] == [True, False, True]
    assert again[1].offset == 4 and again[2].offset is None or again[2].offset == again[0].offset
    # the same client event id from another user, or at another client time, is another event
    other_user = make(1, user="psn_B")
    other_time = [dict(batch[0], client_ts=batch[0]["client_ts"] + 1)]
    assert not event_log.append(other_user)[0].duplicate
    assert not event_log.append(other_time)[0].duplicate
    assert len(read_all(event_log)) == 6


def test_a_waiting_reader_wakes_when_an_event_arrives(event_log):
    event_log.append(make(1))
    got: list = []

    def reader() -> None:
        got.extend(event_log.read(2, 100, wait=5))

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    sent = time.monotonic()
    event_log.append(make(1, prefix="late"))
    thread.join(5)
    assert [e.event_id for e in got] == ["late0"]
    assert time.monotonic() - sent < 1.5  # woken by the append (~10 ms), not by the 5 s timeout
    started = time.monotonic()
    assert event_log.read(3, 10, wait=0.3) == []
    assert 0.25 < time.monotonic() - started < 4


def test_embedded_log_remembers_keys_across_a_restart(tmp_path):
    from etalage.events.log.embedded import EmbeddedEventLog

    path = tmp_path / "log.db"
    log = EmbeddedEventLog(path)
    batch = make(50)
    log.append(batch)
    log.close()
    reopened = EmbeddedEventLog(path)
    results = reopened.append(batch + make(1, prefix="x"))
    assert sum(a.duplicate for a in results) == 50 and results[-1].offset == 51
    reopened.close()


def test_embedded_log_converts_the_one_row_per_event_layout(tmp_path):
    """A data folder from before batches: its events keep their offsets and their de-duplication keys."""
    import sqlite3

    import orjson

    from etalage.events.log import dedup_key
    from etalage.events.log.embedded import EmbeddedEventLog

    path = tmp_path / "log.db"
    old = make(30)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (off INTEGER PRIMARY KEY, recv INTEGER NOT NULL, h INTEGER NOT NULL, "
                 "body BLOB NOT NULL)")  # fmt: skip
    conn.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?)",
        [(i + 1, e["recv"], dedup_key(e), orjson.dumps(e)) for i, e in enumerate(old)],
    )
    conn.commit()
    conn.close()
    log = EmbeddedEventLog(path)
    assert [(e.offset, e.event_id) for e in read_all(log)] == [(i + 1, e["event_id"]) for i, e in enumerate(old)]
    assert [e.offset for e in log.read(17, 3)] == [17, 18, 19] and log.count() == 30
    results = log.append(old[:5] + make(2, prefix="new"))
    assert [a.duplicate for a in results] == [True] * 5 + [False] * 2 and results[-1].offset == 32
    log.close()


def _append_from_process(path: str, worker: int, batches: int, ts: int) -> None:
    from etalage.events.log.embedded import EmbeddedEventLog

    log = EmbeddedEventLog(path)
    for b in range(batches):
        log.append(make(100, user=f"psn_{worker}", prefix=f"{b}-", ts=ts + b))
        # the other process's batch (a client retrying on another server process): stored once overall
        log.append(make(100, user=f"psn_{1 - worker}", prefix=f"{b}-", ts=ts + b))
    log.close()


def test_two_processes_append_to_one_embedded_log(tmp_path):
    """Offsets stay dense and unique, and neither process stores what the other already stored."""
    from etalage.events.log.embedded import EmbeddedEventLog

    path = str(tmp_path / "log.db")
    EmbeddedEventLog(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_append_from_process, args=(path, w, 20, int(time.time() * 1000))) for w in (0, 1)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = EmbeddedEventLog(path)
    events = read_all(log)
    assert [e.offset for e in events] == list(range(1, len(events) + 1))
    keys = [(e.user, e.event_id) for e in events]
    assert len(keys) == len(set(keys)) == 2 * 20 * 100
    log.close()


def test_recent_keys_window_and_runs():
    keys = RecentKeys(window_ms=1000, freeze_at=100)
    keys.add(range(0, 1000), recv_ms=10_000)  # frozen into sorted runs
    keys.add(range(5000, 5010), recv_ms=10_100)
    assert keys.contains_many([5, 999, 1000, 5003, -1]) == [True, True, False, True, False]
    keys.add([7], recv_ms=11_000)
    assert keys.contains_many([5]) == [True]  # one window later: still known
    keys.add([8], recv_ms=12_100)  # two and a half half-windows on: the first generation is gone
    assert keys.contains_many([5, 7, 8]) == [False, True, True]
