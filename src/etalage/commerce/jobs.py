"""The buying sweep: every ``payments_sweep_seconds``, release expired stock holds and settle open payments.

It re-enqueues itself for the next time slot (one job per slot, by dedupe key, however many processes
start it), so it keeps running wherever a job worker runs; the server enqueues it at start-up.
"""

from __future__ import annotations

import logging
from typing import Any

from etalage.config import get_settings
from etalage.core import jobs
from etalage.db import Database
from etalage.inventory.jobs import release_expired
from etalage.payments import recovery

SWEEP = "commerce.sweep"
log = logging.getLogger("etalage.commerce")


def schedule_sweep(db: Database, *, now: float | None = None, next_slot: bool = True) -> None:
    jobs.schedule_slot(db, SWEEP, get_settings().payments_sweep_seconds, now=now, next_slot=next_slot)


@jobs.handler(SWEEP, max_attempts=2, lease_seconds=600)
def sweep(db: Database, payload: dict[str, Any]) -> None:
    try:
        release_expired(db, {})
        recovery.reconcile_open_payments(db)
    finally:
        schedule_sweep(db)
