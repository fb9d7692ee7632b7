"""Learning from the event stream, in every server process.

``OnlineLearner`` tails the event log from the loaded snapshot's offset (so a restart replays exactly
the events since the snapshot): each event updates the item counters at once (rates, trending); every
``learn_seconds`` the new interactions go through the model's ``partial_fit`` on a private learning copy,
and a serving copy is swapped in (requests never see a half-updated model). When the worker publishes a
new snapshot (bus ``feed.model.published``, or found by polling the registry), the learner loads it,
replays the events after its offset into it, and swaps it in; a snapshot that fails to verify is
refused and the current model keeps serving.

``consumer()`` is the feed's durable consumer (``events.consumer.Consumer``, registered with the events
domain and run with its consumers): follows, "not interested" marks and each pseudonym's latest
interactions go into the feed's tables, with the consumer's offset, in one transaction. The in-memory recent history covers the moments until then.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from etalage.db import Database, utcnow
from etalage.events.consumer import Consumer
from etalage.events.log import EventLog, StoredEvent
from etalage.feed import modelview
from etalage.feed.counters import TREND_WEIGHTS, F, event_effects
from etalage.feed.index import KIND_VIDEO
from etalage.feed.models import FeedBought, FeedFollow, FeedHidden, FeedHistory
from etalage.feed.pipeline.history import kind_of, media_of

if TYPE_CHECKING:
    from etalage.feed.engine import FeedEngine

log = logging.getLogger("etalage.feed.learner")
REPLAY_BUFFER = 500_000  # model rows kept to replay into a newly loaded snapshot without re-reading the log
CATCH_UP_BATCH = 20_000


class OnlineLearner:
    def __init__(self, engine: FeedEngine, event_log: EventLog) -> None:
        self.engine = engine
        self.log = event_log
        self.position = 1  # next offset to read
        self.work: Any = None  # the learning copy of the model (never served)
        self.version: str | None = None
        self.pending: list[tuple[str, str, str, float]] = []
        self.replay: deque[tuple[int, tuple[str, str, str, float]]] = deque(maxlen=REPLAY_BUFFER)
        self.last_learn = time.monotonic()
        self.reload = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.applied = 0
        self.caught_up = threading.Event()
        self._tail: Any = None  # the process's recent-history tail, once we follow it
        self._tail_start = 0
        self._handed: queue.SimpleQueue[list[StoredEvent]] = queue.SimpleQueue()

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self, from_offset: int) -> None:
        self.position = max(1, from_offset)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="etalage-feed-learner", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def set_model(self, model: Any, version: str | None) -> None:
        self.work, self.version = model, version

    def _run(self) -> None:
        poll_registry = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    batch = self._next_batch()
                    if batch:
                        self.apply(batch)
                        self.position = batch[-1].offset + 1
                    if (
                        self.reload.is_set()
                        or time.monotonic() - poll_registry > self.engine.fs.refit_seconds / 10
                    ):
                        poll_registry = time.monotonic()
                        self.reload.clear()
                        self.try_reload()
                    if self.pending and (time.monotonic() - self.last_learn >= self.engine.fs.learn_seconds
                                         or len(self.pending) >= CATCH_UP_BATCH):  # fmt: skip
                        self.learn()
                except (ConnectionError, TimeoutError) as exc:  # the log is unreachable: wait, quietly
                    log.warning("feed learner: event log unavailable (%s); retrying", exc.__class__.__name__)
                    self._stop.wait(2.0)
                except Exception:
                    log.exception("feed learner failed; retrying")
                    self._stop.wait(1.0)
        finally:
            self._unfollow()

    def _next_batch(self) -> list[StoredEvent]:
        """The next events to apply: read from the log until caught up, then handed over by the process's
        recent-history tail (``events`` reads and decodes each event once per process, not once per
        reader), reading from the log again only for a gap before the tail's first batch."""
        tail = self._tail
        if tail is not None and not tail.alive:
            self._unfollow()
            tail = None
        if tail is None:
            batch = self.log.read(self.position, 5000, wait=0.5)
            if len(batch) < 5000:
                self.caught_up.set()
                self._follow()
            return batch
        if self.position < self._tail_start:  # the events between our last read and the tail's first
            return self.log.read(self.position, min(5000, self._tail_start - self.position))
        try:
            batch = self._handed.get(timeout=0.5)
        except queue.Empty:
            return []
        if batch and batch[0].offset < self.position:  # read before we followed
            batch = [e for e in batch if e.offset >= self.position]
        return batch

    def _follow(self) -> None:
        from etalage.events import service as events

        try:
            tail = events.recent_history(self.log)
        except Exception:  # keep reading the log ourselves
            log.exception("feed learner: cannot follow the recent-history tail")
            return
        self._handed = queue.SimpleQueue()
        self._tail_start = tail.follow(self._handed.put)
        self._tail = tail

    def _unfollow(self) -> None:
        if self._tail is not None:
            self._tail.unfollow(self._handed.put)
            self._tail = None

    # --- events -------------------------------------------------------------------------------------------

    def apply(self, events: list[StoredEvent]) -> None:
        """Counters now; model rows queued for the next ``learn``."""
        eng = self.engine
        index = eng.index
        effects: list[tuple[int, int, float, float, int]] = []
        unknown_rooms: set[str] = set()
        for ev in events:
            d = ev.data
            ts = float(d.get("ts", 0))
            user = d.get("user", "")
            media = media_of(d)
            i = index.pos.get(media) if media else None
            if i is None:
                if media and "live_room_id" in d:
                    unknown_rooms.add(media)
                continue
            region = eng.user_region.get(user)
            r = index.region_row.get(region, -1) if region else int(index.region[i])
            for _field, counter in event_effects(d):
                if counter.startswith("trend:"):
                    effects.append((i, -1, TREND_WEIGHTS[counter[6:]], ts, r))
                else:
                    effects.append((i, F[counter], 1.0, ts, r))
            kind = kind_of(d)
            if index.kind[i] == KIND_VIDEO and kind in modelview.MODEL_EVENT:
                row = (user, media, kind, ts / 1000.0)
                self.pending.append(row)
                self.replay.append((ev.offset, row))
        index.stats.apply(effects)
        self.applied += len(events)
        if unknown_rooms:
            eng.mark_dirty(rooms=unknown_rooms)

    def learn(self) -> None:
        rows, self.pending = self.pending, []
        self.last_learn = time.monotonic()
        if self.work is None or not rows:
            return
        started = time.perf_counter()
        for start in range(0, len(rows), CATCH_UP_BATCH):
            self.work.partial_fit(modelview.model_events(rows[start : start + CATCH_UP_BATCH]))
        self.engine.publish_model(modelview.serving_copy(self.work), self.version)
        log.debug("learned %s events in %.0f ms", len(rows), (time.perf_counter() - started) * 1000)

    # --- new snapshots ------------------------------------------------------------------------------------

    def try_reload(self) -> bool:
        from etalage.feed import registry

        snap = registry.latest_good(self.engine.db, self.engine.model_dir, newer_than=self.version)
        if snap is None or snap.model is None:
            return False
        rows = [row for off, row in self.replay if off > snap.event_offset]
        if not self.replay or self.replay[0][0] > snap.event_offset + 1:
            rows = self._read_rows(snap.event_offset + 1, self.position)  # the buffer does not reach back
        rows += self.pending
        self.pending = []
        for start in range(0, len(rows), CATCH_UP_BATCH):
            snap.model.partial_fit(modelview.model_events(rows[start : start + CATCH_UP_BATCH]))
        self.work, self.version = snap.model, snap.version
        self.engine.install(snap, counters=False)
        self.engine.publish_model(modelview.serving_copy(self.work), self.version)
        log.info("feed model %s in service (%s events replayed since its offset)", snap.version, len(rows))
        return True

    def _read_rows(self, start: int, end: int) -> list[tuple[str, str, str, float]]:
        rows: list[tuple[str, str, str, float]] = []
        index = self.engine.index
        while start < end:
            batch = self.log.read(start, 5000)
            if not batch:
                break
            for ev in batch:
                if ev.offset >= end:
                    break
                d = ev.data
                media, kind = media_of(d), kind_of(d)
                i = index.pos.get(media) if media else None
                if i is not None and index.kind[i] == KIND_VIDEO and kind in modelview.MODEL_EVENT:
                    rows.append((d.get("user", ""), media, kind, float(d.get("ts", 0)) / 1000.0))
            start = batch[-1].offset + 1
        return rows


