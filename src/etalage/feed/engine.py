"""``FeedEngine``: one per server process. Owns the index, the serving state, the learner, the served log.

Start-up: load every published video, product and on-air live room through the owning domains'
services; load the newest snapshot that verifies (model, heads, counters) and replay the events since
its offset. Then bus events keep the index current (``content.video.published/removed``,
``catalog.product.changed``, ``order.paid``, ``content.live.started/ended``; through Redis in every
process), a refresher applies them in the background, and every ``refresh_seconds`` it
reconciles with the database (what a process without Redis missed) and recomputes product quality.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import numpy as np

from etalage.core import bus
from etalage.db import Database
from etalage.feed import catalogue, quality, registry
from etalage.feed.counters import ItemStats
from etalage.feed.index import FeedIndex
from etalage.feed.learner import OnlineLearner
from etalage.feed.parameters import configured
from etalage.feed.pipeline import ServingState, lists
from etalage.feed.pipeline.ann import IVFIndex
from etalage.feed.pipeline.heads import Heads, global_rates
from etalage.feed.served import ServedLog
from etalage.feed.settings import FeedSettings, model_dir

log = logging.getLogger("etalage.feed")
MODEL_PUBLISHED = "feed.model.published"
# Not inventory.stock.changed: its payload costs every checkout a query once anyone subscribes, and the
# feed only needs "a product's stock moved": order.paid (published anyway) says so for sales, and the
# periodic reconciliation catches merchants' own stock edits within refresh_seconds.
TOPICS = ("content.video.published", "content.video.removed", "catalog.product.changed", "order.paid",
          "content.live.started", "content.live.ended", MODEL_PUBLISHED)  # fmt: skip
# Trending and popularity lists age in seconds, not milliseconds; a rebuild costs ~50 ms of CPU at 100,000
# videos, and pages served meanwhile are slower, so it runs every 5 s (or when the catalogue changed).
LISTS_SECONDS = 5.0
GIL_SWITCH_SECONDS = 0.0005


class LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class FeedEngine:
    def __init__(self, db: Database, data_dir: Any, fs: FeedSettings, event_log: Any) -> None:
        self.db, self.fs, self.event_log = db, fs, event_log
        self.model_dir = model_dir(data_dir)
        params = configured(fs.ranker, fs.ranking_overrides)
        self.index = FeedIndex(catalogue.regions(), ItemStats(catalogue.regions(), 1024, params.rates_half_life_days,
                                                              params.trending_half_life_hours))  # fmt: skip
        self.state = ServingState(params, Heads.defaults(params))
        self.served = ServedLog(db)
        self.learner = OnlineLearner(self, event_log)
        self.cards: LRU = LRU(50_000)
        self.viewers: LRU = LRU(100_000)  # pseudonym -> (loaded at, pages.ViewerState)
        self.chains: LRU = LRU(20_000)  # chain id -> item ids served so far
        self.user_region: LRU = LRU(200_000)  # pseudonym -> region of their last feed request
        self._dirty: dict[str, set[Any]] = {"videos": set(), "products": set(), "rooms": set(), "sold": set()}
        self._dirty_lock = threading.Lock()
        self._applying_items = False  # a round has taken videos or rooms and not yet put them in the index
        self._apply_lock = threading.RLock()  # catalogue changes are applied by one thread at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lists_version = -1
        self.snapshot_offset = 0
        self.started = False
        self._threads = False

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self, *, threads: bool = True) -> None:
        t0 = time.perf_counter()
        self._threads = threads
        self._load()
        for topic in TOPICS:
            bus.subscribe(topic, self.on_bus)
        if threads:
            # The refresh, learner and served-log threads run Python for tens of milliseconds at a time; with
            # the default 5 ms GIL switch interval a page waiting behind them waits up to 5 ms per switch.
            # 0.5 ms cut the visitors' in-process p99 from 12.4 to 5.6 ms at 100,000 videos.
            sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
            # the in-session history tail, started now rather than by the first request (which would wait)
            threading.Thread(target=self._start_recent, name="etalage-feed-recent-start", daemon=True).start()
            self.served.start()
            if self.fs.online:
                self.learner.start(self.snapshot_offset + 1)
            self._thread = threading.Thread(
                target=self._refresh_loop, name="etalage-feed-refresh", daemon=True
            )
            self._thread.start()
        self.started = True
        log.info("feed engine ready in %.1f s: %s, model %s", time.perf_counter() - t0, self.index.describe(),
                 self.state.model_version)  # fmt: skip

    def _start_recent(self) -> None:
        from etalage.events import service as events

        try:
            events.recent_history(self.event_log)
        except Exception:  # the log is down: the first personalised page reads an empty history
            log.warning("feed: the in-session history could not start yet", exc_info=True)

    def _load(self) -> None:
        self.load_catalogue()
        snap = registry.latest_good(self.db, self.model_dir)
        if snap is not None:
            self.install(snap, counters=True)
            self.learner.set_model(snap.model, snap.version)
            if snap.model is not None:
                from etalage.feed import modelview

                self.publish_model(modelview.serving_copy(snap.model), snap.version)
        self.refresh_quality()
        self.rebuild_lists()

    def reload(self) -> None:
        """Rebuild the index and state from the database and the newest snapshot, then replay the events
        since it (operators after a bulk import; tests after building a world)."""
        self.learner.stop()
        params = self.state.params
        self.index = FeedIndex(self.index.regions, ItemStats(self.index.regions, 1024, params.rates_half_life_days,
                                                             params.trending_half_life_hours))  # fmt: skip
        self.state = ServingState(params, Heads.defaults(params))
        for cache in (self.cards, self.viewers, self.chains, self.user_region):
            cache.clear()
        self.learner = OnlineLearner(self, self.event_log)
        self.snapshot_offset = 0
        self._load()
        if self._threads and self.fs.online:
            self.learner.start(self.snapshot_offset + 1)

    def wait_caught_up(self, timeout: float = 10.0) -> bool:
        """Until the learner has read the whole log (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.learner.position > self.event_log.last_offset():
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        for topic in TOPICS:
            bus.unsubscribe(topic, self.on_bus)
        self._stop.set()
        self._wake.set()
        self.learner.stop()
        if self._thread is not None:
            self._thread.join(5)
        self.served.stop()

    # --- catalogue ----------------------------------------------------------------------------------------

    def load_catalogue(self) -> None:
        with self.db.read() as s:
            infos = catalogue.video_infos(s, catalogue.published_videos(s))
            pids = {p for v in infos for p in v.product_ids}
            facts = catalogue.load_products(s, pids, whole_catalogue=True)
            rooms = catalogue.rooms_on_air(s) or []
            room_records = catalogue.live_room_records(s, rooms)
        self.index.set_products(facts)
        titles = {f.id: f.title for f in facts}
        records = catalogue.video_records(infos, titles) + room_records
        positions = self.index.upsert(records, index_text=False)
        docs: list[tuple[str, ...]] = [()] * self.index.n
        for pos, rec in zip(positions, records, strict=True):
            docs[pos] = rec.words
        self.index.text.build(docs)

    def mark_dirty(self, *, videos: Any = (), products: Any = (), rooms: Any = (), wake: bool = True) -> None:
        """Queue items to re-read; ``wake=False`` leaves them for the refresher's next round (≤ 0.25 s)
        instead of waking it for each one (sales: one wake-up per checkout cost each a re-read)."""
        with self._dirty_lock:
            self._dirty["videos"].update(videos)
            self._dirty["products"].update(products)
            self._dirty["rooms"].update(rooms)
        if wake:
            self._wake.set()

    def mark_sold(self, region: str | None, items: list[dict[str, Any]]) -> None:
        """A sale in ``region``: its products leave that region only if the variant sold ran out there, so the
        next round checks those variants' stock (one small read) and re-reads only the products that did."""
        sold = {(region, i.get("variant_id"), i.get("product_id")) for i in items if i.get("product_id")}
        whole = {pid for r, vid, pid in sold if not (r and vid)}  # an event without them: re-read the product
        with self._dirty_lock:
            self._dirty["sold"].update(s for s in sold if s[2] not in whole)
            self._dirty["products"].update(whole)

    def on_bus(self, topic: str, payload: dict[str, Any]) -> None:
        if topic == "content.video.removed":
            vid = payload.get("video_id")
            if vid:
                self.index.remove(vid)  # at once: the next page in this process no longer has it
                self.cards.pop(vid, None)
        elif topic == "content.video.published":
            self.mark_dirty(videos=[payload.get("video_id")], products=payload.get("product_ids") or [])
        elif topic == "catalog.product.changed":
            self.mark_dirty(products=[payload.get("product_id")])
        elif topic == "order.paid":  # stock went down: re-check whether its products can still be bought
            self.mark_sold(payload.get("region"), payload.get("items") or [])
        elif topic == "content.live.ended":
            self.index.remove(payload.get("room_id", ""))
        elif topic == "content.live.started":
            self.mark_dirty(rooms=[payload.get("room_id")])
        elif topic == MODEL_PUBLISHED:
            self.learner.reload.set()

    def settle(self) -> None:
        """Videos and live rooms published in this process are in the very next page: a request that finds
        some not applied yet applies them itself, or waits for the refresh thread that already took them
        (the refresh thread batches everything else)."""
        if self._dirty["videos"] or self._dirty["rooms"] or self._applying_items:
            with self._apply_lock:
                self.apply_dirty()

    def resync(self) -> None:
        """Align with the database now (what the refresh thread does every ``refresh_seconds``), and forget
        cached cards and pages: for tests that empty the database under a running server."""
        with self._apply_lock:
            for cache in (self.cards, self.viewers, self.chains):
                cache.clear()
            self.reconcile()
            self.apply_dirty()
            self.rebuild_lists()

    def apply_dirty(self) -> None:
        with self._dirty_lock:
            videos, products, rooms, sold = (
                set(filter(None, self._dirty[k])) for k in ("videos", "products", "rooms", "sold")
            )
            self._applying_items = bool(videos or rooms)  # before the sets empty: settle() reads unlocked
            for k in self._dirty:
                self._dirty[k] = set()
        try:
            self._apply(videos, products, rooms, sold)
        finally:
            self._applying_items = False

    def _apply(self, videos: set[str], products: set[str], rooms: set[str], sold: set[Any]) -> None:
        if not (videos or products or rooms or sold):
            return
        with self.db.read() as s:
            if sold:
                products |= catalogue.sold_out(s, sold)
            infos = catalogue.video_infos(s, sorted(videos)) if videos else []
            products |= {p for v in infos for p in v.product_ids if p not in self.index.products}
            facts = catalogue.load_products(s, products) if products else []
            room_records = catalogue.live_room_records(s, rooms) if rooms else []
        touched = self.index.set_products(facts)
        titles = {pid: f.title for pid, f in self.index.products.items()}
        records = catalogue.video_records(infos, titles) + room_records
        if records:
            self.index.upsert(records)
            for r in records:
                self.cards.pop(r.id, None)
        if touched or records:
            self.rebuild_lists()

    def reconcile(self) -> None:
        """What bus events may have missed (no Redis, a restart of another process): removals, new videos,
        and where each product can be bought now."""
        with self.db.read() as s:
            published = set(catalogue.published_videos(s))
            sellable = catalogue.sellable_sets(s)
        index = self.index
        n = index.n
        for i in np.flatnonzero(index.alive[:n] & (index.kind[:n] == 0)):
            if index.ids[i] not in published:
                index.remove(index.ids[i])
        missing = [v for v in published if v not in index.pos or v in index.removed]
        if missing:
            self.mark_dirty(videos=missing)
        if sellable:
            changed = []
            for pid, f in list(index.products.items()):
                where = frozenset(r for r, ids in sellable.items() if pid in ids)
                if where != f.regions:
                    changed.append(replace(f, regions=where, active=f.active or bool(where)))
            if changed:
                index.set_products(changed)

    def refresh_quality(self) -> None:
        index = self.index
        with self.db.read() as s:
            products = quality.gather(s, list(index.products))
            sentiment = catalogue.video_sentiment(s)
        table = quality.compute(index, self.state.params, products, sentiment, time.time() * 1000)
        self.state = replace(self.state, quality=table)

    def rebuild_lists(self) -> None:
        self._lists_version = self.index.version
        now = time.time() * 1000
        st = self.state
        counts = st.heads
        total = self.index.stats.counts(np.arange(self.index.n), now).sum(axis=1) if self.index.n else None
        if total is not None:
            counts = replace(st.heads, global_rates=global_rates(total))
        built = lists.build(self.index, counts, st.params, st.quality, now)
        creator_impressions = None
        n = self.index.n
        if n:
            shown = self.index.stats.counts(np.arange(n), now)[0]
            codes = self.index.creator[:n]
            ok = codes >= 0
            creator_impressions = np.bincount(
                codes[ok], weights=shown[ok], minlength=len(self.index.creators.ids)
            )
        self.state = replace(self.state, lists=built, heads=counts, creator_impressions=creator_impressions)

    def _refresh_loop(self) -> None:
        last_full = last_lists = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(0.25)
            self._wake.clear()
            try:
                with self._apply_lock:
                    self.apply_dirty()
                    if time.monotonic() - last_full >= self.fs.refresh_seconds:
                        last_full = time.monotonic()
                        self.reconcile()
                        self.refresh_quality()
                    if (
                        time.monotonic() - last_lists >= LISTS_SECONDS
                        or self.index.version != self._lists_version
                    ):
                        last_lists = time.monotonic()
                        self.rebuild_lists()
            except Exception:
                log.exception("feed refresh failed; retrying")
                self._stop.wait(2.0)

    # --- models -------------------------------------------------------------------------------------------

    def install(self, snap: registry.Snapshot, *, counters: bool) -> None:
        """Take a snapshot's heads (and, at start-up, its counters: the events since are replayed)."""
        if counters:
            c = snap.counters
            mapping = self.index.positions(c["ids"])
            if list(c["regions"]) == list(self.index.regions):
                self.index.stats.trend.load(c["trend"], c["trend_t_ref"], mapping)
            self.index.stats.rates.load(c["rates"], c["rates_t_ref"], mapping)
            self.snapshot_offset = snap.event_offset
        self.state = replace(self.state, heads=snap.heads)

    def publish_model(self, model: Any, version: str | None) -> None:
        """Swap in a serving copy. The nearest-neighbour index is built once per snapshot: online updates
        only append items (reached by the other sources until the next refit) and never move fitted ones."""
        from etalage.feed import modelview

        st = self.state
        ann = st.ann if st.model_version == version and st.ann is not None else None
        if ann is None:
            table = modelview.item_embeddings(model)
            ann = IVFIndex(table) if table is not None else None
        self.state = replace(
            st, model=model, model_version=version, ann=ann, model_to_index=st.model_to_index
        )
        self.index.set_model(model)
        to_index = np.full(model.n_items, -1, np.int64)
        mapped = self.index.model_idx[: self.index.n]
        ok = mapped >= 0
        to_index[mapped[ok]] = np.flatnonzero(ok)
        self.state = replace(self.state, model_to_index=to_index)

    def status(self) -> dict[str, Any]:
        st = self.state
        return {
            "index": self.index.describe(),
            "model_version": st.model_version,
            "model_items": st.model.n_items if st.model is not None else 0,
            "heads": st.heads.source,
            "preset": st.params.preset,
            "params_version": st.params.version,
            "learner_position": self.learner.position,
            "events_applied": self.learner.applied,
            "snapshot_offset": self.snapshot_offset,
            "served_written": self.served.written,
        }
