"""What other domains call: purchases into the log, each user's recent events, the process's log.

- ``record_purchase(db, log, order)``: the server writes purchase events (clients cannot); called for the
  bus topic ``order.paid`` and by the durable job ``events.record_purchase``.
- ``recent_events(user_key, limit)``: the feed's in-session history, newest first, fresh within ~10 ms.
- ``event_log(settings)`` / ``engagement.engagement_for(session, item_ids)``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from etalage.core import bus
from etalage.db import Database
from etalage.events.consumer import Consumer
from etalage.events.ingest import epoch_ms
from etalage.events.log import Appended, EventLog, StoredEvent, open_event_log
from etalage.events.recent import RecentHistory

APPENDED_TOPIC = "events.appended"
ORDER_PAID_TOPIC = "order.paid"

_histories: dict[int, RecentHistory] = {}
_histories_lock = threading.Lock()
_default_log: EventLog | None = None


def event_log(settings: Any = None) -> EventLog:
    """The log of this process (the one the server started with, else the one ``settings`` name)."""
    if settings is None and _default_log is not None:
        return _default_log
    if settings is None:
        from etalage.config import get_settings

        settings = get_settings()
    return open_event_log(settings)


def set_default_log(log: EventLog | None) -> None:
    global _default_log
    _default_log = log


def event_log_is_default(log: EventLog | None) -> bool:
    return log is not None and log is _default_log


def notify_appended(log: EventLog, results: list[Appended], events: list[dict[str, Any]] | None = None) -> None:
    """Tell in-process (and, with Redis, other processes') listeners that the log grew. With the appended
    ``events`` themselves, this process's recent history shows them at once (no wait for its tail)."""
    stored = [r.offset for r in results if not r.duplicate and r.offset is not None]
    if stored:
        with _histories_lock:
            history = _histories.get(id(log))
        if history is not None and history.log is log:
            if events is not None and len(events) == len(results):
                history.add_appended(
                    [StoredEvent(r.offset, e) for r, e in zip(results, events, strict=True)
                     if not r.duplicate and r.offset is not None]  # fmt: skip
                )
            else:
                history.note_appended(max(stored))  # the next recent_events of this process waits for them
        bus.publish_now(
            APPENDED_TOPIC,
            {"log": log.name, "first_offset": min(stored), "last_offset": max(stored), "count": len(stored)},
        )


_consumer_factories: list[Callable[[EventLog, Database], Consumer]] = []


def register_consumer(factory: Callable[[EventLog, Database], Consumer]) -> None:
    """Another domain's durable consumer of the log (registered when its ``jobs`` module is imported)."""
    if factory not in _consumer_factories:
        _consumer_factories.append(factory)


def consumers(log: EventLog, db: Database) -> list[Consumer]:
    """Every durable consumer: this domain's and the registered ones. They run once per deployment, in
    the server's in-process worker or ``etalage events consume``, never once per web process: each reads
    every event, and their row lock lets only one process apply a batch anyway."""
    from etalage.events import engagement

    return [engagement.consumer(log, db), *(factory(log, db) for factory in _consumer_factories)]


# --- recent history (the feed's in-session interest) ----------------------------------------------------


def recent_history(log: EventLog | None = None) -> RecentHistory:
    log = log or event_log()
    with _histories_lock:
        history = _histories.get(id(log))
        if history is None or history.log is not log:  # an id can be reused once a log is gone
            if history is not None:
                history.stop()
            history = _histories[id(log)] = RecentHistory(log)
    return history.start()


def recent_events(user_key: str, limit: int = 50, *, log: EventLog | None = None) -> list[StoredEvent]:
    """The user's newest events (by pseudonymous key), newest first."""
    return recent_history(log).recent(user_key, limit)


def stop_recent_histories() -> None:
    with _histories_lock:
        for history in _histories.values():
            history.stop()
        _histories.clear()


# --- purchases ------------------------------------------------------------------------------------------


def _purchase_event_id(secret: str, order_id: str, line: int) -> str:
    # Deterministic, so a repeated notification is a duplicate; keyed, so the log does not carry the
    # order id (which commerce could join back to a person after the pseudonym is erased).
    return hmac.new(secret.encode(), f"purchase:{order_id}:{line}".encode(), hashlib.sha256).hexdigest()[:32]


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def purchase_events(order: dict[str, Any], user_key: str, *, secret: str) -> list[dict[str, Any]]:
    paid = epoch_ms(_as_datetime(order["paid_at"]))
    now = int(time.time() * 1000)
    events = []
    for line, item in enumerate(order.get("items") or []):
        event: dict[str, Any] = {
            "type": "purchase",
            "event_id": _purchase_event_id(secret, str(order["order_id"]), line),
            "user": user_key,
            "ts": paid,
            "client_ts": paid,
            "recv": now,
            "product_id": item["product_id"],
            "quantity": int(item.get("quantity") or 1),
            "unit_amount": int(item.get("unit_amount") or 0),
            "currency": item.get("currency"),
            "merchant_id": order.get("merchant_id"),
            "region": order.get("region"),
        }
        for key, source in (
            ("variant_id", item.get("variant_id")),
            # where this line was bought from (commerce gives it per line, and per order)
            ("video_id", item.get("source_video_id") or order.get("source_video_id")),
            ("live_room_id", item.get("source_live_room_id") or order.get("source_live_room_id")),
        ):
            if source:
                event[key] = source
        events.append({k: v for k, v in event.items() if v is not None})
    return events


def record_purchase(db: Database, log: EventLog, order: dict[str, Any], *, secret: str) -> list[Appended]:
    """Append one purchase event per order line for the paying user's pseudonymous key (idempotent)."""
    from etalage.accounts import service as accounts

    user_key = accounts.recent_pseudonym(order["user_id"])  # the buyer's checkout request just resolved it
    if user_key is None:
        with db.read() as s:  # a read: the key exists for nearly everyone; a write waits for the writer lock
            user_key = accounts.existing_pseudonym(s, order["user_id"])
    if user_key is None:
        with db.session() as s:
            user_key = accounts.pseudonym_for(s, order["user_id"])
    purchases = purchase_events(order, user_key, secret=secret)
    results = log.append(purchases)
    notify_appended(log, results, purchases)
    return results
