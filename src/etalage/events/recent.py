"""Each user's latest events, in memory, for in-session interest (the feed asks on every request).

A tailing reader follows the log (so it sees every process's appends, on either backend) and keeps the
newest events of the most recently active users; it starts by loading the last ``warm_events`` of the
log. "Recent" is meant literally: a user idle for longer than the warm-up window has no in-session
history, which is what in-session interest needs. Lag is the log's wake-up time: immediate for appends
in this process, ~10 ms for other processes on the embedded log, JetStream's delivery time on NATS.

Other readers in the process that want every event from now on (the feed's online learner) ``follow``
this tail instead of reading and decoding the log again: each event is then read once per process.

Read-your-writes: the ingest API hands the history the events it appended (``add_appended``), which
shows them at once and lets the tail skip them when it reads them back; an append reported only by its
offsets (``note_appended``) makes ``recent`` wait (briefly) until the tail has read that far. Either way
the page asked for right after a POST of events sees them, however busy the tail's thread is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from etalage.events.log import EventLog, StoredEvent

log = logging.getLogger("etalage.events.recent")


class RecentHistory:
    def __init__(
        self,
        event_log: EventLog,
        *,
        per_user: int = 100,
        max_users: int = 200_000,
        warm_events: int = 200_000,
    ) -> None:
        self.log = event_log
        self.per_user = per_user
        self.max_users = max_users
        self.warm_events = warm_events
        self._users: OrderedDict[str, deque[StoredEvent]] = OrderedDict()
        self._lock = threading.Lock()
        self._next = 1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._caught_up = threading.Event()
        self._progress = threading.Condition()
        self._appended = 0  # the highest offset this process knows was appended (read-your-writes)
        self._listeners: list[Callable[[list[StoredEvent]], None]] = []
        self._read_upto = 0  # the newest offset the tail has added
        self._handed: set[int] = set()  # offsets this process added ahead of the tail (it skips them)

    @property
    def alive(self) -> bool:
        """Reading the log (not stopped)."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    @property
    def position(self) -> int:
        """The next offset the tail will read."""
        return self._next

    def start(self) -> RecentHistory:
        if self._thread is None:
            self._next = max(1, self.log.last_offset() - self.warm_events + 1)
            self._thread = threading.Thread(target=self._run, name="etalage-events-recent", daemon=True)
            self._thread.start()
            self._caught_up.wait(30)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self.log.read(self._next, 5000, wait=0.5)
            except Exception:
                log.exception("recent history: reading the event log failed")
                time.sleep(1)
                continue
            if batch:
                self._add(batch)
                with self._progress:
                    self._next = batch[-1].offset + 1
                    listeners = list(self._listeners)
                    self._progress.notify_all()
                for listener in listeners:
                    try:
                        listener(batch)
                    except Exception:
                        log.exception("recent history: a follower failed")
            if len(batch) < 5000:
                self._caught_up.set()

    def _add(self, batch: list[StoredEvent]) -> None:
        with self._lock:
            handed = self._handed
            for event in batch:
                if handed and event.offset in handed:
                    handed.discard(event.offset)  # added when this process appended it
                    continue
                self._ring(event.data["user"]).append(event)
            self._read_upto = batch[-1].offset

    def _ring(self, key: str) -> deque[StoredEvent]:
        users = self._users
        ring = users.get(key)
        if ring is None:
            ring = users[key] = deque(maxlen=self.per_user)
            if len(users) > self.max_users:
                users.popitem(last=False)
        else:
            users.move_to_end(key)
        return ring

    def add_appended(self, events: list[StoredEvent]) -> None:
        """Events this process has just appended: in the users' histories at once (read-your-writes without
        waiting for the tail to read them back); the tail skips them when it gets there."""
        with self._lock:
            if len(self._handed) > 1_000_000:  # the tail is not reading: wait for it instead of handing over
                if events:
                    self.note_appended(max(e.offset for e in events))
                return
            for event in events:
                if event.offset > self._read_upto:
                    self._handed.add(event.offset)
                    self._ring(event.data["user"]).append(event)

    def follow(self, listener: Callable[[list[StoredEvent]], None]) -> int:
        """Hand every batch this tail reads from now on to ``listener`` too (on the tail's thread: it must
        be quick, e.g. a queue's ``put``). Returns the offset of the first event the listener will get."""
        with self._progress:
            self._listeners.append(listener)
            return self._next

    def unfollow(self, listener: Callable[[list[StoredEvent]], None]) -> None:
        with self._progress:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def note_appended(self, offset: int) -> None:
        """``offset`` is in the log (appended by this process): ``recent`` answers only once it is read."""
        with self._progress:
            self._appended = max(self._appended, offset)

    def recent(self, user_key: str, limit: int = 50, *, wait: float = 0.5) -> list[StoredEvent]:
        """The user's newest events, newest first, including every event noted as appended (waiting up to
        ``wait`` s for the tail to read them; after that, what it has)."""
        if self._next <= self._appended and self._thread is not None:
            with self._progress:
                self._progress.wait_for(lambda: self._next > self._appended or self._stop.is_set(), wait)
        with self._lock:
            ring = self._users.get(user_key)
            if not ring:
                return []
            items = list(ring)
        items.reverse()
        return items[:limit]
