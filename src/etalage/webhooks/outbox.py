"""Recording outbound events in the transaction of the change (an outbox), for every endpoint that wants them.

Subscribed with ``core.bus.subscribe_in_transaction``: the event row and its deliveries commit or roll back
with the order, shipment, return or payout that caused them, so a merchant is never told of a change that
did not happen, nor left untold of one that did. A job delivers them once the transaction commits.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from etalage.core import bus, jobs
from etalage.db import new_id, on_commit, utcnow
from etalage.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

EVENT_TYPES: tuple[str, ...] = (
    "order.created",
    "order.paid",
    "shipment.created",
    "shipment.delivered",
    "return.requested",
    "return.approved",
    "return.rejected",
    "return.received",
    "return.refunded",
    "payout.created",
    "payout.paid",
)
DELIVER_JOB = "webhooks.deliver"
_PRIVATE_FIELDS = {"user_id"}  # merchants get the order's id, not the shopper's account id
_JOBS_KEY = "webhooks.jobs"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in _PRIVATE_FIELDS}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # never let an odd payload value (a Decimal, an enum) abort the change it reports


def _merchant_of(payload: dict[str, Any]) -> str | None:
    # every published event this outbox takes names its merchant (order.*, shipment.*, return.*, payout.*)
    value = payload.get("merchant_id")
    return str(value) if value else None


def ordering_key(topic: str, payload: dict[str, Any], event_id: str) -> str:
    for field in ("order_id", "payout_id", "return_id", "shipment_id"):
        if payload.get(field):
            return str(payload[field])
    return event_id


def next_seq(session: Session, endpoint_id: str, key: str) -> int:
    last = session.scalar(
        select(func.max(WebhookDelivery.seq)).where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.ordering_key == key
        )
    )
    return int(last or 0) + 1


def _queued(session: Session) -> set[str]:
    """Endpoints given a delivery job in this transaction (one is enough). Kept with the transaction
    object: a session lives through several (checkout commits twice) and a retried one starts afresh."""
    tx = session.get_transaction()
    held = session.info.get(_JOBS_KEY)
    if held is None or held[0] is not tx:
        held = (tx, set())
        session.info[_JOBS_KEY] = held
    return held[1]


_we = WebhookEndpoint.__table__.c
# prebuilt: every order event of every merchant asks it, and most merchants have no endpoint
_ENDPOINTS_OF = select(_we.id, _we.event_types, _we.enabled).where(_we.merchant_id == bindparam("merchant"))


# Most shops have no webhook endpoint. Knowing that for a moment spares a read on every order event (two per
# purchase); a shop's new endpoint is heard of at once in the process that created it, and in the others
# within NO_ENDPOINTS_SECONDS (its first events may be up to that late to be recorded there).
NO_ENDPOINTS_SECONDS = 2.0
_without_endpoints: dict[str, float] = {}  # merchant id → monotonic time until which it is known to have none


def forget_no_endpoints(session: Session, merchant_id: str) -> None:
    """A shop is getting an endpoint: stop assuming it has none, now and again once that commits."""
    _without_endpoints.pop(merchant_id, None)
    on_commit(session, lambda: _without_endpoints.pop(merchant_id, None))


def record(session: Session, topic: str, payload: dict[str, Any]) -> None:
    if topic not in EVENT_TYPES:
        return
    merchant_id = _merchant_of(payload)
    if merchant_id is None:
        return
    if _without_endpoints.get(merchant_id, 0.0) > time.monotonic():
        return
    rows = session.connection().execute(_ENDPOINTS_OF, {"merchant": merchant_id}).all()
    if not rows:
        if len(_without_endpoints) > 100_000:
            _without_endpoints.clear()
        _without_endpoints[merchant_id] = time.monotonic() + NO_ENDPOINTS_SECONDS
        return
    endpoints = [e for e in rows if topic in e.event_types or "*" in e.event_types]
    if not endpoints:
        return
    now = utcnow()
    event_id = new_id("evt")
    key = ordering_key(topic, payload, event_id)
    session.add(WebhookEvent(id=event_id, merchant_id=merchant_id, type=topic, ordering_key=key,
                             data=_clean(payload), created_at=now))  # fmt: skip
    session.flush()
    queued = _queued(session)
    for e in endpoints:
        session.add(WebhookDelivery(event_id=event_id, endpoint_id=e.id, ordering_key=key,
                                    seq=next_seq(session, e.id, key), status="pending",
                                    next_attempt_at=now, created_at=now))  # fmt: skip
        if e.enabled and e.id not in queued:  # one prompt delivery job per endpoint and transaction
            queued.add(e.id)
            jobs.enqueue(session, DELIVER_JOB, {"endpoint_id": e.id})
    session.flush()


def subscribe() -> None:
    for topic in ("order.created", "order.paid", "shipment.*", "return.*", "payout.*"):
        bus.subscribe_in_transaction(topic, record)


subscribe()
