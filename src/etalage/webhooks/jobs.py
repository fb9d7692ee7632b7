"""Webhook jobs: a prompt delivery after each change that recorded events, and a sweep for retries.

The sweep re-enqueues itself for the next slot (one job per slot by dedupe key, however many processes
start it), so retries keep going wherever a job worker runs; the server enqueues it at start-up.
"""

from __future__ import annotations

from typing import Any

from etalage.core import jobs
from etalage.db import Database
from etalage.webhooks import outbox  # noqa: F401  (subscribes the outbox wherever jobs run)
from etalage.webhooks.delivery import deliver_due, purge_settled
from etalage.webhooks.outbox import DELIVER_JOB
from etalage.webhooks.settings import webhook_settings

SWEEP = "webhooks.sweep"


def schedule_sweep(db: Database, *, next_slot: bool = True) -> None:
    jobs.schedule_slot(db, SWEEP, webhook_settings().sweep_seconds, next_slot=next_slot)


@jobs.handler(DELIVER_JOB, max_attempts=3, lease_seconds=600)
def deliver(db: Database, payload: dict[str, Any]) -> None:
    # failures are not the job's: they are rescheduled on the delivery rows and retried by the sweep
    deliver_due(db, endpoint_id=payload.get("endpoint_id"))


@jobs.handler(SWEEP, max_attempts=2, lease_seconds=900)
def sweep(db: Database, payload: dict[str, Any]) -> None:
    try:
        deliver_due(db)
        purge_settled(db)
    finally:
        schedule_sweep(db)
