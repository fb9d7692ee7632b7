"""The payable sweep: every ``PAYABLE_EVERY`` seconds, commissions of orders past delivery + the return window
become payable. It re-enqueues itself for the next slot (one job per slot by dedupe key, however many
processes start it); the server enqueues it at start-up."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from etalage.affiliates import accrual
from etalage.core import jobs
from etalage.db import Database

SWEEP = "affiliates.payable"
PAYABLE_EVERY = 600


def schedule_sweep(db: Database, *, next_slot: bool = True) -> None:
    slot = int(time.time() // PAYABLE_EVERY) + (1 if next_slot else 0)
    try:
        with db.session() as s:
            job = jobs.enqueue(s, SWEEP, {"slot": slot}, dedupe_key=f"{SWEEP}@{PAYABLE_EVERY}:{slot}")
            if job is not None:
                job.run_at = datetime.fromtimestamp(slot * PAYABLE_EVERY, UTC)
    except IntegrityError:
        pass  # another process scheduled this slot first


@jobs.handler(SWEEP, max_attempts=2, lease_seconds=600)
def sweep(db: Database, payload: dict[str, Any]) -> None:
    try:
        while True:
            with db.session() as s:
                if accrual.make_payable_due(s) < 500:
                    break
    finally:
        schedule_sweep(db)
