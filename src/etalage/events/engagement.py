"""The engagement consumer: interaction counts per video, live room, product and creator.

Analytics and the feed read them (``engagement_for``). Idempotent twice over: the consumer commits its
offset with the counts, and every row remembers the newest event applied to it, so replaying events a
row has already counted (``Consumer.seek`` to an earlier offset) changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from etalage.db import Database, utcnow
from etalage.events.consumer import Consumer
from etalage.events.log import EventLog, StoredEvent
from etalage.events.models import ItemEngagement

NAME = "engagement"
COUNTERS = [
    "impressions",
    "views",
    "completions",
    "watch_ms",
    "likes",
    "shares",
    "comments",
    "follows",
    "clicks",
    "add_to_carts",
    "purchases",
    "units_sold",
    "skips",
    "not_interested",
    "reports",
]
_SIMPLE = {
    "impression": "impressions",
    "view_start": "views",
    "share": "shares",
    "comment": "comments",
    "skip": "skips",
    "not_interested": "not_interested",
    "report": "reports",
}
_CHUNK = 500


def _media(d: dict[str, Any]) -> tuple[str, str] | None:
    if "video_id" in d:
        return d["video_id"], "video"
    if "live_room_id" in d:
        return d["live_room_id"], "live_room"
    return None


def effects(event: StoredEvent) -> list[tuple[str, str, str, int]]:
    """(item id, kind, counter, amount) for one event."""
    d = event.data
    kind = d["type"]
    media = _media(d)
    out: list[tuple[str, str, str, int]] = []
    if kind in _SIMPLE:
        target = media or ((d["product_id"], "product") if "product_id" in d else None)
        if target:
            out.append((*target, _SIMPLE[kind], 1))
    elif kind == "view_end" and media:
        out.append((*media, "watch_ms", int(d.get("dwell_ms", 0))))
        if d.get("watch_ratio", 0) >= 0.9:
            out.append((*media, "completions", 1))
    elif kind == "like" and media:
        out.append((*media, "likes", -1 if d.get("undo") else 1))
    elif kind == "follow":
        out.append((d["creator_id"], "creator", "follows", -1 if d.get("undo") else 1))
    elif kind in ("product_click", "add_to_cart", "purchase"):
        counter = {"product_click": "clicks", "add_to_cart": "add_to_carts", "purchase": "purchases"}[kind]
        targets = [(d["product_id"], "product")] + ([media] if media else [])
        for target in targets:
            out.append((*target, counter, 1))
            if kind == "purchase":
                out.append((*target, "units_sold", int(d.get("quantity", 1))))
    return out


def apply(session: Session, events: list[StoredEvent]) -> None:
    touched: dict[str, list[tuple[int, str, str, int]]] = defaultdict(list)
    for event in events:
        for item_id, kind, counter, amount in effects(event):
            touched[item_id].append((event.offset, kind, counter, amount))
    if not touched:
        return
    ids = list(touched)
    done: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(ItemEngagement.item_id, ItemEngagement.last_offset).where(
                ItemEngagement.item_id.in_(ids[start : start + _CHUNK])
            )
        )
        done.update({item_id: last for item_id, last in rows})
    now = utcnow()
    updates, inserts = [], []
    for item_id, changes in touched.items():
        seen = done.get(item_id, 0)
        deltas = dict.fromkeys(COUNTERS, 0)
        last, kind = seen, changes[0][1]
        for offset, _kind, counter, amount in changes:
            if offset > seen:
                deltas[counter] += amount
                last = max(last, offset)
        if last == seen:
            continue  # everything here was counted before (a replay)
        if item_id in done:
            updates.append(
                {
                    "b_item_id": item_id,
                    "b_last": last,
                    "b_now": now,
                    **{f"d_{c}": v for c, v in deltas.items()},
                }
            )
        else:
            inserts.append(
                {"item_id": item_id, "kind": kind, "last_offset": last, "updated_at": now, **deltas}
            )
    table = ItemEngagement.__table__
    if updates:
        values: dict[str, Any] = {c: table.c[c] + bindparam(f"d_{c}") for c in COUNTERS}
        stmt = (
            update(table)
            .where(table.c.item_id == bindparam("b_item_id"))
            .values(last_offset=bindparam("b_last"), updated_at=bindparam("b_now"), **values)
        )
        session.connection().execute(stmt, updates)
    if inserts:
        session.execute(insert(table), inserts)


def reset(session: Session) -> None:
    session.execute(delete(ItemEngagement))


def consumer(event_log: EventLog, db: Database) -> Consumer:
    return Consumer(NAME, event_log, db, apply, reset_state=reset)


def engagement_for(session: Session, item_ids: list[str]) -> dict[str, dict[str, int]]:
    """Counts per item id (items nobody interacted with are absent)."""
    out: dict[str, dict[str, int]] = {}
    for start in range(0, len(item_ids), _CHUNK):
        rows = session.scalars(
            select(ItemEngagement).where(ItemEngagement.item_id.in_(item_ids[start : start + _CHUNK]))
        )
        for row in rows:
            out[row.item_id] = {"kind": row.kind, **{c: getattr(row, c) for c in COUNTERS}}  # type: ignore[dict-item]
    return out
