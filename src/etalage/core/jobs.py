"""A durable job queue in the database, with retries, backoff, leases and dead-lettering.

Domains register handlers with :func:`handler` and enqueue with :func:`enqueue` inside their own
transaction. ``etalage worker`` runs :class:`Worker`; the embedded default runs one in the server process.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.core.models import Job
from etalage.db import Database, on_commit, utcnow

log = logging.getLogger("etalage.jobs")

JobHandler = Callable[[Database, dict[str, Any]], None]


@dataclass(frozen=True)
class _Registered:
    fn: JobHandler
    max_attempts: int
    lease_seconds: float


_HANDLERS: dict[str, _Registered] = {}
_wakeup = threading.Event()


class RetryLater(Exception):
    """Raise from a handler to retry after ``delay`` seconds without counting it as an error."""

    def __init__(self, delay: float, reason: str = "") -> None:
        super().__init__(reason)
        self.delay = delay


def handler(
    kind: str, *, max_attempts: int = 8, lease_seconds: float = 300
) -> Callable[[JobHandler], JobHandler]:
    def register(fn: JobHandler) -> JobHandler:
        _HANDLERS[kind] = _Registered(fn, max_attempts, lease_seconds)
        return fn

    return register


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    delay_seconds: float = 0,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> Job | None:
    """Record a job in the caller's transaction. With ``dedupe_key``, a second enqueue is a no-op, also
    when another process enqueues the same key at the same moment (worker processes starting together)."""
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    reg = _HANDLERS.get(kind)
    job = Job(
        kind=kind,
        payload=payload,
        run_at=utcnow() + timedelta(seconds=delay_seconds),
        dedupe_key=dedupe_key,
        max_attempts=max_attempts or (reg.max_attempts if reg else 8),
    )
    if dedupe_key is None:
        session.add(job)
    else:
        try:  # the other process's row may commit between the check above and this insert
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            return None
    on_commit(session, _wakeup.set)
    return job


def schedule_slot(
    db: Database, kind: str, every: int, *, now: float | None = None, next_slot: bool = True
) -> None:
    """Enqueue the periodic job ``kind`` for the start of the next ``every``-second slot (or the current
    one): one job per slot by its dedupe key, however many processes schedule it."""
    every = max(1, every)
    slot = int((now or time.time()) // every) + (1 if next_slot else 0)
    try:
        with db.session() as s:
            job = enqueue(s, kind, {"slot": slot}, dedupe_key=f"{kind}@{every}:{slot}")
            if job is not None:
                job.run_at = datetime.fromtimestamp(slot * every, UTC)
    except IntegrityError:
        pass  # another process scheduled this slot first


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter, capped at 30 minutes."""
    return random.uniform(0.5, 1.0) * min(1800.0, 2.0**attempt)


def _claim(db: Database, limit: int) -> list[tuple[int, str, dict[str, Any], int]]:
    now = utcnow()
    with db.session() as s:
        stmt = (
            select(Job)
            .where(
                or_(
                    (Job.status == "queued") & (Job.run_at <= now),
                    (Job.status == "running") & (Job.locked_until < now),  # lease of a crashed worker
                )
            )
            .order_by(Job.run_at, Job.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        jobs = list(s.scalars(stmt))
        claimed = []
        for job in jobs:
            reg = _HANDLERS.get(job.kind)
            lease = reg.lease_seconds if reg else 300
            job.status = "running"
            job.locked_until = now + timedelta(seconds=lease)
            job.attempts += 1
            claimed.append((job.id, job.kind, dict(job.payload), job.attempts))
        return claimed


def _finish(
    db: Database, job_id: int, *, error: str | None = None, delay: float | None = None, counts: bool = True
) -> None:
    with db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return
        if error is None and delay is None:
            job.status, job.finished_at, job.locked_until = "done", utcnow(), None
            return
        if not counts:
            job.attempts -= 1
        job.last_error = error
        job.locked_until = None
        if counts and job.attempts >= job.max_attempts:
            job.status, job.finished_at = "dead", utcnow()
            log.error("job %s (%s) is dead after %s attempts: %s", job.id, job.kind, job.attempts, error)
        else:
            job.status = "queued"
            job.run_at = utcnow() + timedelta(
                seconds=delay if delay is not None else backoff_seconds(job.attempts)
            )


def run_pending(db: Database, *, limit: int = 20, kinds: set[str] | None = None) -> int:
    """Run the jobs that are due now; returns how many ran. Used by the worker and by tests."""
    ran = 0
    for job_id, kind, payload, attempts in _claim(db, limit):
        reg = _HANDLERS.get(kind)
        if reg is None or (kinds is not None and kind not in kinds):
            _finish(
                db, job_id, error=f"no handler for job kind {kind!r} in this process", delay=5, counts=False
            )
            continue
        try:
            reg.fn(db, payload)
        except RetryLater as exc:
            _finish(db, job_id, error=str(exc) or "retry later", delay=exc.delay, counts=False)
        except Exception as exc:
            log.warning("job %s (%s) attempt %s failed: %s", job_id, kind, attempts, exc)
            _finish(db, job_id, error="".join(traceback.format_exception_only(exc)).strip()[:2000])
        else:
            _finish(db, job_id)
        ran += 1
    return ran


def drain(db: Database, *, max_rounds: int = 100) -> int:
    """Run jobs until none is due (tests and the demo use this instead of a background thread)."""
    total = 0
    for _ in range(max_rounds):
        n = run_pending(db)
        total += n
        if n == 0:
            break
    return total


def reset_stuck(db: Database) -> None:
    with db.session() as s:
        s.execute(update(Job).where(Job.status == "running").values(status="queued", locked_until=None))


class Worker:
    """Polls for due jobs; wakes at once when this process enqueues one."""

    def __init__(self, db: Database, *, poll_seconds: float = 1.0, batch: int = 20) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="etalage-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        _wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                ran = run_pending(self.db, limit=self.batch)
            except Exception:
                log.exception("worker loop error")
                ran = 0
                time.sleep(self.poll_seconds)
            if ran == 0:
                _wakeup.wait(self.poll_seconds)
                _wakeup.clear()
