"""Domain events, published only after the transaction that caused them commits (zulip's rule).

The embedded default delivers to subscribers in this process. With ``ETALAGE_REDIS_URL`` set, events
also fan out through Redis pub/sub to every other server process, so e.g. a removed video leaves the
feed of shoppers served by any worker. Durable work (money, webhooks) goes through ``core.jobs`` instead:
this bus is for notifications that are safe to miss after a crash because state lives in the database.

Work that must be part of the change itself (ledger entries, a merchant webhook recorded in the outbox)
subscribes with ``subscribe_in_transaction``: it runs inside the publisher's transaction, before commit,
so it commits or rolls back with the change. Such a listener raising aborts the change.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.orm import Session

from etalage.db import on_commit

log = logging.getLogger("etalage.bus")
Subscriber = Callable[[str, dict[str, Any]], None]

_subscribers: dict[str, list[Subscriber]] = defaultdict(list)
TxSubscriber = Callable[[Session, str, dict[str, Any]], None]
_tx_subscribers: dict[str, list[TxSubscriber]] = defaultdict(list)
_origin = f"{os.getpid()}-{id(_subscribers)}"
_redis: Any = None
_CHANNEL = "etalage:bus"


def subscribe(topic: str, fn: Subscriber) -> None:
    """``topic`` may end with ``*`` to receive every topic with that prefix."""
    _subscribers[topic].append(fn)


def subscribe_in_transaction(topic: str, fn: TxSubscriber) -> None:
    """``fn(session, topic, payload)`` runs in the publisher's transaction (``*`` suffix as above)."""
    if fn not in _tx_subscribers[topic]:
        _tx_subscribers[topic].append(fn)


def unsubscribe(topic: str, fn: Subscriber) -> None:
    if fn in _subscribers.get(topic, []):
        _subscribers[topic].remove(fn)


def _deliver(topic: str, payload: dict[str, Any]) -> None:
    for pattern, fns in list(_subscribers.items()):
        if pattern == topic or (pattern.endswith("*") and topic.startswith(pattern[:-1])):
            for fn in list(fns):
                try:
                    fn(topic, payload)
                except Exception:
                    log.exception("subscriber of %s failed", topic)


def publish_now(topic: str, payload: dict[str, Any]) -> None:
    _deliver(topic, payload)
    if _redis is not None:
        try:
            _redis.publish(_CHANNEL, orjson.dumps({"o": _origin, "t": topic, "p": payload}))
        except Exception:
            log.exception("redis publish failed for %s", topic)


def wanted(topic: str) -> bool:
    """Whether anyone could receive ``topic`` (a subscriber here, or other processes through Redis), so a
    publisher can skip computing a payload nobody reads."""
    if _redis is not None:
        return True
    return any(
        fns and (pattern == topic or (pattern.endswith("*") and topic.startswith(pattern[:-1])))
        for pattern, fns in [*_subscribers.items(), *_tx_subscribers.items()]
    )


def publish(session: Session, topic: str, payload: dict[str, Any]) -> None:
    for pattern, fns in list(_tx_subscribers.items()):
        if pattern == topic or (pattern.endswith("*") and topic.startswith(pattern[:-1])):
            for fn in list(fns):
                fn(session, topic, payload)  # part of the change: an error here rolls it back
    on_commit(session, lambda: publish_now(topic, payload))


def connect_redis(url: str) -> None:
    """Fan events out across processes through Redis pub/sub."""
    global _redis
    import redis

    _redis = redis.Redis.from_url(url)
    pubsub = _redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(_CHANNEL)

    def listen() -> None:
        for message in pubsub.listen():
            try:
                data = orjson.loads(message["data"])
            except Exception:
                continue
            if data.get("o") != _origin:
                _deliver(data["t"], data["p"])

    threading.Thread(target=listen, name="etalage-bus-redis", daemon=True).start()
