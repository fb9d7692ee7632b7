"""Delivering the outbox: signed POSTs, in order per order, retried with backoff, every attempt logged.

:func:`deliver_due` takes a clock (``now``), so the retry schedule can be driven by tests. Per endpoint and
ordering key (an order, a payout) only the oldest pending delivery is sent: event n+1 waits until n
succeeded (or was given up). A delivery is claimed with a short lease first, so two workers never send the
same one at once; the HTTP call runs outside any transaction. A failure retries after
``first_retry_seconds`` doubling up to ``max_backoff_seconds``; after ``retry_horizon_hours`` (72 h by
default) without success the delivery is dead (listed, replayable) and stops holding the queue.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from etalage.core.errors import InvalidInput
from etalage.db import Database, utcnow
from etalage.webhooks import signing
from etalage.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from etalage.webhooks.settings import webhook_settings

if TYPE_CHECKING:  # httpx (and the rich/pygments its CLI pulls in) is imported when a delivery is sent,
    import httpx  # not at every server start

log = logging.getLogger("etalage.webhooks")
LEASE_SECONDS = 120


class RefusedTarget(ValueError):
    pass


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified)  # fmt: skip


def check_url(url: str) -> str:
    """Refuse what is not an http(s) URL to a public host (SSRF), unless private targets are allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("A webhook URL is an http:// or https:// URL with a host.", field="url")
    if parts.username or parts.password:
        raise InvalidInput("A webhook URL carries no credentials; sign-in is by the signature.", field="url")
    if webhook_settings().allow_private_targets:
        return url
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
        raise InvalidInput("Webhook URLs must point to a public host.", field="url")
    try:
        if not _public(ipaddress.ip_address(host)):
            raise InvalidInput("Webhook URLs must point to a public host.", field="url")
    except ValueError:
        pass  # a name: checked again when resolved, at every delivery
    return url


def _resolve_public(url: str) -> None:
    """At delivery time, the name must still resolve to public addresses only (DNS can change)."""
    if webhook_settings().allow_private_targets:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(
            parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        )
    except OSError as exc:
        raise RefusedTarget(f"cannot resolve {parts.hostname}") from exc
    for info in infos:
        if not _public(ipaddress.ip_address(info[4][0])):
            raise RefusedTarget(f"{parts.hostname} resolves to a non-public address")


def backoff(attempts: int) -> float:
    s = webhook_settings()
    return float(min(s.max_backoff_seconds, s.first_retry_seconds * 2 ** max(0, attempts - 1)))


def body_of(event: WebhookEvent) -> bytes:
    return orjson.dumps(
        {"id": event.id, "type": event.type, "created_at": event.created_at.isoformat(), "data": event.data}
    )


def _claim(db: Database, now: datetime, endpoint_id: str | None, limit: int) -> list[int]:
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.ordering_key == WebhookDelivery.ordering_key,
        earlier.status == "pending",
        earlier.seq < WebhookDelivery.seq,
    )
    stmt = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
            WebhookEndpoint.enabled.is_(True),
            ~blocked,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if endpoint_id is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    claimed = []
    with db.session() as s:
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
        for delivery_id in s.scalars(stmt).all():
            done = s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                       or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now))
                .values(locked_until=now + timedelta(seconds=LEASE_SECONDS))
            ).rowcount  # fmt: skip
            if done == 1:
                claimed.append(delivery_id)
    return claimed


def _send(
    client: httpx.Client, endpoint: WebhookEndpoint, event: WebhookEvent, now: datetime
) -> tuple[int | None, str | None]:
    import httpx

    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Etalage-Webhooks/1",
        signing.SIGNATURE_HEADER: signing.sign(endpoint.secret, int(time.time()), body),  # when sent
        signing.EVENT_ID_HEADER: event.id,
        signing.EVENT_TYPE_HEADER: event.type,
    }
    try:
        _resolve_public(endpoint.url)
        resp = client.post(endpoint.url, content=body, headers=headers)
    except RefusedTarget as exc:
        return None, f"refused: {exc}"
    except httpx.TimeoutException:
        return None, "timeout"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return resp.status_code, None if 200 <= resp.status_code < 300 else f"HTTP {resp.status_code}"


