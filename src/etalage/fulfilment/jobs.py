"""Durable after-sale work: approving a return the merchant did not answer in time."""

from __future__ import annotations

from typing import Any

from etalage.core import jobs
from etalage.db import Database, utcnow
from etalage.fulfilment import returns
from etalage.fulfilment.models import ReturnRequest


@jobs.handler(returns.AUTO_APPROVE_JOB, max_attempts=10)
def auto_approve_return(db: Database, payload: dict[str, Any]) -> None:
    """Idempotent: a return answered meanwhile (or approved by an earlier run) is left alone; one whose
    deadline moved later waits until then."""
    with db.session() as s:
        ret = s.get(ReturnRequest, payload["return_id"])
        if ret is None or ret.status != "requested":
            return
        wait = (ret.answer_by - utcnow()).total_seconds()
        if wait > 0:
            raise jobs.RetryLater(wait, "the merchant still has time to answer")
        returns.auto_approve(s, ret.id)
