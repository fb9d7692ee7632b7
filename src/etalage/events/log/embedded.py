"""The embedded event log: one SQLite file of its own (WAL), an integer offset per event.

``events/log.db`` holds one table, ``events(off INTEGER PRIMARY KEY, recv, h, body)``: ``body`` is the
event as JSON, ``h`` its 64-bit de-duplication key, ``recv`` the server's receive time (epoch ms). Appends
go to the right edge of the rowid B-tree, so SQLite runs near its raw insert speed; de-duplication uses
:class:`~etalage.events.log.dedup.RecentKeys` in memory, rebuilt from ``h`` at start (no second index
to keep current on every insert).

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (only a power loss can take the
last commits back), the same promise the main database makes. Several server processes may append to
one file: an ``flock`` on ``log.db.lock`` orders them (the kernel wakes the next writer at once, where
SQLite's busy handler sleeps up to 100 ms), each reads the keys the others appended since its last turn
before checking its own, and offsets are assigned inside the write transaction, so readers never see a
gap that later fills.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from etalage.events.log import Appended, StoredEvent, dedup_keys, dumps, loads
from etalage.events.log.dedup import RecentKeys

log = logging.getLogger("etalage.events.log")


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
                "CREATE TABLE IF NOT EXISTS events (off INTEGER PRIMARY KEY, recv INTEGER NOT NULL, "
                "h INTEGER NOT NULL, body BLOB NOT NULL)"
            )
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

    def _rebuild_keys(self) -> None:
        """Load the keys of the last window's events (the log's rows are the durable copy)."""
        started = time.perf_counter()
        c = self._w
        last = c.execute("SELECT coalesce(max(off), 0) FROM events").fetchone()[0]
        lo = self._first_received_since(c, int(time.time() * 1000) - self._window_ms, last)
        n = 0
        cursor = c.execute("SELECT recv, h FROM events WHERE off >= ? ORDER BY off", (lo,))
        while rows := cursor.fetchmany(65_536):
            for recv, h in rows:
                self._keys.add((h,), recv)
            n += len(rows)
        self._seen = last
        if n:
            log.info("event log: %s recent keys loaded in %.2fs", n, time.perf_counter() - started)

    @staticmethod
    def _first_received_since(c: sqlite3.Connection, since_ms: int, last: int) -> int:
        """The first offset received at or after ``since_ms`` (recv grows with the offset): a bisection."""
        lo, hi = 1, last + 1
        while lo < hi:
            mid = (lo + hi) // 2
            row = c.execute("SELECT recv FROM events WHERE off >= ? ORDER BY off LIMIT 1", (mid,)).fetchone()
            if row is None or row[0] >= since_ms:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def trim(self, received_before_ms: int) -> int:
        """Delete events received before the given time (retention); the newest event always stays, so
        offsets keep growing. Returns how many were deleted."""
        with self._write_lock():
            c = self._w
            c.execute("BEGIN IMMEDIATE")
            try:
                last = c.execute("SELECT coalesce(max(off), 0) FROM events").fetchone()[0]
                upto = min(self._first_received_since(c, received_before_ms, last), last)
                deleted = c.execute("DELETE FROM events WHERE off < ?", (upto,)).rowcount
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
        return deleted

    def _catch_up(self, c: sqlite3.Connection) -> int:
        """Add the keys other processes appended since our last turn; return the newest offset."""
        rows = c.execute(
            "SELECT off, recv, h FROM events WHERE off > ? ORDER BY off", (self._seen,)
        ).fetchall()
        for _off, recv, h in rows:
            self._keys.add((h,), recv)
        if rows:
            self._seen = rows[-1][0]
        return self._seen

    def append(self, events: Sequence[dict[str, Any]]) -> list[Appended]:
        if not events:
            return []
        # Hashing and encoding happen before taking the lock, so they overlap other processes' appends.
        keys = dedup_keys(events)
        bodies = list(map(dumps, events))
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
                c.executemany(
                    "INSERT INTO events (off, recv, h, body) VALUES (?, ?, ?, ?)",
                    [(last + 1 + n, recv, keys[i], bodies[i]) for n, i in enumerate(todo)],
                )
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
            # Only once durable: a rolled-back key must not turn a retry into a "duplicate".
            self._keys.add((keys[i] for i in todo), recv)
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

    def read(self, from_offset: int, limit: int = 1000, *, wait: float = 0.0) -> list[StoredEvent]:
        conn = self._reader()
        query = "SELECT off, body FROM events WHERE off >= ? ORDER BY off LIMIT ?"
        args = (max(1, from_offset), limit)
        rows = conn.execute(query, args).fetchall()
        if not rows and wait > 0:
            deadline = time.monotonic() + wait
            while not rows:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with self._appended:
                    self._appended.wait(min(self.poll_seconds, remaining))
                rows = conn.execute(query, args).fetchall()
        return [StoredEvent(off, loads(body)) for off, body in rows]

    def last_offset(self) -> int:
        return self._reader().execute("SELECT coalesce(max(off), 0) FROM events").fetchone()[0]

    def count(self) -> int:
        return self._reader().execute("SELECT count(*) FROM events").fetchone()[0]

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
