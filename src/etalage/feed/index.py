"""``FeedIndex``: what one server process knows about every item it may serve, as NumPy arrays.

Videos and live rooms share one index space (live rooms are never in the model). Per item: creator,
shop, category, publication time, whether it may be shown and sold in each region, an age restriction,
a quality factor, its row in the served model, and its TF-IDF vector; per product: status, regions it can
be delivered to with stock, price per region. The arrays are filled from the catalogue and content
services at start and kept current by bus events (``catalogue.py``); counters come from the event stream
(``counters.py``). Removal is a flag flip plus a removed-set that every page re-checks, so a removed
video is never served, even by a request that was already running.

Concurrency: requests read without locks. Growing the arrays builds bigger copies and swaps them in, and
a request only reads positions below the count it saw when it started.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from etalage.feed.counters import ItemStats
from etalage.feed.text import TextIndex

KIND_VIDEO, KIND_LIVE = 0, 1
KINDS = ("video", "live_room")


@dataclass(frozen=True)
class ProductFacts:
    id: str
    merchant_id: str
    title: str
    category: str | None  # category slug
    active: bool
    regions: frozenset[str]  # where it can be bought now (priced, in stock, verified trader)
    prices: dict[str, tuple[int, str]] = field(default_factory=dict)  # region -> lowest (amount, currency)
    image: str | None = None
    restricted: bool = False  # sold to adults only (age-restricted category)


@dataclass(frozen=True)
class ItemRecord:
    id: str
    kind: int
    alive: bool
    creator_id: str | None
    merchant_id: str | None
    product_ids: tuple[str, ...]
    published_s: float
    region: str | None
    words: tuple[str, ...] = ()


class Codes:
    """Small integer codes for ids that are compared a lot (creators, shops, categories)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.code: dict[str, int] = {}

    def get(self, value: str | None) -> int:
        if not value:
            return -1
        c = self.code.get(value)
        if c is None:
            c = self.code[value] = len(self.ids)
            self.ids.append(value)
        return c


_ARRAYS = {  # name -> (dtype, fill)
    "kind": (np.int8, 0),
    "alive": (np.bool_, False),
    "creator": (np.int32, -1),
    "merchant": (np.int32, -1),
    "category": (np.int32, -1),
    "published_s": (np.float64, 0.0),
    "has_products": (np.bool_, False),
    "restricted": (np.bool_, False),
    "quality": (np.float32, 1.0),
    "model_idx": (np.int64, -1),
    "region": (np.int16, -1),  # the item's own region (a live room's), -1: none
}


