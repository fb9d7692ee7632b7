"""Consumers of the event log: read by offset, apply in the main database, commit the offset with the effects.

``Consumer.poll`` reads the next events after the committed position, then, in one transaction, locks
the consumer's row, checks nobody moved it meanwhile, applies the events and moves it. So a crash at any
point either applied a batch and its offset, or neither; two processes running the same consumer never
both apply a batch; and ``seek`` (or ``reset`` with the consumer's state cleared) replays from any point.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from etalage.db import Database, insert_unless_present, utcnow
from etalage.events.log import EventLog, StoredEvent
from etalage.events.metrics import CONSUMER_LAG
from etalage.events.models import ConsumerOffset

log = logging.getLogger("etalage.events.consumer")
Handler = Callable[[Session, list[StoredEvent]], None]
Resetter = Callable[[Session], None]
_INSERT_IGNORE = insert_unless_present(ConsumerOffset.__table__, ["name"])


def _insert_ignore(session: Session):  # type: ignore[no-untyped-def]
    return _INSERT_IGNORE[session.get_bind().dialect.name]


class Consumer:
    def __init__(
        self,
        name: str,
        event_log: EventLog,
        db: Database,
        handle: Handler,
        *,
        reset_state: Resetter | None = None,
        batch: int = 2000,
    ) -> None:
        self.name = name
        self.log = event_log
        self.db = db
        self.handle = handle
        self.reset_state = reset_state
        self.batch = batch

    def _row(self, session: Session) -> ConsumerOffset:
        row = session.scalar(select(ConsumerOffset).where(ConsumerOffset.name == self.name).with_for_update())
        if row is None:
            # two processes (or a test's servers) may start the same consumer at once: whoever inserts
            # second gets nothing inserted and locks the winner's row instead
            session.execute(_insert_ignore(session).values(name=self.name, position=0, updated_at=utcnow()))
            row = session.scalar(
                select(ConsumerOffset).where(ConsumerOffset.name == self.name).with_for_update()
            )
        return row

    def position(self) -> int:
        """The last offset whose effects are committed (0: nothing yet)."""
        with self.db.read() as s:
            value = s.scalar(select(ConsumerOffset.position).where(ConsumerOffset.name == self.name))
        return value or 0

    def seek(self, offset: int) -> None:
        """Make the next poll start at ``offset`` (the state is left as is: handlers are idempotent)."""
        with self.db.session() as s:
            row = self._row(s)
            row.position, row.updated_at = max(0, offset - 1), utcnow()

    def reset(self) -> None:
        """Forget the derived state and start again from the first event (a full rebuild)."""
        with self.db.session() as s:
            row = self._row(s)
            if self.reset_state is not None:
                self.reset_state(s)
            row.position, row.updated_at = 0, utcnow()

    def poll(self, *, wait: float = 0.0) -> int:
        """Apply the next batch, if any; returns how many events were applied."""
        start = self.position()
        events = self.log.read(start + 1, self.batch, wait=wait)
        if not events:
            return 0
        with self.db.session() as s:
            row = self._row(s)
            if row.position != start:  # another process got there first; resume from its position
                return 0
            self.handle(s, events)
            row.position, row.updated_at = events[-1].offset, utcnow()
        return len(events)

    def run_until_caught_up(self) -> int:
        total = 0
        while n := self.poll():
            total += n
        return total

    def run(self, stop: threading.Event, *, wait: float = 0.5) -> None:
        last = self.log.last_offset()
        if self.position() > last:
            log.warning(
                "consumer %s is at offset %s but the log ends at %s: the log was replaced; run "
                "'etalage events replay %s' to rebuild from it",
                self.name,
                self.position(),
                last,
                self.name,
            )
        checked = 0.0
        while not stop.is_set():
            try:
                self.poll(wait=wait)
                if time.monotonic() - checked > 5:  # the lag, for /metrics, now and then
                    checked = time.monotonic()
                    CONSUMER_LAG.labels(self.name).set(max(0, self.log.last_offset() - self.position()))
            except Exception:
                log.exception("consumer %s failed; retrying", self.name)
                stop.wait(2.0)


def forget(db: Database, name: str) -> None:
    with db.session() as s:
        s.execute(delete(ConsumerOffset).where(ConsumerOffset.name == name))


class ConsumerThreads:
    """Runs consumers in background threads (the server's in-process worker, or ``etalage events consume``)."""

    def __init__(self, consumers: list[Consumer]) -> None:
        self.consumers = consumers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _run(self, consumer: Consumer) -> None:
        while not self._stop.is_set():
            try:
                consumer.run(self._stop)
            except Exception as exc:  # run() asks the log first: an outage must not end the thread
                log.warning("consumer %s stopped (%s); restarting", consumer.name, exc.__class__.__name__)
                self._stop.wait(2.0)

    def start(self) -> None:
        for consumer in self.consumers:
            thread = threading.Thread(
                target=self._run, args=(consumer,), name=f"etalage-consumer-{consumer.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
