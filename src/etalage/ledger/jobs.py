"""The release sweep: every ``RELEASE_EVERY`` seconds, orders past delivery + their return window become
payable. It re-enqueues itself for the next slot (one job per slot by dedupe key, however many processes
start it); the server enqueues it at start-up."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from etalage.core import jobs
from etalage.db import Database
from etalage.ledger import postings

RELEASE = "ledger.release"
RELEASE_EVERY = 600


def schedule_release(db: Database, *, next_slot: bool = True) -> None:
    slot = int(time.time() // RELEASE_EVERY) + (1 if next_slot else 0)
    try:
        with db.session() as s:
            job = jobs.enqueue(s, RELEASE, {"slot": slot}, dedupe_key=f"{RELEASE}@{RELEASE_EVERY}:{slot}")
            if job is not None:
                job.run_at = datetime.fromtimestamp(slot * RELEASE_EVERY, UTC)
    except IntegrityError:
        pass  # another process scheduled this slot first


@jobs.handler(RELEASE, max_attempts=2, lease_seconds=600)
def release(db: Database, payload: dict[str, Any]) -> None:
    try:
        while True:
            with db.session() as s:
                if postings.release_due(s) < 500:
                    break
    finally:
        schedule_release(db)
