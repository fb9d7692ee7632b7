"""Payments background work: refunds (see ``refunds``) and polling payments left open."""

from __future__ import annotations

from typing import Any

from etalage.core import jobs
from etalage.db import Database
from etalage.payments import recovery, refunds  # noqa: F401 - registers the refund job

RECONCILE = "payments.reconcile"


@jobs.handler(RECONCILE, max_attempts=3, lease_seconds=300)
def reconcile(db: Database, payload: dict[str, Any]) -> None:
    """Poll the provider about payments open past their grace period (lost webhooks, timeouts, crashes)."""
    recovery.reconcile_open_payments(db)
