"""The embedded event log: one SQLite file of its own (WAL), an integer offset per event.

``events/log.db`` holds one table, ``batches(first INTEGER PRIMARY KEY, n, recv, keys, body)``: one row per
appended batch, holding events ``first`` to ``first + n - 1``. ``body`` is the batch as a JSON array,
``keys`` the events' 64-bit de-duplication keys (int64 array), ``recv`` the server's receive time (epoch
ms). A row per batch, not per event, makes an append one insert and a read one decode per batch (measured:
appends 175,000 → 360,000 events/s, reads 3.4 → 0.9 µs an event, which every tailing reader pays).
Appends go to the right edge of the rowid B-tree; de-duplication uses
:class:`~etalage.events.log.dedup.RecentKeys` in memory, rebuilt from ``keys`` at start (no second index
to keep current on every insert). A log written by the earlier one-row-per-event layout is converted on
first open.

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (only a power loss can take the
last commits back), the same promise the main database makes; a batch is one row, stored whole or not at
all. Several server processes may append to one file: an ``flock`` on ``log.db.lock`` orders them (the
kernel wakes the next writer at once, where SQLite's busy handler sleeps up to 100 ms), each reads the
keys the others appended since its last turn before checking its own, and offsets are assigned inside
the write transaction, so readers never see a gap that later fills.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import sqlite3
import struct
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from etalage.events.log import Appended, StoredEvent, dedup_keys, dumps, loads
from etalage.events.log.dedup import RecentKeys

log = logging.getLogger("etalage.events.log")
_KEYS = np.dtype("<i8")  # a batch's keys: little-endian int64, whatever the machine
_KEY = struct.Struct("<q")


class EmbeddedEventLog:
    name = "embedded"
    # How often a reader waiting for new events looks for other processes' appends; appends made in
    # this process wake it at once.
    poll_seconds = 0.01
    checkpoint_seconds = 0.25

    def __init__(self, path: Path | str, *, dedup_window: float = 90_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._window_ms = max(1, int(dedup_window * 1000))
        self._keys = RecentKeys(self._window_ms)
        self._seen = 0  # the newest offset whose key is in self._keys
        self._lock = threading.Lock()
        self._lockfile = open(self.path.with_name(self.path.name + ".lock"), "a+b")  # noqa: SIM115
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._appended = threading.Condition()
        self._closed = False
        self._w = self._connect(cache_kib=65_536)
        # Checkpoints (copying the WAL into the database file, with an fsync) run in a thread of their
        # own instead of inside whichever append crosses the threshold: appends stay ~1 ms at p99 instead
        # of stalling for the fsync. The high automatic threshold is only a safety net.
        self._w.execute("PRAGMA wal_autocheckpoint=20000")
        self._w.execute("PRAGMA journal_size_limit=67108864")  # the WAL file shrinks back after a burst
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="etalage-events-checkpoint", daemon=True
        )
        with self._write_lock():
            self._w.execute(
                "CREATE TABLE IF NOT EXISTS batches (first INTEGER PRIMARY KEY, n INTEGER NOT NULL, "
                "recv INTEGER NOT NULL, keys BLOB NOT NULL, body BLOB NOT NULL)"
            )
            self._convert_event_rows()
            self._rebuild_keys()
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        conn = self._connect(cache_kib=2_048)
        try:
            while not self._closed:
                time.sleep(self.checkpoint_seconds)
                with contextlib.suppress(sqlite3.OperationalError):  # busy: another process is at it
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    def _connect(self, cache_kib: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA cache_size=-{cache_kib}")
        return conn

    def _write_lock(self) -> _WriteLock:
        return _WriteLock(self._lock, self._lockfile)

    # --- append ---------------------------------------------------------------------------------------

    def _convert_event_rows(self) -> None:
        """A log from the one-row-per-event layout: move its rows into batches of one, once."""
        c = self._w
        if c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone() is None:
            return
        started = time.perf_counter()
        c.execute("BEGIN IMMEDIATE")
        try:
            cursor = c.execute("SELECT off, recv, h, body FROM events ORDER BY off")
            n = 0
            while rows := cursor.fetchmany(65_536):
                c.executemany(
                    "INSERT INTO batches (first, n, recv, keys, body) VALUES (?, 1, ?, ?, ?)",
                    [(off, recv, _KEY.pack(h), b"[" + bytes(body) + b"]") for off, recv, h, body in rows],
                )
                n += len(rows)
            c.execute("DROP TABLE events")
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        log.info("event log: %s events converted to the batch layout in %.1fs", n, time.perf_counter() - started)

    @staticmethod
    def _last(c: sqlite3.Connection) -> int:
        row = c.execute("SELECT first + n - 1 FROM batches ORDER BY first DESC LIMIT 1").fetchone()
        return row[0] if row else 0

    def _rebuild_keys(self) -> None:
        """Load the keys of the last window's events (the log's rows are the durable copy)."""
        started = time.perf_counter()
        c = self._w
        last = self._last(c)
        lo = self._first_received_since(c, int(time.time() * 1000) - self._window_ms)
        n = 0
        cursor = c.execute("SELECT recv, keys FROM batches WHERE first >= ? ORDER BY first", (lo,))
        while rows := cursor.fetchmany(4096):
            for recv, keys in rows:
                batch = np.frombuffer(keys, dtype=_KEYS).tolist()
                self._keys.add(batch, recv)
                n += len(batch)
        self._seen = last
        if n:
            log.info("event log: %s recent keys loaded in %.2fs", n, time.perf_counter() - started)

    @staticmethod
    def _first_received_since(c: sqlite3.Connection, since_ms: int) -> int:
        """The first offset of the first batch received at or after ``since_ms`` (recv grows with the
        offset; a bisection over the batches' offsets). Past the end when there is none."""
        row = c.execute("SELECT min(first), max(first) FROM batches").fetchone()
        if row[0] is None:
            return 1
        lo, hi = row[0], row[1] + 1
        while lo < hi:
            mid = (lo + hi) // 2
            found = c.execute(
                "SELECT first, recv FROM batches WHERE first >= ? ORDER BY first LIMIT 1", (mid,)
            ).fetchone()
            if found is None or found[1] >= since_ms:
                hi = mid
            else:
                lo = found[0] + 1
        found = c.execute("SELECT first FROM batches WHERE first >= ? ORDER BY first LIMIT 1", (lo,)).fetchone()
        return found[0] if found else row[1] + 1

    def trim(self, received_before_ms: int) -> int:
        """Delete events received before the given time (retention); the newest batch always stays, so
        offsets keep growing. Returns how many were deleted."""
        with self._write_lock():
            c = self._w
            c.execute("BEGIN IMMEDIATE")
            try:
                newest = c.execute("SELECT max(first) FROM batches").fetchone()[0] or 0
                upto = min(self._first_received_since(c, received_before_ms), newest)
                deleted = c.execute("SELECT coalesce(sum(n), 0) FROM batches WHERE first < ?", (upto,)).fetchone()[0]
                c.execute("DELETE FROM batches WHERE first < ?", (upto,))
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
        return deleted

    def _catch_up(self, c: sqlite3.Connection) -> int:
        """Add the keys other processes appended since our last turn; return the newest offset."""
        rows = c.execute(
            "SELECT first, n, recv, keys FROM batches WHERE first > ? ORDER BY first", (self._seen,)
        ).fetchall()
        for _first, _n, recv, keys in rows:
            self._keys.add(np.frombuffer(keys, dtype=_KEYS).tolist(), recv)
        if rows:
            self._seen = rows[-1][0] + rows[-1][1] - 1
        return self._seen

    def append(self, events: Sequence[dict[str, Any]]) -> list[Appended]:
        if not events:
            return []
        # Hashing happens before taking the lock, so it overlaps other processes' appends.
        keys = dedup_keys(events)
        recv = int(time.time() * 1000)
        results: list[Appended | None] = [None] * len(events)
        same_batch: list[tuple[int, int]] = []
        if len(set(keys)) == len(keys):  # the usual batch: no event twice
            unique: list[int] = list(range(len(keys)))
        else:
            first_of: dict[int, int] = {}
            unique = []
            for i, key in enumerate(keys):
                j = first_of.setdefault(key, i)
                if j == i:
                    unique.append(i)
                else:
                    same_batch.append((i, j))

        with self._write_lock():
            c = self._w
            c.execute("BEGIN IMMEDIATE")
            try:
                last = self._catch_up(c)
                seen = self._keys.contains_many([keys[i] for i in unique])
                if any(seen):
                    todo = [i for i, known in zip(unique, seen, strict=True) if not known]
                    for i, known in zip(unique, seen, strict=True):
                        if known:
                            results[i] = Appended(None, True)
                else:
                    todo = unique
                stored_keys = [keys[i] for i in todo]
                if todo:
                    body = dumps(list(events) if len(todo) == len(events) else [events[i] for i in todo])
                    c.execute(
                        "INSERT INTO batches (first, n, recv, keys, body) VALUES (?, ?, ?, ?, ?)",
                        (last + 1, len(todo), recv, np.asarray(stored_keys, dtype=_KEYS).tobytes(), body),
                    )
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
            # Only once durable: a rolled-back key must not turn a retry into a "duplicate".
            self._keys.add(stored_keys, recv)
            self._seen = last + len(todo)
        for n, i in enumerate(todo, start=last + 1):
            results[i] = Appended(n, False)
        for i, j in same_batch:
            first = results[j]
            assert first is not None
            results[i] = Appended(first.offset, True)
        if todo:
            with self._appended:
                self._appended.notify_all()
        return results  # type: ignore[return-value]

    async def append_async(self, events: Sequence[dict[str, Any]]) -> list[Appended]:
        return await asyncio.get_running_loop().run_in_executor(None, self.append, events)

    # --- read -----------------------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(cache_kib=16_384)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _fetch(self, conn: sqlite3.Connection, from_offset: int, limit: int) -> list[StoredEvent]:
        # The batch holding from_offset (a read may start inside one), then the following ones; a reader
        # waiting at the end decodes nothing.
        row = conn.execute(
            "SELECT first, n FROM batches WHERE first <= ? ORDER BY first DESC LIMIT 1", (from_offset,)
        ).fetchone()
        start = row[0] if row and row[0] + row[1] > from_offset else from_offset
        out: list[StoredEvent] = []
        cursor = conn.execute("SELECT first, body FROM batches WHERE first >= ? ORDER BY first", (start,))
        while len(out) < limit and (rows := cursor.fetchmany(8)):
            for first, body in rows:
                events = loads(body)
                skip = max(0, from_offset - first)
                take = events[skip : skip + limit - len(out)]
                out.extend(map(StoredEvent, range(first + skip, first + skip + len(take)), take))
                if len(out) >= limit:
                    break
        cursor.close()
        return out

    def read(self, from_offset: int, limit: int = 1000, *, wait: float = 0.0) -> list[StoredEvent]:
        conn = self._reader()
        from_offset = max(1, from_offset)
        events = self._fetch(conn, from_offset, limit)
        if not events and wait > 0:
            deadline = time.monotonic() + wait
            while not events:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with self._appended:
                    self._appended.wait(min(self.poll_seconds, remaining))
                events = self._fetch(conn, from_offset, limit)
        return events

    def last_offset(self) -> int:
        return self._last(self._reader())

    def count(self) -> int:
        return self._reader().execute("SELECT coalesce(sum(n), 0) FROM batches").fetchone()[0]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._w.close()
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.ProgrammingError):  # another thread may still use it
                    conn.close()
            self._readers.clear()
        self._lockfile.close()


class _WriteLock:
    """This process's lock, then the file lock that orders appends across processes."""

    def __init__(self, lock: threading.Lock, lockfile: Any) -> None:
        self._lock, self._file = lock, lockfile

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._lock.release()
