"""The release sweep: every ``RELEASE_EVERY`` seconds, orders past delivery + their return window become
payable. It re-enqueues itself for the next slot (one job per slot by dedupe key, however many processes
start it); the server enqueues it at start-up."""

from __future__ import annotations

from typing import Any

from etalage.core import jobs
from etalage.db import Database
from etalage.ledger import postings

RELEASE = "ledger.release"
RELEASE_EVERY = 600


def schedule_release(db: Database, *, next_slot: bool = True) -> None:
    jobs.schedule_slot(db, RELEASE, RELEASE_EVERY, next_slot=next_slot)


@jobs.handler(RELEASE, max_attempts=2, lease_seconds=600)
def release(db: Database, payload: dict[str, Any]) -> None:
    try:
        while True:
            with db.session() as s:
                if postings.release_due(s) < 500:
                    break
    finally:
        schedule_release(db)
