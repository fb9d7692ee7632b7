"""Per-item interaction counters that fade with time: outcome rates for the ranking heads, and trending
per region. Fed by the online learner from the event stream; saved in snapshots so a restart resumes.

Fading uses a moving reference time: an event at time t adds w·2^((t − t_ref)/h), and a reading at time
``now`` multiplies by 2^(−(now − t_ref)/h). Rates divide two counters with the same half-life, so they
need no rescaling at all; the reference moves forward (rescaling everything once) before the exponent
could overflow.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

# Rate counters (one row each), with the event types that feed them
FIELDS = ("impressions", "views", "completions", "like_share", "clicks", "carts", "purchases", "reports", "skips",
          "not_interested")  # fmt: skip
F = {name: i for i, name in enumerate(FIELDS)}
# How much one event pushes an item up the trending list of the viewer's region
TREND_WEIGHTS = {"view_complete": 1.0, "like": 2.0, "share": 3.0, "comment": 2.0, "product_click": 2.0,
                 "add_to_cart": 3.0, "purchase": 5.0}  # fmt: skip
HOUR_MS = 3_600_000.0


class Decayed:
    """A float64 matrix (rows × capacity) of counters fading with half-life ``half_life_ms``."""

    def __init__(self, rows: int, capacity: int, half_life_ms: float) -> None:
        self.values = np.zeros((rows, capacity), np.float64)
        self.half_life = float(half_life_ms)
        self.t_ref: float | None = None
        self._lock = threading.Lock()

    def grow(self, capacity: int) -> None:
        with self._lock:
            if capacity > self.values.shape[1]:
                grown = np.zeros((self.values.shape[0], capacity), np.float64)
                grown[:, : self.values.shape[1]] = self.values
                self.values = grown

    def add(self, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, t_ms: np.ndarray) -> None:
        if len(cols) == 0:
            return
        with self._lock:
            t_max = float(np.max(t_ms))
            if self.t_ref is None:
                self.t_ref = t_max
            elif (t_max - self.t_ref) / self.half_life > 30:  # rebase before 2^x grows huge
                self.values *= 2.0 ** (-(t_max - self.t_ref) / self.half_life)
                self.t_ref = t_max
            scale = np.exp2(np.clip((t_ms - self.t_ref) / self.half_life, -60, 60))
            np.add.at(self.values, (rows, cols), weights * scale)

    def factor(self, now_ms: float) -> float:
        if self.t_ref is None:
            return 1.0
        return float(2.0 ** (-(now_ms - self.t_ref) / self.half_life))

    def state(self, n: int) -> dict[str, Any]:
        return {"values": self.values[:, :n].copy(), "t_ref": self.t_ref}

    def load(self, values: np.ndarray, t_ref: float | None, index_map: np.ndarray) -> None:
        """Put saved columns back at their new positions (``index_map[j]`` = new column of saved j, -1 = gone)."""
        with self._lock:
            keep = index_map >= 0
            self.values[:, index_map[keep]] = values[:, keep]
            self.t_ref = t_ref


class ItemStats:
    """Outcome counters (``FIELDS``) and trending per region (+ one row for all regions) per item."""

    def __init__(self, regions: tuple[str, ...], capacity: int, rates_half_life_days: float,
                 trend_half_life_hours: float) -> None:  # fmt: skip
        self.regions = regions
        self.region_row = {r: i for i, r in enumerate(regions)}
        self.rates = Decayed(len(FIELDS), capacity, rates_half_life_days * 24 * HOUR_MS)
        self.trend = Decayed(len(regions) + 1, capacity, trend_half_life_hours * HOUR_MS)
        self.last_ms = 0.0

    def grow(self, capacity: int) -> None:
        self.rates.grow(capacity)
        self.trend.grow(capacity)

    def apply(self, effects: list[tuple[int, int, float, float, int]]) -> None:
        """effects: (item, field, amount, t_ms, region row or -1 for unknown) with field < 0 meaning trend only."""
        if not effects:
            return
        arr = np.array(effects, dtype=np.float64)
        items, fields, amounts, ts, regions = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2], \
            arr[:, 3], arr[:, 4].astype(np.int64)  # fmt: skip
        rate = fields >= 0
        self.rates.add(fields[rate], items[rate], amounts[rate], ts[rate])
        trend = fields < 0
        if trend.any():
            all_row = len(self.regions)
            t_items, t_amounts, t_ts, t_regions = items[trend], amounts[trend], ts[trend], regions[trend]
            self.trend.add(np.full(len(t_items), all_row), t_items, t_amounts, t_ts)
            known = t_regions >= 0
            self.trend.add(t_regions[known], t_items[known], t_amounts[known], t_ts[known])
        self.last_ms = max(self.last_ms, float(ts.max()))

    def counts(self, items: np.ndarray, now_ms: float) -> np.ndarray:
        """Faded counts (len(FIELDS) × len(items)) at ``now_ms``."""
        return self.rates.values[:, items] * self.rates.factor(now_ms)

    def trending(self, region: str | None, n: int) -> np.ndarray:
        row = self.region_row.get(region or "", len(self.regions))
        return self.trend.values[row, :n]

    def trend_score(self, region: str, items: np.ndarray | slice, now_ms: float) -> np.ndarray:
        """Trending in the region, plus a third of trending everywhere (viewers whose region is unknown)."""
        row = self.region_row.get(region, len(self.regions))
        values = self.trend.values
        return (values[row, items] + 0.3 * values[len(self.regions), items]) * self.trend.factor(now_ms)


def event_effects(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(item field name, counter name) pairs an event adds 1 to; 'trend:<kind>' names trend weights."""
    kind = data.get("type")
    out: list[tuple[str, str]] = []
    media = "video_id" if "video_id" in data else ("live_room_id" if "live_room_id" in data else None)
    if media is None:
        return out
    if kind == "impression":
        out.append((media, "impressions"))
    elif kind == "view_start":
        out.append((media, "views"))
    elif kind == "view_end" and float(data.get("watch_ratio", 0.0)) >= 0.9:
        out += [(media, "completions"), (media, "trend:view_complete")]
    elif kind in ("like", "share"):
        if not data.get("undo"):
            out += [(media, "like_share"), (media, f"trend:{kind}")]
    elif kind == "comment":
        out.append((media, "trend:comment"))
    elif kind == "product_click":
        out += [(media, "clicks"), (media, "trend:product_click")]
    elif kind == "add_to_cart":
        out += [(media, "carts"), (media, "trend:add_to_cart")]
    elif kind == "purchase":
        out += [(media, "purchases"), (media, "trend:purchase")]
    elif kind in ("report", "skip", "not_interested"):
        out.append((media, {"report": "reports", "skip": "skips", "not_interested": "not_interested"}[kind]))
    return out
