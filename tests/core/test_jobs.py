"""The durable job queue: visible only after commit, retried with backoff, dead-lettered, leases expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from etalage.core import jobs
from etalage.core.models import Job
from etalage.db import utcnow

calls: list[dict] = []


@jobs.handler("test.ok")
def _ok(db, payload):
    calls.append(payload)


@jobs.handler("test.flaky", max_attempts=3)
def _flaky(db, payload):
    raise RuntimeError("upstream down")


@pytest.fixture(autouse=True)
def _reset():
    calls.clear()


def test_job_runs_only_if_its_transaction_commits(db):
    with pytest.raises(ZeroDivisionError), db.session() as s:
        jobs.enqueue(s, "test.ok", {"n": 1})
        raise ZeroDivisionError("the change fails after enqueueing")
    with db.session() as s:
        jobs.enqueue(s, "test.ok", {"n": 2})
    assert jobs.drain(db) == 1
    assert calls == [{"n": 2}]
    with db.read() as s:
        assert s.scalar(select(Job.status)) == "done"


def test_dedupe_key_makes_enqueue_idempotent(db):
    with db.session() as s:
        assert jobs.enqueue(s, "test.ok", {"n": 1}, dedupe_key="k1") is not None
    with db.session() as s:
        assert jobs.enqueue(s, "test.ok", {"n": 1}, dedupe_key="k1") is None
    jobs.drain(db)
    assert calls == [{"n": 1}]


def test_failures_back_off_then_dead_letter(db):
    with db.session() as s:
        jobs.enqueue(s, "test.flaky", {})
    for attempt in range(1, 4):
        assert jobs.run_pending(db) == 1
        with db.session() as s:
            job = s.scalar(select(Job))
            assert job.attempts == attempt
            assert "upstream down" in job.last_error
            if attempt < 3:
                assert job.status == "queued" and job.run_at > utcnow()
                job.run_at = utcnow()  # skip the backoff wait
    with db.read() as s:
        assert s.scalar(select(Job.status)) == "dead"
    assert jobs.run_pending(db) == 0


def test_expired_lease_of_a_crashed_worker_is_reclaimed(db):
    with db.session() as s:
        job = jobs.enqueue(s, "test.ok", {"n": 3})
        s.flush()
        job.status, job.locked_until, job.attempts = "running", utcnow() - timedelta(seconds=1), 1
    assert jobs.drain(db) == 1
    assert calls == [{"n": 3}]


def test_processes_enqueueing_the_same_key_at_once_make_one_job_and_no_error(db):
    """Worker processes start together and each schedules the same periodic jobs: on PostgreSQL one of
    them used to die at start-up on the unique key."""
    import threading

    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def schedule() -> None:
        try:
            with db.session() as s:
                barrier.wait()
                outcomes.append(jobs.enqueue(s, "test.ok", {"n": 1}, dedupe_key="slot:42"))
        except Exception as exc:  # the assertion below names it
            outcomes.append(exc)

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    with db.read() as s:
        assert s.scalars(select(Job.dedupe_key).where(Job.dedupe_key == "slot:42")).all() == ["slot:42"]