class FeedIndex:
    def __init__(self, regions: tuple[str, ...], stats: ItemStats, capacity: int = 1024) -> None:
        self.regions = regions
        self.region_row = {r: i for i, r in enumerate(regions)}
        self.cap = capacity
        self.n = 0
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        for name, (dtype, fill) in _ARRAYS.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
        self.sellable = np.zeros((len(regions), capacity), np.bool_)
        self.item_products: list[tuple[str, ...]] = []
        self.products: dict[str, ProductFacts] = {}
        self.product_items: dict[str, set[int]] = {}
        self.creators, self.merchants, self.categories = Codes(), Codes(), Codes()
        self.creator_items: dict[int, list[int]] = {}
        self.removed: set[str] = set()
        self.text = TextIndex()
        self.stats = stats
        self.stats.grow(capacity)
        self.lock = threading.RLock()
        self.version = 0  # bumped on every change that may alter what can be served
        self._pairs: tuple[tuple[int, int], tuple[np.ndarray, np.ndarray, list[str]]] | None = None

    # --- growth and items ---------------------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        if need <= self.cap:
            return
        cap = max(need, int(self.cap * 1.5) + 1024)
        for name, (dtype, fill) in _ARRAYS.items():
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        sellable = np.zeros((len(self.regions), cap), np.bool_)
        sellable[:, : self.n] = self.sellable[:, : self.n]
        self.sellable = sellable
        self.stats.grow(cap)
        self.cap = cap

    def upsert(self, records: Iterable[ItemRecord], *, index_text: bool = True) -> list[int]:
        """Add new items or update known ones; returns their positions."""
        out = []
        with self.lock:
            records = list(records)
            self._grow(self.n + len(records))
            for rec in records:
                i = self.pos.get(rec.id)
                if i is None:
                    i = self.n
                    self.pos[rec.id] = i
                    self.ids.append(rec.id)
                    self.item_products.append(())
                    self.n += 1
                else:
                    old_creator = int(self.creator[i])
                    if old_creator >= 0 and i in self.creator_items.get(old_creator, []):
                        self.creator_items[old_creator].remove(i)
                for pid in self.item_products[i]:
                    self.product_items.get(pid, set()).discard(i)
                self.kind[i] = rec.kind
                self.creator[i] = self.creators.get(rec.creator_id)
                self.merchant[i] = self.merchants.get(rec.merchant_id)
                self.published_s[i] = rec.published_s
                self.region[i] = self.region_row.get(rec.region or "", -1)
                self.item_products[i] = rec.product_ids
                self.has_products[i] = bool(rec.product_ids)
                for pid in rec.product_ids:
                    self.product_items.setdefault(pid, set()).add(i)
                if self.creator[i] >= 0:
                    self.creator_items.setdefault(int(self.creator[i]), []).append(i)
                if rec.alive:
                    self.removed.discard(rec.id)
                elif rec.kind == KIND_VIDEO:
                    self.removed.add(rec.id)
                self.alive[i] = rec.alive
                self._derive(i)
                if index_text and rec.words:
                    self.text.add(i, rec.words)
                out.append(i)
            self.version += 1
        return out

    def remove(self, item_id: str) -> bool:
        """Stop serving an item at once (removed-set first: a running request re-checks it)."""
        self.removed.add(item_id)
        i = self.pos.get(item_id)
        if i is not None:
            self.alive[i] = False
        self.version += 1
        return i is not None

    def _derive(self, i: int) -> None:
        """Sellability, category and age restriction of item ``i`` from its products' facts."""
        pids = self.item_products[i]
        if not pids:
            self.sellable[:, i] = True  # nothing to buy: may be shown everywhere
            self.category[i] = -1
            self.restricted[i] = False
            return
        facts = [self.products.get(p) for p in pids]
        known = [f for f in facts if f is not None and f.active]
        for r, region in enumerate(self.regions):
            self.sellable[r, i] = any(region in f.regions for f in known)
        self.category[i] = self.categories.get(known[0].category) if known else -1
        self.restricted[i] = any(f.restricted for f in known)

    def set_products(self, facts: Iterable[ProductFacts]) -> int:
        """Replace products' facts and re-derive the items that show them; returns items touched (facts
        equal to the known ones change nothing: most sales leave a product as sellable as it was)."""
        touched: set[int] = set()
        changed = False
        with self.lock:
            for f in facts:
                if self.products.get(f.id) == f:
                    continue
                changed = True
                self.products[f.id] = f
                touched |= self.product_items.get(f.id, set())
            for i in touched:
                self._derive(i)
            if changed:
                self.version += 1
        return len(touched)

    def unsell_product(self, product_id: str, regions: Iterable[str] | None = None) -> None:
        """A product stopped being sellable (archived, out of stock): take it off at once."""
        with self.lock:
            f = self.products.get(product_id)
            if f is None:
                return
            gone = set(self.regions if regions is None else regions)
            self.products[product_id] = ProductFacts(
                f.id, f.merchant_id, f.title, f.category, f.active and regions is not None,
                f.regions - gone, f.prices, f.image, f.restricted,
            )  # fmt: skip
            for i in self.product_items.get(product_id, set()):
                self._derive(i)
            self.version += 1

    # --- reads --------------------------------------------------------------------------------------------

    def product_pairs(self, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The first ``n`` items' (item, product) pairs as arrays, for passes over the whole catalogue
        with numpy: (item positions, product codes, product ids by code); cached until the index changes."""
        key = (self.version, n)
        if self._pairs is not None and self._pairs[0] == key:
            return self._pairs[1]
        items: list[int] = []
        codes: dict[str, int] = {}
        code: list[int] = []
        for i, pids in enumerate(self.item_products[:n]):
            for pid in pids:
                items.append(i)
                code.append(codes.setdefault(pid, len(codes)))
        pairs = (np.array(items, np.int64), np.array(code, np.int64), list(codes))
        self._pairs = (key, pairs)
        return pairs

    def positions(self, ids: Iterable[str]) -> np.ndarray:
        return np.array([self.pos.get(i, -1) for i in ids], dtype=np.int64)

    def is_removed(self, item_id: str) -> bool:
        return item_id in self.removed

    def servable(self, region: str, n: int | None = None) -> np.ndarray:
        """Mask of items that may be shown in ``region`` now (published, not removed, sellable there)."""
        n = self.n if n is None else n
        r = self.region_row.get(region)
        mask = self.alive[:n].copy()
        if r is not None:
            mask &= self.sellable[r, :n]
        return mask

    def set_model(self, model: Any) -> None:
        """Map every item to its row in ``model`` (-1: not in the model, e.g. live rooms, new videos)."""
        with self.lock:
            n = self.n
            mapped = model.item_indices(self.ids[:n]) if model is not None else np.full(n, -1)
            self.model_idx[:n] = mapped
            self.model_idx[n:] = -1

    def describe(self) -> dict[str, Any]:
        n = self.n
        return {
            "items": n,
            "videos": int(np.sum(self.kind[:n] == KIND_VIDEO)),
            "live_rooms": int(np.sum((self.kind[:n] == KIND_LIVE) & self.alive[:n])),
            "servable": int(np.sum(self.alive[:n])),
            "products": len(self.products),
            "removed": len(self.removed),
        }
