"""Which events were appended recently: an exact, compact, in-memory set of 64-bit keys with a time window.

Keeping the keys in a SQL index costs a random page write per key (each commit rewrites every touched
index page into the WAL: a measured 3-5x slowdown); the keys are already in the log, so the log's own
rows are the durable copy and this set is rebuilt from them at start and kept current from other
processes' appends. Layout, per generation (half a window of server time): a Python set for the newest
keys, frozen into sorted NumPy runs that merge like a binary counter, so a batch lookup is one set probe
per key plus a vectorised binary search in a logarithmic number of runs, at 8 bytes per key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class _Generation:
    __slots__ = ("fresh", "runs", "size")

    def __init__(self) -> None:
        self.fresh: set[int] = set()
        self.runs: list[np.ndarray] = []
        self.size = 0


class RecentKeys:
    def __init__(self, window_ms: int, *, freeze_at: int = 65_536, max_keys: int = 50_000_000) -> None:
        self._gen_ms = max(1, window_ms // 2)
        self._freeze_at = freeze_at
        self._max_keys = max_keys  # a memory ceiling (8 bytes a key); the oldest generation goes first
        self._gens: dict[int, _Generation] = {}

    def __len__(self) -> int:
        return sum(g.size for g in self._gens.values())

    def add(self, keys: Iterable[int], recv_ms: int) -> None:
        number = recv_ms // self._gen_ms
        gen = self._gens.get(number)
        if gen is None:
            gen = self._gens[number] = _Generation()
            # Three generations of half a window each: every key is kept for at least one window.
            for old in [n for n in self._gens if n < number - 2]:
                del self._gens[old]
        before = len(gen.fresh)
        gen.fresh.update(keys)
        gen.size += len(gen.fresh) - before
        if len(gen.fresh) >= self._freeze_at:
            self._freeze(gen)
        while len(self) > self._max_keys and len(self._gens) > 1:
            del self._gens[min(self._gens)]

    @staticmethod
    def _freeze(gen: _Generation) -> None:
        run = np.fromiter(gen.fresh, dtype=np.int64, count=len(gen.fresh))
        run.sort()
        gen.fresh = set()
        gen.runs.append(run)
        # Merge while the newest run is at least half the size of the one before: O(log n) runs.
        while len(gen.runs) > 1 and len(gen.runs[-1]) * 2 >= len(gen.runs[-2]):
            b = gen.runs.pop()
            a = gen.runs.pop()
            merged = np.concatenate((a, b))
            merged.sort(kind="mergesort")
            gen.runs.append(merged)

    def contains_many(self, keys: Sequence[int]) -> list[bool]:
        found = [False] * len(keys)
        if not keys or not self._gens:
            return found
        array: np.ndarray | None = None
        for gen in self._gens.values():
            if gen.fresh:
                fresh = gen.fresh
                for i, key in enumerate(keys):
                    if key in fresh:
                        found[i] = True
            for run in gen.runs:
                if array is None:
                    array = np.asarray(keys, dtype=np.int64)
                idx = np.searchsorted(run, array)
                idx[idx == len(run)] = len(run) - 1
                for i in np.flatnonzero(run[idx] == array):
                    found[int(i)] = True
        return found
