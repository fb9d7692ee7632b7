"""The payable sweep: every ``PAYABLE_EVERY`` seconds, commissions of orders past delivery + the return window
become payable. It re-enqueues itself for the next slot (one job per slot by dedupe key, however many
processes start it); the server enqueues it at start-up."""

from __future__ import annotations

from typing import Any

from etalage.affiliates import accrual
from etalage.core import jobs
from etalage.db import Database

SWEEP = "affiliates.payable"
PAYABLE_EVERY = 600


def schedule_sweep(db: Database, *, next_slot: bool = True) -> None:
    jobs.schedule_slot(db, SWEEP, PAYABLE_EVERY, next_slot=next_slot)


@jobs.handler(SWEEP, max_attempts=2, lease_seconds=600)
def sweep(db: Database, payload: dict[str, Any]) -> None:
    try:
        while True:
            with db.session() as s:
                if accrual.make_payable_due(s) < 500:
                    break
    finally:
        schedule_sweep(db)
