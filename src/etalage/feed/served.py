"""The served log: every page the feed answered, with the scores and reasons of every item on it.

Writes are batched: a page's record goes to an in-memory buffer that a background thread writes every
``FLUSH_SECONDS`` in one transaction (one insert per page on the request path would queue every feed
request behind the database's writers). A record still in the buffer is answered from it, so the page's
``served_id`` can be looked up at once in this process; a crash loses at most the last fraction of a
second of records, never a served item's explanation (that is in the response itself).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from sqlalchemy import JSON, delete, insert, select, type_coerce
from sqlalchemy.orm import Session

from etalage.db import Database, utcnow
from etalage.feed import served_format
from etalage.feed.models import FeedServed
from etalage.feed.parameters import OUTCOMES
from etalage.feed.pipeline import heads as H

log = logging.getLogger("etalage.feed.served")
# Small batches often: a flush holds the GIL against pages, and the longer the batch the longer the stall
# (at 100,000 videos: every 0.5 s → in-process p99 15.3 ms; 0.1 s → 10.6 ms; 0.05 s → 9.9 ms).
FLUSH_SECONDS = 0.05
MAX_PENDING = 50_000  # beyond this (database down), the oldest unwritten records are dropped, loudly


_INSERT_SERVED = insert(FeedServed.__table__)


class ServedLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="etalage-feed-served", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.flush()

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            self.pending[row["id"]] = row
            if len(self.pending) > MAX_PENDING:
                oldest = next(iter(self.pending))
                self.pending.pop(oldest)
                log.error("served log buffer full: dropped record %s (is the database reachable?)", oldest)

    def get(self, served_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.pending.get(served_id)

    def pending_for_chain(self, chain_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.pending.values() if r["chain_id"] == chain_id]

    def drop_pseudonym(self, pseudonym: str) -> None:
        with self._lock:
            for key in [k for k, r in self.pending.items() if r.get("pseudonym") == pseudonym]:
                self.pending.pop(key)

    def flush(self) -> int:
        with self._flush_lock:
            with self._lock:
                rows = list(self.pending.values())
            if not rows:
                return 0
            try:
                with self.db.session() as s:  # Core, not the ORM's bulk path: a page's record per request
                    s.connection().execute(_INSERT_SERVED, rows)
            except Exception:
                log.exception("writing %s served records failed; will retry", len(rows))
                return 0
            with self._lock:
                for r in rows:
                    self.pending.pop(r["id"], None)
            self.written += len(rows)
            return len(rows)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush()


def row_dict(row: FeedServed) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in FeedServed.__table__.columns}


def load(session: Session, log_: ServedLog | None, served_id: str) -> dict[str, Any] | None:
    pending = log_.get(served_id) if log_ is not None else None
    if pending is not None:
        return {**pending, "items": served_format.unpack(pending["items"])}
    row = session.get(FeedServed, served_id)
    return row_dict(row) if row is not None else None


def chain_items(session: Session, log_: ServedLog | None, chain_id: str) -> set[str]:
    """Item ids on every page of a scroll so far (so the next page repeats none of them)."""
    out: set[str] = set()
    stored = type_coerce(FeedServed.items, JSON)  # as stored: only the ids are wanted
    for items in session.scalars(select(stored).where(FeedServed.chain_id == chain_id)):
        out.update(served_format.item_ids(items))
    for r in log_.pending_for_chain(chain_id) if log_ is not None else []:
        out.update(served_format.item_ids(r["items"]))
    return out


def reconstruct(record: dict[str, Any]) -> dict[str, Any]:
    """Re-derive each item's score from what was logged: predictions from the logged rates, signals and
    head coefficients; value from predictions, weights and the purchase's worth; score from value and adjustments."""
    ctx = record.get("context") or {}
    heads = H.Heads.from_dict(ctx.get("heads") or {})
    weights = ctx.get("outcome_weights") or {}
    worst_score, worst_p, items = 0.0, 0.0, []
    for it in record.get("items", []):
        rates = {o: np.array([it["rates"][o]]) for o in OUTCOMES}
        signals = {s: np.array([it["signals"][s]]) for s in H.SIGNALS}
        p = H.predict(rates, signals, heads)
        p_err = max(abs(float(p[o][0]) - it["predictions"][o]) for o in OUTCOMES)
        worth = float((it.get("features") or {}).get("worth", 1.0))  # records before worth: 1
        value = sum(float(weights.get(o, 0.0)) * it["predictions"][o] * (worth if o in H.WORTH_OUTCOMES else 1.0)
                    for o in OUTCOMES)  # fmt: skip
        adj = it["adjustments"]
        score = value + adj["quality"] + adj["exploration"] + adj["diversity"]
        s_err = abs(score - it["score"])
        worst_score, worst_p = max(worst_score, s_err), max(worst_p, p_err)
        items.append({"item_id": it["item_id"], "recomputed_score": round(score, 6), "logged_score": it["score"],
                      "score_error": s_err, "prediction_error": p_err})  # fmt: skip
    return {
        "consistent": worst_score < 1e-4 and worst_p < 1e-4,
        "max_score_error": worst_score,
        "max_prediction_error": worst_p,
        "items": items,
    }


def forget(session: Session, log_: ServedLog | None, pseudonym: str) -> int:
    if log_ is not None:
        log_.drop_pseudonym(pseudonym)
    result = session.execute(delete(FeedServed).where(FeedServed.pseudonym == pseudonym))
    return int(result.rowcount or 0)


def trim(session: Session, days: int) -> int:
    from datetime import timedelta

    cutoff = utcnow() - timedelta(days=days)
    result = session.execute(delete(FeedServed).where(FeedServed.created_at < cutoff))
    return int(result.rowcount or 0)
