"""Durable event work: a purchase whose bus notification could not be written goes through here."""

from __future__ import annotations

from typing import Any

from etalage.config import get_settings
from etalage.core import jobs
from etalage.db import Database
from etalage.events import service


@jobs.handler("events.record_purchase", max_attempts=20)
def record_purchase(db: Database, payload: dict[str, Any]) -> None:
    """Payload: the ``order.paid`` bus payload. Commerce may also enqueue it in its own transaction."""
    settings = get_settings()
    service.record_purchase(db, service.event_log(), payload, secret=settings.secret_key)
