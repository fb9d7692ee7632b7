"""Merchants manage their webhook endpoints, read events and delivery attempts, and replay events.

Other domains publish on the bus; ``webhooks.outbox`` records what merchants subscribed to. Event types:
``outbox.EVENT_TYPES``. How to verify a delivery: ``webhooks.signing``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.core import jobs
from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.db import utcnow
from etalage.webhooks import signing
from etalage.webhooks.delivery import check_url
from etalage.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from etalage.webhooks.outbox import DELIVER_JOB, forget_no_endpoints, next_seq
from etalage.webhooks.schemas import DeliveryOut, EndpointPatch, EventOut
from etalage.webhooks.settings import webhook_settings

REPLAY_LIMIT = 10_000


def _endpoint(session: Session, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    e = session.get(WebhookEndpoint, endpoint_id)
    if e is None or e.merchant_id != merchant_id:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return e


def create_endpoint(
    session: Session, principal: Principal, merchant_id: str, url: str, event_types: list[str],
    description: str, enabled: bool,
) -> WebhookEndpoint:  # fmt: skip
    require_merchant(principal, merchant_id, write=True)
    count = session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.merchant_id == merchant_id)
    )
    if (count or 0) >= webhook_settings().max_endpoints_per_merchant:
        raise Conflict("This shop has as many webhook endpoints as it may; remove one first.")
    forget_no_endpoints(session, merchant_id)
    e = WebhookEndpoint(merchant_id=merchant_id, url=check_url(url), secret=signing.new_secret(),
                        event_types=sorted(set(event_types)), description=description, enabled=enabled,
                        created_by=principal.user_id)  # fmt: skip
    session.add(e)
    session.flush()
    return e


def list_endpoints(session: Session, principal: Principal, merchant_id: str) -> list[WebhookEndpoint]:
    require_merchant(principal, merchant_id)
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.merchant_id == merchant_id)
            .order_by(WebhookEndpoint.id)
        )
    )


def get_endpoint(
    session: Session, principal: Principal, merchant_id: str, endpoint_id: str
) -> WebhookEndpoint:
    require_merchant(principal, merchant_id)
    return _endpoint(session, merchant_id, endpoint_id)


def update_endpoint(
    session: Session, principal: Principal, merchant_id: str, endpoint_id: str, patch: EndpointPatch
) -> WebhookEndpoint:
    require_merchant(principal, merchant_id, write=True)
    e = _endpoint(session, merchant_id, endpoint_id)
    if patch.url is not None:
        e.url = check_url(patch.url)
    if patch.event_types is not None:
        e.event_types = sorted(set(patch.event_types))
    if patch.description is not None:
        e.description = patch.description
    if patch.enabled is not None:
        if patch.enabled and not e.enabled:
            jobs.enqueue(session, DELIVER_JOB, {"endpoint_id": e.id})  # what waited goes out now
        e.enabled = patch.enabled
    e.updated_at = utcnow()
    session.flush()
    return e


def rotate_secret(
    session: Session, principal: Principal, merchant_id: str, endpoint_id: str
) -> WebhookEndpoint:
    require_merchant(principal, merchant_id, write=True)
    e = _endpoint(session, merchant_id, endpoint_id)
    e.secret, e.updated_at = signing.new_secret(), utcnow()
    return e


def delete_endpoint(session: Session, principal: Principal, merchant_id: str, endpoint_id: str) -> None:
    require_merchant(principal, merchant_id, write=True)
    session.delete(_endpoint(session, merchant_id, endpoint_id))
    session.flush()


def list_events(
    session: Session, principal: Principal, merchant_id: str, params: PageParams, type_: str | None = None
) -> tuple[list[EventOut], str | None]:
    require_merchant(principal, merchant_id)
    stmt = select(WebhookEvent).where(WebhookEvent.merchant_id == merchant_id)
    if type_:
        stmt = stmt.where(WebhookEvent.type == type_)
    rows, cursor = paginate(session, stmt, WebhookEvent.id, params)
    by_event: dict[str, list[DeliveryOut]] = defaultdict(list)
    if rows:
        for d in session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.event_id.in_([r.id for r in rows]))
            .order_by(WebhookDelivery.id)
        ):
            by_event[d.event_id].append(
                DeliveryOut(endpoint_id=d.endpoint_id, status=d.status, attempts=d.attempts,
                            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                            last_status_code=d.last_status_code, last_error=d.last_error,
                            delivered_at=d.delivered_at)
            )  # fmt: skip
    out = [
        EventOut(id=r.id, type=r.type, ordering_key=r.ordering_key, created_at=r.created_at, data=r.data,
                 deliveries=by_event[r.id])
        for r in rows
    ]  # fmt: skip
    return out, cursor


def list_attempts(
    session: Session, principal: Principal, merchant_id: str, params: PageParams, *,
    event_id: str | None = None, endpoint_id: str | None = None,
) -> tuple[list[WebhookAttempt], str | None]:  # fmt: skip
    require_merchant(principal, merchant_id)
    stmt = select(WebhookAttempt).where(WebhookAttempt.merchant_id == merchant_id)
    if event_id:
        stmt = stmt.where(WebhookAttempt.event_id == event_id)
    if endpoint_id:
        stmt = stmt.where(WebhookAttempt.endpoint_id == endpoint_id)
    return paginate(session, stmt, WebhookAttempt.id, params)


def _requeue(session: Session, deliveries: list[WebhookDelivery]) -> int:
    now = utcnow()
    endpoints = set()
    for d in deliveries:
        # a replay goes to the back of its order's queue, after what is still waiting
        d.seq = next_seq(session, d.endpoint_id, d.ordering_key)
        d.status, d.next_attempt_at, d.locked_until = "pending", now, None
        session.flush()
        endpoints.add(d.endpoint_id)
    for endpoint_id in sorted(endpoints):
        jobs.enqueue(session, DELIVER_JOB, {"endpoint_id": endpoint_id})
    return len(deliveries)


def replay_event(
    session: Session, principal: Principal, merchant_id: str, event_id: str, endpoint_id: str | None = None
) -> int:
    """Send an event again (to one endpoint or every one it went to); receivers see the same event id."""
    require_merchant(principal, merchant_id, write=True)
    event = session.get(WebhookEvent, event_id)
    if event is None or event.merchant_id != merchant_id:
        raise NotFound(f"No webhook event {event_id}.")
    stmt = select(WebhookDelivery).where(WebhookDelivery.event_id == event_id).order_by(WebhookDelivery.id)
    if endpoint_id is not None:
        _endpoint(session, merchant_id, endpoint_id)
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    return _requeue(session, list(session.scalars(stmt)))


def replay_range(
    session: Session, principal: Principal, merchant_id: str, endpoint_id: str, since: datetime,
    until: datetime | None, event_types: list[str] | None,
) -> int:  # fmt: skip
    """Send again every event recorded for an endpoint between ``since`` and ``until``, in their order."""
    require_merchant(principal, merchant_id, write=True)
    _endpoint(session, merchant_id, endpoint_id)
    until = until or utcnow()
    if until <= since:
        raise InvalidInput("'until' must be after 'since'.", field="until")
    stmt = (
        select(WebhookDelivery)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookEvent.created_at >= since,
               WebhookEvent.created_at < until)
        .order_by(WebhookDelivery.id)
        .limit(REPLAY_LIMIT + 1)
    )  # fmt: skip
    if event_types and "*" not in event_types:
        stmt = stmt.where(WebhookEvent.type.in_(event_types))
    rows = list(session.scalars(stmt))
    if len(rows) > REPLAY_LIMIT:
        raise InvalidInput(
            f"At most {REPLAY_LIMIT} events per replay; choose a shorter range.", field="since"
        )
    return _requeue(session, rows)