def _deliver_one(db: Database, client: httpx.Client, delivery_id: int, now: datetime) -> bool:
    with db.read() as s:
        d = s.get(WebhookDelivery, delivery_id)
        if d is None:
            return False
        endpoint, event = s.get(WebhookEndpoint, d.endpoint_id), s.get(WebhookEvent, d.event_id)
        if endpoint is None or event is None:
            return False
        s.expunge_all()
    started = time.monotonic()
    status_code, error = _send(client, endpoint, event, now)
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = error is None
    horizon = timedelta(hours=webhook_settings().retry_horizon_hours)
    with db.session() as s:
        d = s.get(WebhookDelivery, delivery_id)
        if d is None:
            return False
        d.attempts += 1
        d.locked_until, d.last_status_code, d.last_error = None, status_code, error
        if ok:
            d.status, d.delivered_at = "delivered", now
        elif now - d.created_at >= horizon:
            d.status = "dead"
            log.warning(
                "webhook %s to %s given up after %s attempts: %s", d.event_id, endpoint.url, d.attempts, error
            )
        else:
            d.next_attempt_at = now + timedelta(seconds=backoff(d.attempts))
        s.add(WebhookAttempt(delivery_id=d.id, event_id=d.event_id, endpoint_id=d.endpoint_id,
                             merchant_id=endpoint.merchant_id, attempt=d.attempts, at=now,
                             status_code=status_code, duration_ms=duration_ms, error=error, succeeded=ok))  # fmt: skip
    return ok


def deliver_due(
    db: Database,
    *,
    now: datetime | None = None,
    endpoint_id: str | None = None,
    limit: int = 100,
    max_rounds: int = 50,
    client: httpx.Client | None = None,
) -> dict[str, int]:
    """Send every delivery that is due at ``now`` (heads of their queues, then the next ones as the heads
    succeed). Returns counts of ``delivered`` and ``failed`` attempts."""
    counts = {"delivered": 0, "failed": 0}
    own = client is None
    if client is None:
        import httpx

        client = httpx.Client(timeout=webhook_settings().timeout_seconds, follow_redirects=False)
    try:
        for _ in range(max_rounds):
            clock = now or utcnow()
            claimed = _claim(db, clock, endpoint_id, limit)
            if not claimed:
                break
            progressed = False
            for delivery_id in claimed:
                if _deliver_one(db, client, delivery_id, clock):
                    counts["delivered"] += 1
                    progressed = True
                else:
                    counts["failed"] += 1
            if not progressed:
                break  # what is left waits for its retry time
    finally:
        if own:
            client.close()
    return counts


def next_due(db: Database) -> datetime | None:
    with db.read() as s:
        return s.scalar(
            select(WebhookDelivery.next_attempt_at)
            .where(WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(1)
        )


def pending_count(db: Database, **where: Any) -> int:
    from sqlalchemy import func

    with db.read() as s:
        stmt = select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "pending")
        for k, v in where.items():
            stmt = stmt.where(and_(getattr(WebhookDelivery, k) == v))
        return int(s.scalar(stmt) or 0)


def purge_settled(db: Database, *, now: datetime | None = None, limit: int = 1000) -> int:
    """Delete events older than the retention whose deliveries all succeeded or were given up."""
    from sqlalchemy import delete

    cutoff = (now or utcnow()) - timedelta(days=webhook_settings().retention_days)
    open_ = exists().where(WebhookDelivery.event_id == WebhookEvent.id, WebhookDelivery.status == "pending")
    with db.session() as s:
        ids = list(
            s.scalars(select(WebhookEvent.id).where(WebhookEvent.created_at < cutoff, ~open_).limit(limit))
        )
        if ids:
            deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
            s.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
            s.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
            s.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids)))
    return len(ids)