# --- the durable consumer: follows and "not interested" --------------------------------------------------

CONSUMER = "feed"


def _hide_target(d: dict[str, Any]) -> tuple[str, str] | None:
    reason = d.get("reason")
    if reason == "product" and d.get("product_id"):
        return d["product_id"], "product"
    media = media_of(d)
    if media is None:
        return (d["product_id"], "product") if d.get("product_id") else None
    return media, "live_room" if "live_room_id" in d else "video"


HISTORY_KEEP = 100  # per pseudonym: as many as the personalised feed reads (``history_events``)
HISTORY_FIELDS = ("type", "ts", "video_id", "live_room_id", "product_id", "creator_id", "watch_ratio", "undo",
                  "reason")  # fmt: skip


def apply_histories(session: Session, events: list[StoredEvent]) -> None:
    """Append each pseudonym's new events (the fields the feed reads) to its stored history, keeping the
    newest ``HISTORY_KEEP``; events at or before a row's ``upto`` were applied already (a replay)."""
    fresh: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for ev in events:
        user = ev.data.get("user")
        if user:
            d = ev.data
            fresh.setdefault(user, []).append((ev.offset, {k: d[k] for k in HISTORY_FIELDS if k in d}))
    users = list(fresh)
    for start in range(0, len(users), 500):
        chunk = users[start : start + 500]
        rows = {r.pseudonym: r for r in session.scalars(select(FeedHistory).where(FeedHistory.pseudonym.in_(chunk)))}
        for user in chunk:
            row = rows.get(user)
            upto = row.upto if row is not None else 0
            new = [e for off, e in fresh[user] if off > upto]
            if not new:
                continue
            last = fresh[user][-1][0]
            if row is None:
                session.add(FeedHistory(pseudonym=user, events=new[-HISTORY_KEEP:], upto=last, updated_at=utcnow()))
            else:
                row.events = (list(row.events) + new)[-HISTORY_KEEP:]
                row.upto, row.updated_at = last, utcnow()


