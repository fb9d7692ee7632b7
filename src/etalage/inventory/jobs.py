"""Background work: give back stock held by checkouts that were never paid."""

from __future__ import annotations

from typing import Any

from etalage.core import jobs
from etalage.db import Database
from etalage.inventory import stock

RELEASE_EXPIRED = "inventory.release_expired"


@jobs.handler(RELEASE_EXPIRED, max_attempts=3, lease_seconds=120)
def release_expired(db: Database, payload: dict[str, Any]) -> None:
    """Idempotent: only reservations still active and past their expiry change, each exactly once."""
    for _ in range(20):  # in batches, so one transaction never holds many rows for long
        with db.session() as session:
            if stock.release_expired(session, limit=200) < 200:
                break