def apply_marks(session: Session, events: list[StoredEvent]) -> None:
    apply_histories(session, events)
    follows: dict[tuple[str, str], bool] = {}
    hides: dict[tuple[str, str], str] = {}
    bought: dict[tuple[str, str], int] = {}  # (pseudonym, product) -> the latest purchase's ts
    for ev in events:
        d = ev.data
        kind = kind_of(d)
        user = d.get("user")
        if not user:
            continue
        if kind in ("follow", "unfollow") and d.get("creator_id"):
            follows[(user, d["creator_id"])] = kind == "follow"  # the last decision in the batch wins
        elif kind == "not_interested":
            target = _hide_target(d)
            if target:
                hides[(user, target[0])] = target[1]
        elif kind == "purchase" and d.get("product_id"):
            key, ts = (user, d["product_id"]), int(float(d.get("ts") or 0))
            bought[key] = max(bought.get(key, 0), ts)
    if follows:
        keys = list(follows)
        session.execute(
            delete(FeedFollow).where(tuple_(FeedFollow.pseudonym, FeedFollow.creator_id).in_(keys))
        )
        session.add_all(FeedFollow(pseudonym=u, creator_id=c) for (u, c), on in follows.items() if on)
    if hides:
        keys = list(hides)
        rows = session.execute(select(FeedHidden.pseudonym, FeedHidden.item_id)
                               .where(tuple_(FeedHidden.pseudonym, FeedHidden.item_id).in_(keys)))  # fmt: skip
        existing = {(u, i) for u, i in rows}
        session.add_all(FeedHidden(pseudonym=u, item_id=i, kind=k) for (u, i), k in hides.items()
                        if (u, i) not in existing)  # fmt: skip
    if bought:
        _record_bought(session, bought)


def _record_bought(session: Session, bought: dict[tuple[str, str], int]) -> None:
    keys = list(bought)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = session.scalars(
            select(FeedBought).where(tuple_(FeedBought.pseudonym, FeedBought.product_id).in_(chunk))
        )
        existing = {(r.pseudonym, r.product_id): r for r in rows}
        for key in chunk:
            row = existing.get(key)
            if row is None:
                session.add(FeedBought(pseudonym=key[0], product_id=key[1], bought_ms=bought[key]))
            elif bought[key] > row.bought_ms:  # a replayed or older purchase leaves the latest one
                row.bought_ms = bought[key]


def reset_marks(session: Session) -> None:
    session.execute(delete(FeedBought))
    session.execute(delete(FeedFollow))
    session.execute(delete(FeedHidden))
    session.execute(delete(FeedHistory))


def consumer(event_log: EventLog, db: Database) -> Consumer:
    return Consumer(CONSUMER, event_log, db, apply_marks, reset_state=reset_marks, batch=2000)
